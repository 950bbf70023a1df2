"""Listing a data product (挂牌): draft → assessing (合规评估) → in_review → in_notice (公示) →
listed → suspended / delisted; a failed assessment or review rejects it, and a rejected
product goes back to draft to be revised.

The compliance assessment reads the rights chain of every source's operation right, the
confirmed screen and grade of every source version, and the purposes the rights allow; an
assessor organisation may attach a quality or valuation report meanwhile. The review is
routed as access requests are (``authorization.listing_reviewers``): each source's
provider, the 数据局 for public data, the 网信 office for personal information; every
approval, in any order, opens the notice window; one rejection ends the round.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.policy import enforce
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotNow
from yaosu.kernel.i18n import Message, Sentences, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.states import transition
from yaosu.market import pricing
from yaosu.market.models import AssessmentReport, ListingReview, Product
from yaosu.market.products import (
    NOT_YET_LISTED,
    get_product,
    product_resource,
    sources_of,
)
from yaosu.market.states import (
    LISTING_MOVES,
    LISTING_REVIEW_MOVES,
    ListingReviewState,
    ListingState,
)
from yaosu.privacy import service as privacy
from yaosu.rights import service as rights

REPORT_KINDS = ("quality", "valuation")
# the audit action of each ``change``
CHANGE_ACTIONS = {
    ListingState.suspended: "product.suspend",
    ListingState.listed: "product.resume",
    ListingState.delisted: "product.delist",
    ListingState.draft: "product.revise",
}


def _product_for_update(session: Session, actor: Actor, product_id: str) -> Product:
    """The product, visible to the actor, its row locked for the step."""
    get_product(session, actor, product_id=product_id)
    product = session.scalar(locked(select(Product).where(Product.id == product_id)))
    assert product is not None
    return product


def _move(product: Product, target: ListingState) -> None:
    product.status = transition(
        LISTING_MOVES, product.status, target, what=_("Data product"), id=product.id
    )
    product.updated_at = utcnow()


def _audit(session: Session, actor: Actor, product: Product, action: str, **detail: Any) -> None:
    record(
        session,
        actor,
        action=action,
        object_type="product",
        object_id=product.id,
        object_org_id=product.seller_org_id,
        detail={"status": product.status, **detail},
    )


def submit(session: Session, actor: Actor, *, product_id: str) -> Product:
    """The seller submits its draft for the compliance assessment."""
    product = _product_for_update(session, actor, product_id)
    enforce(actor, "product.submit", product_resource(session, product=product))
    transition(
        LISTING_MOVES, product.status, ListingState.assessing, what=_("Data product"), id=product.id
    )
    if product.kind in NOT_YET_LISTED:
        raise InvalidInput(problem=NOT_YET_LISTED[product.kind])
    missing = _rights_missing(session, product)
    if missing:
        raise InvalidInput(problem=Sentences(missing))
    _move(product, ListingState.assessing)
    _audit(session, actor, product, "product.submit")
    return product


def _rights_missing(session: Session, product: Product) -> list[Message]:
    out = []
    for src in sources_of(session, product_id=product.id):
        if (
            rights.operation_right(
                session,
                holder_org_id=product.seller_org_id,
                dataset_id=src.dataset_id,
                sha256=src.sha256,
            )
            is None
        ):
            out.append(
                _(
                    "the seller holds no registered product-operation right (经营权) over version {version} of dataset {dataset}",
                    version=src.version,
                    dataset=src.dataset_id,
                )
            )
    return out


def findings(session: Session, actor: Actor, *, product: Product) -> dict[str, Any]:
    """合规评估: per source, the chain of title of its operation right, its confirmed screen
    (personal information, grade), and the purposes the right allows; and what blocks the
    listing, if anything."""
    blockers: list[Message] = list(_rights_missing(session, product))
    sources, personal = [], False
    for src in sources_of(session, product_id=product.id):
        grant = rights.get_grant(session, actor, grant_id=src.right_id)
        chain = [
            {
                "id": g.id,
                "kind": g.kind,
                "holder": g.holder_org_id,
                "source": g.source,
                "status": g.status,
            }
            for g in rights.chain(session, grant=grant)
        ]
        screen = privacy.confirmed_screen(session, dataset_id=src.dataset_id, version=src.version)
        if screen is None:
            blockers.append(
                _(
                    "version {version} of dataset {dataset} has no confirmed privacy screen",
                    version=src.version,
                    dataset=src.dataset_id,
                )
            )
        elif screen.grade == "core":
            blockers.append(
                _("dataset {dataset} is core data: it is not traded", dataset=src.dataset_id)
            )
        personal = personal or bool(screen and screen.personal)
        allowed = [p for p in product.purposes if not grant.purposes or p in grant.purposes]
        sources.append(
            {
                "dataset_id": src.dataset_id,
                "version": src.version,
                "sha256": src.sha256,
                "right_id": src.right_id,
                "chain": chain,
                "personal": bool(screen and screen.personal),
                "grade": screen.grade if screen else None,
                "purposes_allowed": allowed,
            }
        )
    if product.pricing_class == "capped":
        if product.cap_unit_fen is None:
            blockers.append(
                _("the authorising body has not yet set this public-data product's cap")
            )
        else:
            try:
                pricing.check_cap(pricing.parse_rule(product.price), product.cap_unit_fen)
            except InvalidInput as exc:
                blockers.append(exc.detail["problem"])
    return {"sources": sources, "personal": personal, "blockers": blockers}


def assess(
    session: Session, actor: Actor, *, product_id: str, passed: bool, note: str = ""
) -> Product:
    """The platform concludes the compliance assessment: passed, the listing goes to the
    reviews its sources need; failed, it is rejected with the note."""
    product = _product_for_update(session, actor, product_id)
    enforce(actor, "product.assess", product_resource(session, product=product))
    target = ListingState.in_review if passed else ListingState.rejected
    transition(LISTING_MOVES, product.status, target, what=_("Data product"), id=product.id)
    found = findings(session, actor, product=product)
    if passed and found["blockers"]:
        raise NotNow(what=_("Data product"), id=product.id, why=Sentences(found["blockers"]))
    if not passed and not note.strip():
        raise InvalidInput(problem=_("say why the assessment failed"))
    routes: dict[str, list[str]] = {}
    if passed:
        providers = sorted(
            {
                catalog.get_dataset(session, actor, dataset_id=s["dataset_id"]).owner_org_id
                for s in found["sources"]
            }
        )
        routes = authorization.listing_reviewers(
            session,
            provider_org_ids=providers,
            personal=found["personal"],
            public_data=product.public_data,
        )
        for org_id, rules in routes.items():
            session.add(
                ListingReview(
                    id=new_id("lrv"),
                    product_id=product.id,
                    reviewer_org_id=org_id,
                    rule="+".join(rules),
                    status=ListingReviewState.pending,
                )
            )
    reports = [r.id for r in reports_of(session, product_id=product.id)]
    product.assessment = {
        "sources": found["sources"],
        "personal": found["personal"],
        "reports": reports,
        "passed": passed,
        "note": note.strip(),
        "by": actor.id,
        "at": utcnow().isoformat(),
    }
    product.decision_note = note.strip() or None
    _move(product, target)
    session.flush()
    _audit(session, actor, product, "product.assess", passed=passed, reviewers=routes, note=note)
    return product


def report(
    session: Session,
    actor: Actor,
    *,
    product_id: str,
    kind: str,
    summary: str,
    score: int | None = None,
    value_fen: int | None = None,
) -> AssessmentReport:
    """An assessor organisation's quality (score 0-100) or valuation (in fen) report."""
    product = _product_for_update(session, actor, product_id)
    enforce(actor, "product.report", product_resource(session, product=product))
    if product.status != ListingState.assessing:
        raise NotNow(
            what=_("Data product"),
            id=product.id,
            why=_("reports are attached while a product is assessed"),
        )
    problems = []
    if kind not in REPORT_KINDS:
        problems.append(_("kind must be one of {kinds}", kinds=list(REPORT_KINDS)))
    if not summary.strip():
        problems.append(_("write the report's summary"))
    if kind == "quality" and (score is None or not 0 <= score <= 100):
        problems.append(_("a quality report scores the product from 0 to 100"))
    if kind == "valuation" and (value_fen is None or not 0 < value_fen <= pricing.MAX_FEN):
        problems.append(
            _("a valuation report states a value in fen from 1 to {max}", max=pricing.MAX_FEN)
        )
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    assert actor.org_id is not None
    out = AssessmentReport(
        id=new_id("asr"),
        product_id=product.id,
        assessor_org_id=actor.org_id,
        kind=kind,
        summary=summary.strip(),
        score=score if kind == "quality" else None,
        value_fen=value_fen if kind == "valuation" else None,
        created_by=actor.id,
    )
    session.add(out)
    session.flush()
    record(
        session,
        actor,
        action="product.report",
        object_type="product",
        object_id=product.id,
        object_org_id=product.seller_org_id,
        request={"kind": kind, "score": score, "value_fen": value_fen},
        detail={"report": out.id},
    )
    return out


def reports_of(session: Session, *, product_id: str) -> list[AssessmentReport]:
    return list(
        session.scalars(
            select(AssessmentReport)
            .where(AssessmentReport.product_id == product_id)
            .order_by(AssessmentReport.created_at)
        )
    )


def reviews_of(session: Session, *, product_id: str) -> list[ListingReview]:
    return list(
        session.scalars(
            select(ListingReview)
            .where(ListingReview.product_id == product_id)
            .order_by(ListingReview.id)
        )
    )


def review(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    product_id: str,
    approve: bool,
    note: str = "",
) -> Product:
    """One reviewing organisation's decision. Every approval opens the public notice window
    (``YAOSU_NOTICE_DAYS``); one rejection rejects the listing."""
    product = _product_for_update(session, actor, product_id)
    enforce(actor, "product.review", product_resource(session, product=product))
    if product.status != ListingState.in_review:
        transition(
            LISTING_MOVES,
            product.status,
            ListingState.in_notice,
            what=_("Data product"),
            id=product.id,
        )
    mine = next(
        (
            r
            for r in reviews_of(session, product_id=product.id)
            if r.reviewer_org_id == actor.org_id and r.status == ListingReviewState.pending
        ),
        None,
    )
    if mine is None:
        raise NotNow(
            what=_("Data product"),
            id=product.id,
            why=_("your organisation has no pending review of this listing"),
        )
    if not approve and not note.strip():
        raise InvalidInput(problem=_("say why the listing is rejected"))
    target = ListingReviewState.approved if approve else ListingReviewState.rejected
    mine.status = transition(
        LISTING_REVIEW_MOVES, mine.status, target, what=_("Listing review"), id=mine.id
    )
    mine.note, mine.decided_by, mine.decided_at = note.strip() or None, actor.id, utcnow()
    session.flush()
    if not approve:
        product.decision_note = note.strip()
        _move(product, ListingState.rejected)
    elif all(
        r.status == ListingReviewState.approved
        for r in reviews_of(session, product_id=product.id)
        if r.status != ListingReviewState.rejected
    ) and not any(
        r.status == ListingReviewState.pending for r in reviews_of(session, product_id=product.id)
    ):
        product.notice_ends_at = utcnow() + timedelta(days=settings.notice_days)
        _move(product, ListingState.in_notice)
    _audit(session, actor, product, "product.review", approve=approve, review=mine.id, note=note)
    return product


def publish(session: Session, actor: Actor, *, product_id: str) -> Product:
    """After the notice window: listed (挂牌). The first listing starts the trial year."""
    product = _product_for_update(session, actor, product_id)
    enforce(actor, "product.publish", product_resource(session, product=product))
    transition(
        LISTING_MOVES, product.status, ListingState.listed, what=_("Data product"), id=product.id
    )
    now = utcnow()
    if product.notice_ends_at is not None and now < product.notice_ends_at:
        raise NotNow(
            what=_("Data product"), id=product.id, why=_("its public notice is still open")
        )
    if product.first_listed_at is None:
        product.first_listed_at = now
    _move(product, ListingState.listed)
    _audit(session, actor, product, "product.publish")
    return product


def change(session: Session, actor: Actor, *, product_id: str, to: str, note: str = "") -> Product:
    """Suspend (``suspended``), resume (``listed``) or delist (``delisted``) a listed product,
    or send a rejected one back to ``draft`` for revision."""
    actions = {
        ListingState.suspended: "product.suspend",
        ListingState.listed: "product.suspend",
        ListingState.delisted: "product.delist",
        ListingState.draft: "product.edit",
    }
    if to not in actions:
        raise InvalidInput(
            problem=_("to must be one of {states}", states=[str(s) for s in actions])
        )
    target = ListingState(to)
    product = _product_for_update(session, actor, product_id)
    enforce(actor, actions[target], product_resource(session, product=product))
    if target == ListingState.listed and product.status != ListingState.suspended:
        # publishing from the notice is ``publish``: this resumes a suspended listing only
        transition(
            LISTING_MOVES,
            product.status,
            target,
            what=_("Data product"),
            id=product.id,
            only_from=ListingState.suspended,
        )
    before = product.status
    _move(product, target)
    _audit(
        session,
        actor,
        product,
        CHANGE_ACTIONS[target],
        before=before,
        note=note,
    )
    return product
