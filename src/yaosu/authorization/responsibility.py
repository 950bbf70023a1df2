"""A contract's responsibility boundaries (责任边界): its providers, the platform, the provider
of the algorithm a compute contract names, and the data user, each with its duties (the one
statement, ``accounts.service.boundaries``). What a contract names is a text (an algorithm's
name, filing number or id); algorithms are compute's, a domain above this one, so compute
registers how to find one (``register_algorithm_finder``), as a page's package registers its
navigation badge. Without a finder, or when nothing filed matches, the algorithm is shown as
the contract names it, without a filing number."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization.models import Contract
from yaosu.authorization.operations import Operation
from yaosu.catalog import service as catalog
from yaosu.privacy.service import confirmed_screen

# (session, what the contract names) -> {"id", "name", "filing_number", "org_id"} or None
AlgorithmFinder = Callable[[Session, str], dict[str, Any] | None]
_FINDERS: list[AlgorithmFinder] = []


def register_algorithm_finder(finder: AlgorithmFinder) -> AlgorithmFinder:
    if finder not in _FINDERS:
        _FINDERS.append(finder)
    return finder


def named_algorithm(session: Session, *, named: str | None) -> dict[str, Any] | None:
    """The filed algorithm a contract names, or, when none is found, the name as written."""
    text = (named or "").strip()
    if not text:
        return None
    for finder in _FINDERS:
        found = finder(session, text)
        if found is not None:
            return found
    return {"id": None, "name": text, "filing_number": None, "org_id": None}


def personal_in(session: Session, *, versions: Iterable[tuple[str, int | None]]) -> bool:
    """Whether any of these dataset versions (None: the latest) holds personal information,
    by its confirmed screen."""
    for dataset_id, number in versions:
        if number is None:
            ds = catalog.find_dataset(session, dataset_id=dataset_id)
            number = ds.latest_version if ds is not None else None
        if number is None:
            continue
        screen = confirmed_screen(session, dataset_id=dataset_id, version=number)
        if screen is not None and screen.personal:
            return True
    return False


def contract_boundaries(session: Session, *, contract: Contract) -> list[dict[str, Any]]:
    """Who answers for what under a contract: each provider, the platform, the algorithm's
    provider when it permits compute-to-data with a named algorithm, the data user."""
    algorithm = (
        named_algorithm(session, named=contract.algorithm)
        if Operation.compute in contract.operations
        else None
    )
    return accounts.boundaries(
        session,
        providers=contract.provider_org_ids,
        consumer=contract.consumer_org_id,
        algorithm=algorithm,
        personal=personal_in(session, versions=((d, None) for d in contract.datasets)),
    )
