"""Search that finds Chinese without spaces, on SQLite and PostgreSQL alike.

Text is cut into terms: each CJK character and each pair of neighbouring CJK
characters (bigrams), and lower-cased Latin words and numbers. "农产品" becomes
农, 产, 品, 农产, 产品 and matches a title holding 农产品 anywhere. A query
matches a dataset holding all its terms; rank is the sum of field weights
(title over keywords over description). A dictionary segmenter such as jieba
would miss new words and names; bigrams miss nothing and need no dictionary.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")

WEIGHTS = {"title": 5.0, "keywords": 3.0, "theme": 2.0, "publisher": 1.5, "description": 1.0}


def terms(text: str) -> list[str]:
    """Index terms of a text.

    >>> terms("2024年农产品 Sales")
    ['2024', '年', '农', '产', '品', '年农', '农产', '产品', 'sales']
    """
    normalised = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for run in _RUN.findall(normalised):
        if run[0].isascii():
            out.append(run[:64])
            continue
        for i in range(len(run)):
            out.append(run[i])
        for i in range(len(run) - 1):
            out.append(run[i : i + 2])
    return out


def query_terms(text: str) -> list[str]:
    """Terms a query must match. For a CJK run longer than one character the bigrams
    suffice (the single characters add nothing); a lone character is kept."""
    normalised = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for run in _RUN.findall(normalised):
        if run[0].isascii() or len(run) == 1:
            out.append(run[:64])
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return list(dict.fromkeys(out))


def index_terms(fields: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Term -> weight for a document given (field, text) pairs; the best field wins."""
    weights: dict[str, float] = {}
    for field, text in fields:
        w = WEIGHTS[field]
        for term in terms(text):
            if weights.get(term, 0.0) < w:
                weights[term] = w
    return weights
