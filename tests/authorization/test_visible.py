"""The SQL form of each view rule agrees with the yes/no form: for every demo actor (and no
login, the local operator, and narrowed tokens) and every row of each listed type in the demo
world, ``decide(actor, "<type>.view", resource_of(row))`` allows exactly the rows that
``visible(actor, "<type>.view", ROWS)`` keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import actor, dataset_id
from yaosu.accounts.models import User
from yaosu.audit import entries as audit_entries
from yaosu.audit.models import AuditEntry
from yaosu.authorization import contracts, requests
from yaosu.authorization.models import AccessRequest, Contract
from yaosu.authorization.policy import Resource, Rows, decide, visible
from yaosu.catalog import service as catalog
from yaosu.catalog.models import Dataset
from yaosu.context import Context
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.ids import new_id
from yaosu.kernel.tasks.models import Task
from yaosu.market import negotiation, periods, products
from yaosu.market.models import Negotiation, Product, RevenuePeriod
from yaosu.rights import registration
from yaosu.rights import service as rights
from yaosu.rights.models import Grant, Registration
from yaosu.tasks import service as tasks
from yaosu.web.deps import ANONYMOUS


@dataclass(frozen=True)
class Listed:
    action: str
    model: Any
    key: Any  # the primary-key column
    rows: Rows
    resource: Callable[[Session, Any], Resource]


def _entry(session: Session, e: AuditEntry) -> Resource:
    about = {"actor_org_id": e.actor_org_id, "object_org_id": e.object_org_id}
    return Resource("audit", str(e.leaf_index), None, about)


LISTED = [
    Listed("dataset.view", Dataset, Dataset.id, catalog.ROWS, lambda s, d: catalog.resource(d)),
    Listed("job.view", Task, Task.id, tasks.ROWS, lambda s, t: tasks.resource(t)),
    Listed("audit.view", AuditEntry, AuditEntry.leaf_index, audit_entries.ROWS, _entry),
    Listed(
        "registration.view",
        Registration,
        Registration.id,
        registration.ROWS,
        lambda s, r: registration.registration_resource(s, reg=r),
    ),
    Listed(
        "right.view", Grant, Grant.id, rights.ROWS, lambda s, g: rights.grant_resource(s, grant=g)
    ),
    Listed(
        "request.view",
        AccessRequest,
        AccessRequest.id,
        requests.ROWS,
        lambda s, r: requests.request_resource(s, req=r),
    ),
    Listed(
        "contract.view",
        Contract,
        Contract.id,
        contracts.ROWS,
        lambda s, c: contracts.contract_resource(c),
    ),
    # the contracts one may accept for one's organisation (a list of those awaiting it)
    Listed(
        "contract.accept",
        Contract,
        Contract.id,
        contracts.ROWS,
        lambda s, c: contracts.contract_resource(c),
    ),
    Listed(
        "product.view",
        Product,
        Product.id,
        products.ROWS,
        lambda s, p: products.product_resource(s, product=p),
    ),
    Listed(
        "negotiation.view",
        Negotiation,
        Negotiation.id,
        negotiation.ROWS,
        lambda s, n: negotiation.negotiation_resource(s, deal=n),
    ),
    Listed(
        "period.view",
        RevenuePeriod,
        RevenuePeriod.id,
        periods.ROWS,
        lambda s, p: periods.period_resource(p),
    ),
]


def _actors(ctx: Context) -> list[Actor]:
    with ctx.db.transaction() as session:
        usernames = list(session.scalars(select(User.username).order_by(User.username)))
    people = [actor(ctx, u) for u in usernames]
    narrowed = [replace(people[0], scopes=frozenset({"write"}), via="token")]
    narrowed += [replace(p, scopes=frozenset({"read"}), via="token") for p in people[:2]]
    return [*people, *narrowed, ANONYMOUS, system_actor()]


def _jobs(ctx: Context) -> None:
    """The demo world has no jobs: one per (creator, object's organisation) pair, so that
    "mine" and "my organisation's" each hold without the other."""
    people = _actors(ctx)[:4]
    with ctx.db.transaction() as session:
        for who in people:
            for owner in {p.org_id for p in people} | {None}:
                session.add(
                    Task(
                        id=new_id("task"),
                        kind="privacy.screen",
                        params={},
                        actor={"id": who.id},
                        created_by=who.id,
                        object_type="dataset",
                        object_id="ds_test",
                        object_org_id=owner,
                    )
                )


def _applications(ctx: Context) -> None:
    """The demo world's registrations are all published: add two under way, an original
    right and a licence (whose holder is not its applicant)."""
    bureau, insured = actor(ctx, "bureau-admin"), dataset_id(ctx, "参保人员")
    licensee = actor(ctx, "coop-manager").org_id  # neither the grantor nor oversight
    with ctx.db.transaction() as session:
        granted = session.scalar(select(Grant).where(Grant.status == "active"))
        assert granted is not None
        holder = next(
            u.username
            for u in session.scalars(select(User).where(User.org_id == granted.holder_org_id))
            if u.role == "admin"
        )
    grantor = actor(ctx, holder)
    with ctx.db.transaction() as session:
        rights.apply(
            session,
            bureau,
            settings=ctx.settings,
            kind="holding",
            dataset_id=insured,
            statement="测试：原始持有权。",
        )
        rights.apply(
            session,
            grantor,
            settings=ctx.settings,
            kind="processing",
            dataset_id=granted.object_id,
            statement="测试：许可加工使用权。",
            years=1,
            parent_id=granted.id,
            holder_org_id=licensee,
        )


@pytest.mark.parametrize("listed", LISTED, ids=lambda t: t.action)
def test_visible_keeps_exactly_what_decide_allows(ctx: Context, listed: Listed) -> None:
    if listed.model is Task:
        _jobs(ctx)
    if listed.model in (Registration, Grant):
        _applications(ctx)
    with ctx.db.transaction() as session:
        rows = list(session.scalars(select(listed.model)))
        resources = {getattr(r, listed.key.key): listed.resource(session, r) for r in rows}
    assert resources, listed.action
    seen_some, missed_some = False, False
    for who in _actors(ctx):
        with ctx.db.transaction() as session:
            kept = set(
                session.scalars(select(listed.key).where(visible(who, listed.action, listed.rows)))
            )
        for key, res in resources.items():
            allowed = decide(who, listed.action, res).allowed
            assert (key in kept) == allowed, (who.username, who.scopes, listed.action, key)
            seen_some |= allowed
            missed_some |= not allowed
    assert seen_some and missed_some, listed.action  # both answers were tested


def test_actions_without_an_sql_form_are_a_programming_error(ctx: Context) -> None:
    with pytest.raises(ValueError, match="no SQL form"):
        visible(system_actor(), "dataset.edit", catalog.ROWS)
    with pytest.raises(ValueError, match="no SQL form"):
        visible(system_actor(), "org.view", Rows("organisation", None))


# Defects found where a listing's own filter disagreed with the rule (regression tests).


def test_no_login_and_write_only_tokens_list_no_audit_entries(ctx: Context) -> None:
    """The audit listing's own filter compared ``actor_org_id == None`` (SQL ``IS NULL``): an
    actor without an organisation listed every entry made by the local operator, and a token
    without the read scope listed its organisation's, where ``audit.view`` allows neither."""
    writer = replace(actor(ctx, "bureau-admin"), scopes=frozenset({"write"}), via="token")
    with ctx.db.transaction() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.actor_org_id.is_(None)))
        for who in (ANONYMOUS, writer):
            assert audit_entries.list_entries(session, who, limit=500) == ([], 0), who.username


def test_registrations_list_what_registration_view_allows(ctx: Context) -> None:
    """The registrations listing showed a non-oversight organisation only its own
    applications: not a licence registered to it by its grantor, nor published
    registrations, which ``registration.view`` allows it; and it ignored a token's scopes."""
    _applications(ctx)
    with ctx.db.transaction() as session:
        licence = session.scalar(
            select(Registration)
            .join(Grant, Grant.id == Registration.grant_id)
            .where(Grant.source == "licence", Registration.status == "applied")
        )
        assert licence is not None
        holder = session.get(Grant, licence.grant_id).holder_org_id  # type: ignore[union-attr]
        published = set(
            session.scalars(
                select(Registration.id).where(
                    Registration.status.in_(("in_notice", "registered", "rejected"))
                )
            )
        )
        members = list(session.scalars(select(User.username).where(User.org_id == holder)))
    assert members
    licensee = actor(ctx, members[0])
    writer = replace(licensee, scopes=frozenset({"write"}), via="token")
    with ctx.db.transaction() as session:
        listed = {r.id for r in rights.list_registrations(session, licensee)}
        assert licence.id in listed and published <= listed
        assert rights.list_registrations(session, writer) == []
