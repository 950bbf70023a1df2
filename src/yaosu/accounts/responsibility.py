"""Responsibility boundaries (责任边界): who answers for what in a contract, a data product, a
compute job or a registered right. Each party is an organisation in one part (the data's
provider, a product's operator, the platform, an algorithm's provider, the data user) with its
duties, and each duty cites the rule it comes from. Contracts, products, jobs and certificates
all state theirs through ``accounts.service.boundaries``, which fills in the organisations; the
parties are organisations, so the statement lives with them, below every domain that shows or
signs one. The words are labels (``accounts.labels``): a part, a duty, a rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from yaosu.accounts.labels import RESPONSIBILITY, RESPONSIBILITY_DUTY, RESPONSIBILITY_RULE
from yaosu.kernel.i18n import label

PROVIDER = "provider"  # 数据提供方: holds the data a use or product is made from
SELLER = "seller"  # 数据产品经营方: operates a product under its product-operation right
OPERATOR = "operator"  # 平台运营方: the exchange
ALGORITHM_PROVIDER = "algorithm_provider"  # 算法服务提供者: files the algorithm that runs
CONSUMER = "consumer"  # 数据使用方: uses the data, buys the product
PARTS = (PROVIDER, SELLER, OPERATOR, ALGORITHM_PROVIDER, CONSUMER)

# (part, duty, the rule it cites, when it applies): None always, "personal" when personal
# information is involved, "algorithm" when a filed algorithm runs on the data.
DUTIES: tuple[tuple[str, str, str, str | None], ...] = (
    (PROVIDER, "provider.source", "dsl_32", None),
    (PROVIDER, "provider.security", "dsl_27", None),
    (PROVIDER, "provider.personal", "pipl_23", "personal"),
    (PROVIDER, "provider.approval", "terms", "algorithm"),
    (SELLER, "seller.operation", "data20_rights", None),
    (SELLER, "seller.security", "dsl_27", None),
    (OPERATOR, "operator.intermediary", "dsl_33", None),
    (OPERATOR, "operator.security", "ndsr_9", None),
    (OPERATOR, "operator.circulation", "data20_circulation", None),
    (ALGORITHM_PROVIDER, "algorithm_provider.safety", "arr_7", None),
    (ALGORITHM_PROVIDER, "algorithm_provider.filing", "arr_24", None),
    (CONSUMER, "consumer.purpose", "terms", None),
    (CONSUMER, "consumer.personal", "pipl_23", "personal"),
    (CONSUMER, "consumer.security", "dsl_27", None),
)


def _both(kind: str, code: str) -> dict[str, str]:
    """A label in both languages, as a signed document and an API response carry it."""
    message = label(kind, code)
    return {"zh": message.render("zh-CN"), "en": message.render("en")}


def duties_of(
    part: str, *, personal: bool = False, algorithm: bool = False
) -> list[dict[str, Any]]:
    """The duties of one part, each with its text and the rule it cites, in both languages.

    >>> [d["duty"] for d in duties_of("consumer", personal=True)]
    ['consumer.purpose', 'consumer.personal', 'consumer.security']
    """
    applies = {None, *(["personal"] if personal else []), *(["algorithm"] if algorithm else [])}
    return [
        {
            "duty": duty,
            "rule": rule,
            "text": _both(RESPONSIBILITY_DUTY, duty),
            "rule_text": _both(RESPONSIBILITY_RULE, rule),
        }
        for owner, duty, rule, when in DUTIES
        if owner == part and when in applies
    ]


def statement(
    parties: Iterable[tuple[str, str | None]],
    *,
    names: Mapping[str, str],
    personal: bool = False,
    algorithm: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The parts, in the order given, as JSON: ``part``, ``org_id``, ``org_name`` (None when
    the party is not known yet, as a product's buyer), ``part_text`` and ``duties``; the
    algorithm provider's also ``algorithm`` (its id, name and filing number)."""
    out = []
    for part, org_id in parties:
        entry: dict[str, Any] = {
            "part": part,
            "org_id": org_id,
            "org_name": names.get(org_id) if org_id else None,
            "part_text": _both(RESPONSIBILITY, part),
            "duties": duties_of(part, personal=personal, algorithm=algorithm is not None),
        }
        if part == ALGORITHM_PROVIDER and algorithm is not None:
            entry["algorithm"] = {
                "id": algorithm.get("id"),
                "name": algorithm.get("name"),
                "filing_number": algorithm.get("filing_number"),
            }
        out.append(entry)
    return out
