"""Grading under GB/T 43697-2024 (数据安全技术 数据分类分级规则): general, important, core.

The rules are explicit and each grade says which rule produced it and on which factors
(domain, scale, precision, coverage), because a reviewer must be able to check it. Core
data is never proposed automatically: only a reviewer can grade data as core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yaosu.privacy.scan import Screen as Scan

# Thresholds in the spirit of the 重要数据识别 guidance: personal information at scale,
# sensitive personal information at a smaller scale, precise location at scale.
PERSONAL_AT_SCALE = 1_000_000
SENSITIVE_AT_SCALE = 100_000
LOCATION_AT_SCALE = 10_000
GRADES = ("general", "important", "core")


@dataclass
class Grade:
    grade: str
    rule: str
    factors: dict[str, Any] = field(default_factory=dict)


def grade(
    scan: Scan,
    *,
    total_rows: int,
    domain: str,
    security_flags: list[str],
    deidentified: list[str] | None = None,
) -> Grade:
    """``total_rows`` is the whole version's size: a fast scan of a sample scales its shares.
    ``deidentified``: the version was de-identified from personal information but not
    anonymised, so every row is still about a person (with these sensitive categories),
    whatever the scan can still see."""
    personal_share = max(
        (e.share for c in scan.columns for e in c.entities if e.personal), default=0.0
    )
    sensitive_share = max(
        (e.share for c in scan.columns for e in c.entities if e.personal and e.sensitive),
        default=0.0,
    )
    if deidentified is not None:
        personal_share = 1.0
        if deidentified:
            sensitive_share = 1.0
    location_share = max(
        (e.share for c in scan.columns for e in c.entities if e.sensitive == "precise_location"),
        default=0.0,
    )
    personal_rows = round(personal_share * total_rows)
    sensitive_rows = round(sensitive_share * total_rows)
    location_rows = round(location_share * total_rows)
    factors: dict[str, Any] = {
        "domain": domain,
        "rows": total_rows,
        "personal_rows": personal_rows,
        "sensitive_rows": sensitive_rows,
        "precise_location_rows": location_rows,
        "sensitive_categories": sorted(set(scan.sensitive_categories) | set(deidentified or [])),
        "security_flags": security_flags,
    }
    if deidentified is not None:
        factors["deidentification"] = "deidentified"
    if security_flags:
        return Grade("important", "public-security screen flagged the data for review", factors)
    if sensitive_rows >= SENSITIVE_AT_SCALE:
        return Grade(
            "important",
            f"sensitive personal information of >= {SENSITIVE_AT_SCALE:,} people",
            factors,
        )
    if personal_rows >= PERSONAL_AT_SCALE:
        return Grade(
            "important", f"personal information of >= {PERSONAL_AT_SCALE:,} people", factors
        )
    if location_rows >= LOCATION_AT_SCALE:
        return Grade("important", f"precise locations in >= {LOCATION_AT_SCALE:,} rows", factors)
    return Grade("general", "no rule for important or core data applies", factors)
