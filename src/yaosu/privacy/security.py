"""Public-security screening: keyword dictionaries (Aho-Corasick) and rules that flag a
dataset for human review. The default dictionary is small on purpose; deployments point
``YAOSU_SECURITY_KEYWORDS_FILE`` at their own (one keyword per line, UTF-8)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import ahocorasick
import pyarrow as pa
import pyarrow.compute as pc

from yaosu.privacy.scan import Screen as Scan

DEFAULT_KEYWORDS: tuple[str, ...] = (
    "国家秘密",
    "绝密",
    "机密",
    "涉密",
    "军事管理区",
    "军事禁区",
    "军工",
    "弹药",
    "爆炸物",
    "核设施",
    "武器装备",
    "警卫目标",
    "监控点位",
    "公安内部",
    "反恐",
)
POPULATION_COVERAGE = 1_000_000  # rows of personal information that amount to a population


@cache
def automaton(path: str | None) -> ahocorasick.Automaton:
    words = DEFAULT_KEYWORDS
    if path:
        words = tuple(
            w.strip() for w in Path(path).read_text(encoding="utf-8").splitlines() if w.strip()
        )
    machine = ahocorasick.Automaton()
    for word in words:
        machine.add_word(word, word)
    machine.make_automaton()
    return machine


def flags(
    table: pa.Table, scan: Scan, *, total_rows: int, keywords_file: str | None = None
) -> list[str]:
    """Reasons for human review, each a short sentence naming the column or rule."""
    machine = automaton(keywords_file)
    out: list[str] = []
    for name in [*table.column_names]:
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        hits = set()
        for value in pc.unique(column.drop_null()).to_pylist()[:200_000]:
            for _, word in machine.iter(value):
                hits.add(word)
        if hits:
            out.append(f"keywords in column {name}: {', '.join(sorted(hits))}")
    for column in scan.columns:
        for e in column.entities:
            if e.entity == "COORDINATE" and e.share * total_rows >= 1000:
                out.append(f"high-precision coordinates in column {column.column}")
            if e.personal and e.share * total_rows >= POPULATION_COVERAGE:
                out.append(f"personal information covering a population in column {column.column}")
    return out
