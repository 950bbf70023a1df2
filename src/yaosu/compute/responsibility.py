"""Compute's part in responsibility boundaries (责任边界): the filed algorithm a contract names.
A contract names its algorithm in words (a name, a filing number or an id) and lives in
authorization, a domain below this one that cannot read algorithms; compute registers how to
find it, so a contract's page, API response and documents show the algorithm's name and filing
number (网信算备…号) and link to its public register entry. Only an algorithm with a filing
number is found: one not filed yet is shown as the contract names it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yaosu.authorization import service as authorization
from yaosu.compute.models import Algorithm


def named(alg: Algorithm) -> dict[str, Any]:
    """What a responsibility statement says of an algorithm."""
    return {
        "id": alg.id,
        "name": alg.name,
        "filing_number": alg.filing_number,
        "org_id": alg.org_id,
    }


@authorization.register_algorithm_finder
def find_named(session: Session, text: str) -> dict[str, Any] | None:
    """The filed algorithm ``text`` names (as ``jobs.names_algorithm`` matches it): by id or
    filing number first, else the latest filed of that name."""
    filed = select(Algorithm).where(Algorithm.filing_number.is_not(None))
    alg = session.scalars(
        filed.where(or_(Algorithm.id == text, Algorithm.filing_number == text)).limit(1)
    ).first()
    if alg is None:
        alg = session.scalars(
            filed.where(Algorithm.name == text).order_by(Algorithm.filed_at.desc()).limit(1)
        ).first()
    return named(alg) if alg is not None else None
