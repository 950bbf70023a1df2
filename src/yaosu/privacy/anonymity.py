"""Whether a de-identified version is still personal information, or anonymised.

Under PIPL Art. 73, de-identified (去标识化) data is still personal information; only
anonymised (匿名化) data, which cannot identify anyone and cannot be restored, is not. A
derivation counts as anonymised here only when the result meets a stated standard (GB/T
37964-2019 and GB/T 35273-2020), measured on the result itself, not on what the recipe says:

- no direct identifier left (the re-screen finds no personal information);
- no pseudonyms (a keyed token still singles a person out, and joins back);
- k-anonymity with k >= ``YAOSU_ANON_K`` on the quasi-identifiers: the recipe's, plus every
  kept column that held personal information in the source, plus every column whose header
  names a quasi-identifier (性别, 年龄, 出生, 地址, 乡镇 ...), so a recipe cannot leave one out;
- l-diversity with l >= ``YAOSU_ANON_L``: in every group, at least l distinct values of the
  sensitive attribute the recipe declares or, when it declares none, of every other
  attribute that varies at all (a recipe cannot skip l by naming nothing).

Everything else is de-identified: still personal information, graded and routed as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from yaosu.privacy.deidentify import Recipe
from yaosu.privacy.scan import Screen as Scan

STANDARD_ZH = "GB/T 37964-2019《个人信息去标识化指南》、GB/T 35273-2020《个人信息安全规范》"
STANDARD_EN = "GB/T 37964-2019 and GB/T 35273-2020"
STANDARD_SHORT = "GB/T 37964-2019、GB/T 35273-2020"
# Headers of attributes that, combined, single people out (GB/T 37964 annex: 准标识符).
QUASI_HINTS = (
    "性别",
    "年龄",
    "出生",
    "生日",
    "民族",
    "籍贯",
    "户籍",
    "地址",
    "住址",
    "住所",
    "居住",
    "省份",
    "城市",
    "区县",
    "乡镇",
    "街道",
    "社区",
    "村",
    "邮编",
    "邮政编码",
    "职业",
    "学历",
    "婚姻",
    "工作单位",
    "gender",
    "birth",
    "postcode",
    "zip",
    "address",
)


def quasi_header(name: str) -> bool:
    """A header that names a quasi-identifier.

    >>> quasi_header("所属乡镇"), quasi_header("缴费档次(元)")
    (True, False)
    """
    lowered = name.lower()
    return any(h in lowered for h in QUASI_HINTS)


@dataclass
class Verdict:
    anonymised: bool
    k_required: int
    l_required: int
    k: int | None
    l: int | None  # noqa: E741 - the letter the literature uses
    quasi_identifiers: list[str]
    sensitive_attributes: list[str]
    pseudonymised: list[str]
    direct_identifiers: dict[str, list[str]]
    residual_identifiers: list[str]
    sensitive_categories: list[str]
    reasons: list[dict[str, str]] = field(default_factory=list)

    @property
    def label_zh(self) -> str:
        if self.anonymised:
            return f"匿名化（符合 {STANDARD_SHORT}，k={self.k}, l={_l(self.l)}）"
        return "去标识化（仍属个人信息）"

    @property
    def label_en(self) -> str:
        if self.anonymised:
            return f"anonymised (meets {STANDARD_EN}, k={self.k}, l={_l(self.l)})"
        return "de-identified (still personal information)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "anonymised" if self.anonymised else "deidentified",
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "standard": STANDARD_ZH,
            "standard_en": STANDARD_EN,
            "k_required": self.k_required,
            "l_required": self.l_required,
            "k": self.k,
            "l": self.l,
            "quasi_identifiers": self.quasi_identifiers,
            "sensitive_attributes": self.sensitive_attributes,
            "pseudonymised": self.pseudonymised,
            "direct_identifiers": self.direct_identifiers,
            "residual_identifiers": self.residual_identifiers,
            "sensitive_categories": self.sensitive_categories,
            "reasons": self.reasons,
        }


def _l(value: int | None) -> str:
    return "—" if value is None else str(value)


def assess(
    table: pa.Table,
    recipe: Recipe,
    rescan: Scan,
    *,
    source_identifying: dict[str, list[str]],
    k_required: int,
    l_required: int,
) -> Verdict:
    """``source_identifying``: the source's columns that held personal information or
    pseudonyms, each with its sensitive categories. The caller asks only when the source
    was personal information."""
    table = _hashable(table)
    names = table.column_names
    reasons: list[dict[str, str]] = []

    direct = {
        c.column: sorted({e.entity for e in c.entities if e.personal})
        for c in rescan.columns
        if any(e.personal for e in c.entities)
    }
    if direct:
        cols = "、".join(direct)
        reasons.append(
            {
                "zh": f"仍含可直接识别个人的信息：{cols}",
                "en": f"direct identifiers are left in {', '.join(direct)}",
            }
        )
    pseudonymised = [
        c for c, step in recipe.columns.items() if step.get("op") == "pseudonymise" and c in names
    ]
    if pseudonymised:
        reasons.append(
            {
                "zh": f"化名（假名）仍可单独识别并关联到个人：{'、'.join(pseudonymised)}",
                "en": f"pseudonyms still single people out: {', '.join(pseudonymised)}",
            }
        )
    kept_identifying = [c for c in names if c in source_identifying]
    quasi = list(
        dict.fromkeys(
            [q for q in recipe.quasi_identifiers if q in names]
            + kept_identifying
            + [c for c in names if quasi_header(c)]
        )
    )
    named = recipe.sensitive
    declared = [named] if named is not None and named in names and named not in quasi else None
    k, ell, attributes = _k_and_l(table, quasi, declared)
    if k < k_required:
        reasons.append(
            {
                "zh": f"准标识符（{'、'.join(quasi) or '无'}）上的 k 匿名仅为 k={k}，低于要求的 k={k_required}",
                "en": f"k-anonymity on the quasi-identifiers ({', '.join(quasi) or 'none'}) is k={k}, below the required k={k_required}",
            }
        )
    if ell is not None and ell < l_required:
        reasons.append(
            {
                "zh": f"l 多样性仅为 l={ell}，低于要求的 l={l_required}（同组记录的 {'、'.join(attributes)} 取值不够多样）",
                "en": f"l-diversity is l={ell}, below the required l={l_required} (values of {', '.join(attributes)} within a group)",
            }
        )
    anonymised = not reasons
    residual = (
        [] if anonymised else list(dict.fromkeys(pseudonymised + list(direct) + kept_identifying))
    )
    carried = sorted({s for c in kept_identifying for s in source_identifying[c]})
    if not anonymised:
        carried = sorted(set(carried) | set(rescan.sensitive_categories))
    return Verdict(
        anonymised=anonymised,
        k_required=k_required,
        l_required=l_required,
        k=k,
        l=ell,
        quasi_identifiers=quasi,
        sensitive_attributes=attributes,
        pseudonymised=pseudonymised,
        direct_identifiers=direct,
        residual_identifiers=residual,
        sensitive_categories=[] if anonymised else carried,
        reasons=reasons,
    )


def _hashable(table: pa.Table) -> pa.Table:
    """Arrow groups and counts distinct only flat values: nested columns (lists, structs from
    JSON) are compared by their JSON text, all-null ones as text."""
    import json

    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, pc.cast(table.column(i), pa.string()))
        elif pa.types.is_nested(f.type):
            text = [
                None
                if v is None
                else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
                for v in table.column(i).to_pylist()
            ]
            table = table.set_column(i, f.name, pa.array(text, pa.string()))
    return table


def _k_and_l(
    table: pa.Table, quasi: list[str], sensitive: list[str] | None
) -> tuple[int, int | None, list[str]]:
    """The smallest quasi-identifier group, and the fewest distinct values any group holds of
    the ``sensitive`` attributes (default: every other attribute that varies in the table;
    None when no attribute is left to tell)."""
    others = sensitive or [
        c
        for c in table.column_names
        if c not in quasi and pc.count_distinct(table.column(c), mode="all").as_py() > 1
    ]
    if table.num_rows == 0:
        return 0, None, others
    if not quasi:
        distinct = [pc.count_distinct(table.column(c), mode="all").as_py() for c in others]
        return table.num_rows, min(distinct, default=None), others
    aggregations: list[Any] = [([], "count_all")]
    aggregations += [(c, "count_distinct", pc.CountOptions(mode="all")) for c in others]
    groups = table.group_by(quasi, use_threads=False).aggregate(aggregations)
    k = int(pc.min(groups.column("count_all")).as_py())
    ell = min(
        (int(pc.min(groups.column(f"{c}_count_distinct")).as_py()) for c in others), default=None
    )
    return k, ell, others
