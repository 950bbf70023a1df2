"""Red lines (技术开发与应用红线): uses that no purpose, review or contract can authorise.

The register is the platform's setting ``red_lines`` (a list of ``RedLine``); each names what
it forbids as data: an algorithm's declared ``uses`` (from the vocabulary ``USES``), the
``subjects`` it acts on (``SUBJECTS``), and the contract purposes it may not serve. A red line
is crossed when *every* part it names is present (a use it lists, and a subject it lists if
it lists any, and a purpose it lists if it lists any). The rules that file an algorithm and
submit a job check them first, before anything that could allow; a caller that does not pass
the register is refused (fail closed), never waved through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from yaosu.kernel.i18n import N_, register_labels

USE = "algorithm_use"
SUBJECT = "algorithm_subject"

# What an algorithm may declare it does, and to whom; the filing form offers these.
USES = {
    "forecasting": N_("forecasting aggregate demand or supply"),
    "allocation": N_("allocating resources"),
    "statistics": N_("statistical analysis"),
    "quality": N_("data quality assessment"),
    "model_training": N_("training a model"),
    "ranking": N_("ranking or selecting content"),
    "recommendation": N_("personalised recommendation"),
    "profiling": N_("profiling individuals"),
    "individual_pricing": N_("setting prices for individuals"),
    "credit_scoring": N_("scoring individuals' credit"),
    "automated_decision": N_("automated decisions about individuals"),
    "reidentification": N_("re-identifying people in de-identified data"),
    "public_opinion": N_("mobilising public opinion"),
}
SUBJECTS = {
    "aggregates": N_("aggregates only (no individual)"),
    "organisations": N_("organisations"),
    "adults": N_("adults"),
    "minors": N_("minors"),
    "elderly": N_("the elderly"),
    "patients": N_("patients"),
}
register_labels(USE, USES)
register_labels(SUBJECT, SUBJECTS)


class RedLine(BaseModel):
    code: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=1, max_length=200)  # shown as it is written in the settings
    uses: list[str] = Field(min_length=1)
    subjects: list[str] = []
    purposes: list[str] = []
    basis: str = ""  # the rule it comes from


# The default register: 个人信息保护法 Art. 24 (no unreasonable differential treatment in
# prices by automated decision), Art. 31 and 未成年人网络保护条例 (minors), 网络数据安全管理条例
# and GB/T 37964 (no re-identification of de-identified data).
DEFAULT_RED_LINES: list[dict[str, Any]] = [
    {
        "code": "discriminatory_pricing",
        "title": "对个人实行不合理的差别化定价（大数据杀熟）",
        "uses": ["individual_pricing"],
        "basis": "个人信息保护法 第二十四条；互联网信息服务算法推荐管理规定 第二十一条",
    },
    {
        "code": "profiling_minors",
        "title": "对未成年人进行画像或个性化推送",
        "uses": ["profiling", "recommendation", "individual_pricing", "credit_scoring"],
        "subjects": ["minors"],
        "basis": "未成年人网络保护条例；互联网信息服务算法推荐管理规定 第十八条",
    },
    {
        "code": "reidentification",
        "title": "对去标识化数据重新识别个人",
        "uses": ["reidentification"],
        "basis": "个人信息保护法 第七十三条；GB/T 37964-2019",
    },
]


def crossed(
    register: Iterable[Mapping[str, Any]],
    *,
    uses: Iterable[str],
    subjects: Iterable[str] = (),
    purpose: str | None = None,
) -> list[dict[str, Any]]:
    """The red lines these uses, subjects and purpose cross (empty: none).

    >>> crossed(DEFAULT_RED_LINES, uses=["profiling"], subjects=["minors"])[0]["code"]
    'profiling_minors'
    >>> crossed(DEFAULT_RED_LINES, uses=["profiling"], subjects=["adults"])
    []
    """
    uses, subjects = set(uses), set(subjects)
    hits = []
    for line in register:
        if not uses & set(line.get("uses", [])):
            continue
        if line.get("subjects") and not subjects & set(line["subjects"]):
            continue
        if line.get("purposes") and purpose not in line["purposes"]:
            continue
        hits.append(dict(line))
    return hits
