"""Privacy's stored codes read as words: the grade rules grading writes are all labelled."""

from __future__ import annotations

import re
from pathlib import Path

from yaosu.kernel.i18n import label, labels
from yaosu.privacy import grading
from yaosu.privacy.labels import GRADE_RULE


def test_every_rule_grading_can_write_has_a_label() -> None:
    source = Path(grading.__file__).read_text(encoding="utf-8")
    written = set()
    for text in re.findall(r'Grade\(\s*"\w+",\s*(f?"[^"]+")', source):
        written.add(eval(text, vars(grading)))  # the f-strings, with grading's thresholds
    assert len(written) == 5, written
    assert written == set(labels(GRADE_RULE))
    assert label(GRADE_RULE, "no rule for important or core data applies").render("zh-CN") == (
        "不符合任何重要数据或核心数据规则"
    )
