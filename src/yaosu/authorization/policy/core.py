"""The one decision function, and its SQL form for listings (``visible``). Routes and
services never check ownership inline, and listings never filter by a rule of their own.

``decide(actor, action, resource, context)`` returns a ``Decision`` with its reason
(a ``Message``, rendered in the reader's language) and any obligations the caller must honour (for example
``audit-access``). ``enforce`` raises ``Forbidden`` on a denial, carrying the
denial; ``record_denial`` writes it to the audit log exactly once, whichever door
the request came through: the API's error handler (in its own transaction, after
the caller's was rolled back), a console page that shows the refusal itself, the
CLI, or a background job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, true

from yaosu.audit.service import record
from yaosu.authorization.labels import RESOURCE_TYPE
from yaosu.authorization.policy import (
    audit,
    compute,
    console,
    contracts,
    datasets,
    ethics,
    extracts,
    jobs,
    ledger,
    lineage,
    orders,
    organisations,
    products,
    purposes,
    registrations,
    requests,
    rights,
    shares,
)
from yaosu.authorization.policy.decision import Decision, Resource, Rows, allow, deny
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import Forbidden, NotFound, ScopeMissing, YaosuError
from yaosu.kernel.i18n import _, label

# The API-token scope each action needs. An action missing here is refused: new actions
# must be placed deliberately.
SCOPE_OF = {
    "dataset.view": "read",
    "dataset.read": "read",
    "dataset.profile": "read",
    "dataset.create": "write",
    "dataset.edit": "write",
    "dataset.screen": "write",
    "dataset.review": "write",
    "screen.view": "read",
    "extract.download": "read",
    "org.view": "read",
    "org.manage": "admin",
    "audit.view": "read",
    "audit.checkpoint": "admin",
    "audit.witness": "write",
    "job.view": "read",
    "job.cancel": "write",
    "dataset.request": "write",
    "request.view": "read",
    "request.withdraw": "write",
    "request.review": "write",
    "contract.view": "read",
    "contract.use": "write",  # a use spends the contract's uses and budget, even a dry run
    "contract.accept": "write",  # binds the consumer to the terms (or declines them)
    "contract.manage": "admin",
    "contract.import": "admin",
    "purpose.manage": "admin",
    "right.apply": "write",
    "right.view": "read",
    "registration.view": "read",
    "registration.decide": "admin",
    "registration.object": "write",
    # the market's products, listings, negotiations and revenue periods
    "product.value": "write",
    "product.view": "read",
    "product.create": "write",
    "product.edit": "write",
    "product.submit": "write",
    "product.delist": "write",
    "product.assess": "write",
    "product.publish": "write",
    "product.suspend": "write",
    "product.report": "write",
    "product.review": "write",
    "product.cap": "write",
    "negotiation.view": "read",
    "negotiation.open": "write",
    "negotiation.respond": "write",
    "period.view": "read",
    "period.manage": "write",
    # orders: placing one and every step after it changes it; following it is read
    "order.view": "read",
    "order.create": "write",
    "order.cancel": "write",
    "order.accept": "write",
    "order.dispute": "write",
    "order.escalate": "write",
    "order.resolve": "write",
    # revenue shares: reading one's statement is read; objecting and deciding change them
    "share.view": "read",
    "share.object": "write",
    "share.escalate": "write",
    "share.decide": "write",
    # lineage: reading the record of what was derived from what
    "lineage.view": "read",
    # The market's ledger (issue 14): statements and the reconciliation are read; clearing,
    # bank imports and expiring pendings change the ledger.
    "ledger.view": "read",
    "ledger.reconcile": "read",
    "ledger.settle": "admin",
    "ledger.import": "admin",
    "ledger.expire": "admin",
    # compute: algorithm filing (备案), providers' trusted lists, compute-to-data jobs
    "algorithm.view": "read",
    "algorithm.file": "write",
    "algorithm.change": "write",
    "algorithm.deregister": "write",
    "algorithm.decide": "write",
    "algorithm.trust": "write",
    "algorithm.distrust": "write",
    "algorithm.trusted": "read",
    "compute.view": "read",
    "compute.submit": "write",
    "compute.cancel": "write",
    "compute.approve": "write",
    "compute.review": "write",
    "compute.download": "read",
    # ethics review (科技伦理审查): committees, applications, decisions, expert re-review
    "ethics.committee.view": "read",
    "ethics.committee.create": "write",
    "ethics.committee.update": "write",
    "ethics.view": "read",
    "ethics.apply": "write",
    "ethics.resubmit": "write",
    "ethics.decide": "write",
    "ethics.re_review": "write",
    # What the console offers (navigation, home page sections): they change nothing.
    "requests.read": "read",
    "reviews.read": "read",
    "home.datasets": "read",
    "home.usable": "read",
    "home.openings": "read",
    "home.oversight": "read",
    "home.health": "read",
}

# Actions whose denial should look like absence, so ids of private objects leak nothing.
HIDE_ON_DENY = {
    "dataset.view",
    "org.view",
    "job.view",
    "request.view",
    "contract.view",
    "registration.view",
    "right.view",
    "product.view",
    "negotiation.view",
    "period.view",
    "order.view",
    "share.view",
    "algorithm.view",
    "compute.view",
    "ethics.view",
}


def decide(
    actor: Actor, action: str, resource: Resource, context: Mapping[str, Any] | None = None
) -> Decision:
    scope = SCOPE_OF.get(action)
    if scope is None:
        return deny(_("unknown action {action}", action=action))
    if actor.scopes is not None and scope not in actor.scopes:
        return deny(_("token lacks scope {scope}", scope=scope))
    if actor.is_system:
        return allow(_("local operator on the server"))
    rule = _RULES.get(resource.type)
    if rule is None:
        return deny(_("unknown resource type {type}", type=resource.type))
    return rule(actor, action, resource, context or {})


def visible(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``decide`` as SQL, for listings: a clause over ``rows`` true exactly for the rows whose
    ``Resource`` ``decide(actor, action, ·)`` allows (datasette's ``permission_resources_sql``).
    Only the view actions of listed resources have an SQL form; a listing filters with this,
    never with a rule of its own (tests/authorization/test_visible.py checks they agree)."""
    where = _WHERE.get(rows.type)
    if where is None:
        raise ValueError(f"{rows.type} has no SQL form")
    clause = where(actor, action, rows)  # first: an action without an SQL form raises
    scope = SCOPE_OF[action]
    if actor.scopes is not None and scope not in actor.scopes:
        return false()
    return true() if actor.is_system else clause


def enforce(
    actor: Actor, action: str, resource: Resource, context: Mapping[str, Any] | None = None
) -> Decision:
    decision = decide(actor, action, resource, context)
    if decision.allowed:
        return decision
    error: YaosuError
    if actor.scopes is not None and SCOPE_OF.get(action) not in actor.scopes:
        error = ScopeMissing(scope=SCOPE_OF.get(action), action=action, resource_id=resource.id)
    elif action in HIDE_ON_DENY:
        error = NotFound(kind=label(RESOURCE_TYPE, resource.type), id=resource.id)
    else:
        error = Forbidden(
            reason=decision.reason,
            action=action,
            resource_type=resource.type,
            resource_id=resource.id,
        )
    # The API's error handler writes this to the audit log after the rollback.
    error.denial = Denial(actor, action, resource, decision)
    raise error


@dataclass(frozen=True)
class Denial:
    actor: Actor
    action: str
    resource: Resource
    decision: Decision


def record_denial(
    session: Any, error: BaseException, request: Mapping[str, Any] | None = None
) -> bool:
    """Writes the one deny entry of a refusal raised by ``enforce``, in ``session``; a second
    call for the same error writes nothing. Returns whether it wrote."""
    denial = getattr(error, "denial", None)
    if denial is None or getattr(error, "denial_recorded", False):
        return False
    record(
        session,
        denial.actor,
        action=denial.action,
        object_type=denial.resource.type,
        object_id=denial.resource.id,
        object_org_id=denial.resource.owner_org_id,
        allowed=False,
        reason=denial.decision.reason,
        request=request,
    )
    error.denial_recorded = True  # type: ignore[attr-defined]
    return True


_RULES = {
    "console": console.rule,
    "dataset": datasets.rule,
    "right": rights.rule,
    "registration": registrations.rule,
    "organisation": organisations.rule,
    "audit": audit.rule,
    "job": jobs.rule,
    "request": requests.rule,
    "contract": contracts.rule,
    "purpose": purposes.rule,
    "extract": extracts.rule,
    "product": products.product,
    "negotiation": products.negotiation,
    "period": products.period,
    "ledger": ledger.rule,
    "order": orders.rule,
    "lineage": lineage.rule,
    "share": shares.rule,
    "algorithm": compute.algorithm,
    "trusted": compute.trusted,
    "compute_job": compute.job,
    "ethics_committee": ethics.committee,
    "ethics_review": ethics.review,
}

# The SQL form of each listed resource type's rules (``visible``).
_WHERE = {
    "dataset": datasets.where,
    "right": rights.where,
    "registration": registrations.where,
    "audit": audit.where,
    "job": jobs.where,
    "request": requests.where,
    "contract": contracts.where,
    "product": products.product_where,
    "negotiation": products.negotiation_where,
    "period": products.period_where,
    "ledger": ledger.where,
    "order": orders.where,
    "lineage": lineage.where,
    "share": shares.where,
    "algorithm": compute.algorithm_where,
    "compute_job": compute.job_where,
    "ethics_review": ethics.review_where,
}
