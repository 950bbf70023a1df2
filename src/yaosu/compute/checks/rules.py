"""What the output checks apply (``Rules``) and what they say (``Finding``, ``Report``).

The disclosure thresholds are ACRO's defaults (``acro/default.yaml`` in ACRO 1.0.2, the SACRO
project's output checker): ``safe_threshold: 10``, ``safe_nk_n: 2``, ``safe_nk_k: 0.90``,
``safe_pratio_p: 0.10``, ``zeros_are_disclosive: True``. A dataset's provider may set its own
(``Rules.parse``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _

KINDS = ("table", "statistics", "metrics", "report", "model")
# A finding's verdict: "fail" never leaves (raw rows, personal values, a malformed folder);
# "review" leaves only when a person says so (ACRO's disclosure rules, models), as in ACRO,
# whose checks also only say a cell "may need suppressing".
VERDICTS = ("pass", "review", "fail")
MAX_BYTES = 2**40  # the largest output folder a rule may allow (1 TiB)


@dataclass(frozen=True)
class Rules:
    """The checks' thresholds for one job. The defaults are ACRO 1.0.2's (``default.yaml``),
    so an output that passes here would pass ACRO's table checks too."""

    min_cell: int = 10  # ACRO safe_threshold: a cell of fewer records is reviewed
    dominance_n: int = 2  # ACRO safe_nk_n: the n largest contributions ...
    dominance_k: float = 0.9  # ACRO safe_nk_k: ... may not reach this share of the total
    p_ratio: float = 0.1  # ACRO safe_pratio_p: the rest must be at least p of the largest
    zeros_disclosive: bool = True  # ACRO zeros_are_disclosive: an empty cell says "nobody"
    max_output_bytes: int = 256 * 2**20
    max_files: int = 1000
    # The output kinds the algorithm's filing declares; "model" only where the contract lets
    # a trained model leave (a model can memorise its training rows).
    kinds: frozenset[str] = frozenset({"table", "statistics", "metrics", "report"})

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> Rules:
        """A dataset's overrides of the defaults, checked; every problem is named at once."""
        if not isinstance(doc, Mapping):
            raise InvalidInput(problem=_("output-check rules are an object of rule names"))
        names = {f.name for f in fields(cls)}
        problems: list[Message] = []
        unknown = sorted(str(key) for key in doc if key not in names)
        if unknown:
            problems.append(_("unknown output-check rules: {keys}", keys=unknown))
        values: dict[str, Any] = {}

        def whole(key: str, low: int, high: int) -> None:
            value = doc[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                problems.append(
                    _("{key} is a whole number from {low} to {high}", key=key, low=low, high=high)
                )
            else:
                values[key] = value

        def share(key: str, *, zero: bool) -> None:
            value = doc[key]
            number = not isinstance(value, bool) and isinstance(value, (int, float))
            if not number or not (0 <= value <= 1 if zero else 0 < value <= 1):
                problems.append(
                    _("{key} is a number from 0 to 1", key=key)
                    if zero
                    else _("{key} is a number above 0 and at most 1", key=key)
                )
            else:
                values[key] = float(value)

        if "min_cell" in doc:
            whole("min_cell", 1, 1_000_000)
        if "dominance_n" in doc:
            # The harness records the two largest contributions of a cell, so n is 1 or 2.
            whole("dominance_n", 1, 2)
        if "dominance_k" in doc:
            share("dominance_k", zero=False)
        if "p_ratio" in doc:
            share("p_ratio", zero=True)
        if "zeros_disclosive" in doc:
            if isinstance(doc["zeros_disclosive"], bool):
                values["zeros_disclosive"] = doc["zeros_disclosive"]
            else:
                problems.append(_("zeros_disclosive is true or false"))
        if "max_output_bytes" in doc:
            whole("max_output_bytes", 1, MAX_BYTES)
        if "max_files" in doc:
            whole("max_files", 1, 1_000_000)
        if "kinds" in doc:
            kinds = doc["kinds"]
            if (
                not isinstance(kinds, (list, tuple, set, frozenset))
                or not kinds
                or not all(isinstance(k, str) and k in KINDS for k in kinds)
            ):
                problems.append(_("kinds is a list of output kinds from {kinds}", kinds=KINDS))
            else:
                values["kinds"] = frozenset(kinds)
        if problems:
            raise InvalidInput(problem=Sentences(problems))
        return cls(**values)


@dataclass(frozen=True)
class Finding:
    """One thing a check found. The message says what and how many, never the value found:
    the report is shown to the people who must not see it.

    ``check`` is one of files, size, kind (the folder and its outputs' form: always fail),
    raw_rows, raw_values, personal (the inputs or people carried out: always fail), min_cell,
    zeros, dominance, p_ratio (ACRO's disclosure rules: review), model (review) and, under a
    privacy budget, dp (released under differential privacy, held, or refused)."""

    check: str
    verdict: str
    output: str  # the output's name as the manifest gives it, "" for the folder itself
    message: Message
    cells: int = 0  # the cells, rows, values or files concerned

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "verdict": self.verdict,
            "output": self.output,
            "message": {"zh": self.message.render("zh-CN"), "en": self.message.render("en")},
            "cells": self.cells,
        }


def worst(verdicts: Any) -> str:
    """The worst of some verdicts ("pass" when there are none)."""
    return max(verdicts, key=VERDICTS.index, default="pass")


@dataclass(frozen=True)
class Report:
    """The checks' answer for one job's outputs: the worst finding decides. ``outputs`` are
    the manifest's entries as checked, each with the worst verdict of the findings on its
    name (a table and a statistics table of one name share theirs)."""

    findings: tuple[Finding, ...]
    outputs: tuple[dict[str, Any], ...]
    verdict: str

    @classmethod
    def of(cls, findings: list[Finding], outputs: list[dict[str, Any]]) -> Report:
        checked = tuple(
            entry | {"verdict": worst(f.verdict for f in findings if f.output == entry["name"])}
            for entry in outputs
        )
        return cls(tuple(findings), checked, worst(f.verdict for f in findings))

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "findings": [f.as_json() for f in self.findings],
            "outputs": [dict(entry) for entry in self.outputs],
        }
