"""The authorisation matrix: every API route, every demo role (and no login), on the demo
world's own and foreign objects, with the exact answer: allowed, or refused with 401, 403
or 404 (404 where a refusal must not reveal that the object exists).

A route missing from the matrix fails the test, so a new route cannot ship unexamined.
"Allowed" means the request passed authorisation: it may still be a 409 (the state does
not permit it now) or a 422 (the body is wrong), but never 401, 403 or 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import DEMO_PASSWORD, actor, dataset_id, demo_contract_id, token_for
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import AccessRequest
from yaosu.context import Context
from yaosu.demo.compute import FILING as DEMO_FILING
from yaosu.kernel.tasks.models import Task
from yaosu.privacy import service as privacy
from yaosu.rights.models import Certificate, Grant, Registration

P, BA, BN, BR = "platform-admin", "bureau-admin", "bureau-analyst", "bureau-reviewer"
AI, CO, CAC, DSJ, AS = "ai-analyst", "coop-manager", "cac-inspector", "dsj-inspector", "assessor"
ANON = "anonymous"
USERS = (P, BA, BN, BR, AI, CO, CAC, DSJ, AS)
EVERYONE = frozenset((*USERS, ANON))
SIGNED_IN = frozenset(USERS)
BUREAU = frozenset((BA, BN, BR))
OVERSIGHT = frozenset((P, CAC, DSJ))

# Authentication itself, not authorisation: tested in tests/accounts.
EXEMPT = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout")}


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # as OpenAPI lists it
    path: str  # with the world's objects filled in
    allowed: frozenset[str]
    deny: int = 403  # the answer to a signed-in role that is refused
    body: Any = None
    anon: int | None = None  # the answer without a login, when not simply "allowed" or 401


def world(ctx: Context) -> dict[str, Any]:
    """The demo world's objects, plus a job, a derivation and an objection made here."""
    ids: dict[str, Any] = {
        "res": dataset_id(ctx, "参保人员"),
        "farm": dataset_id(ctx, "农产品"),
    }
    from yaosu.access import extract as extracts
    from yaosu.authorization import service as authorization
    from yaosu.authorization.schemas import RequestCreate
    from yaosu.rights import service as rights

    ai, cac, br = actor(ctx, AI), actor(ctx, CAC), actor(ctx, BR)
    with ctx.db.transaction() as session:
        req = authorization.submit_request(
            session,
            ai,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={ids["res"]: ["所属乡镇", "参保类型"]},
                operations=["extract"],
                days=10,
                justification="矩阵测试：去标识化提取。",
            ),
        )
        authorization.review(
            session,
            cac,
            settings=ctx.settings,
            request_id=req.id,
            decision="approve",
            reason="同意",
        )
        done = authorization.review(
            session, br, settings=ctx.settings, request_id=req.id, decision="approve", reason="同意"
        )
        ids["extract_contract"] = done.contract_id
        authorization.accept(session, ai, contract_id=done.contract_id)
    ids["extract"] = extracts.run_extract(
        ctx, ai, contract_id=ids["extract_contract"], dataset_id=ids["res"]
    ).id
    ids |= _compute_world(ctx, ids)  # before the screen below reopens the residents' screening
    ids |= _ethics_world(ctx, ids)
    from yaosu.access import service as access

    with ctx.db.transaction() as session:
        demo_contract = demo_contract_id(session)
    ids["run"] = access.run_query(
        ctx,
        actor(ctx, CO),
        contract_id=str(demo_contract),
        query=f"SELECT 所属乡镇, COUNT(*) AS n FROM {ids['res']} GROUP BY 1",
        epsilon=0.1,
    ).run_id
    analyst = actor(ctx, BN)
    derivation, _ = privacy.run_deidentify(
        ctx,
        analyst,
        dataset_id=ids["res"],
        number=1,
        recipe_doc={"columns": {"姓名": {"op": "drop"}}},
    )
    ids["derivation"] = derivation.id
    background = ctx.settings.model_copy(update={"background_rows": 1})
    bureau_org, inspector = actor(ctx, BA).org_id, actor(ctx, DSJ)
    with ctx.db.transaction() as session:
        job = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=background,
            dataset_id=ids["res"],
            number=1,
            mode="full",
        )
        assert isinstance(job, Task)
        ids["task"] = job.id
        ids["screen"] = privacy.list_screens(session, analyst, dataset_id=ids["res"])[0].id
        ids["contract"] = demo_contract_id(session)
        ids["request"] = session.scalar(
            select(AccessRequest.id).where(AccessRequest.status == "submitted")
        )
        ids["registered"] = session.scalar(
            select(Registration.id).where(Registration.status == "registered")
        )
        ids["notice"] = session.scalar(
            select(Registration.id).where(Registration.status == "in_notice")
        )
        ids["grant"] = session.scalar(select(Grant.id).where(Grant.status == "active"))
        ids["code"] = session.scalar(select(Certificate.code))
        ids["org"] = bureau_org
        ids["entry"] = session.scalar(
            select(AuditEntry.leaf_index).where(
                AuditEntry.object_org_id == bureau_org, AuditEntry.action == "dataset.create"
            )
        )

    from yaosu.market.models import Negotiation, Product, RevenuePeriod

    with ctx.db.transaction() as session:
        for key, title in (
            ("waiting", "农产品销售月度去标识化数据订阅"),  # in assessment
            ("forecast", "乡村农资需求预测服务"),  # listed, shared by Shapley value
            ("capped", "统计查询服务"),  # listed, reviewed by the bureau and the 数据局
            ("model", "需求预测模型"),  # listed, priced by negotiation
        ):
            ids[key] = session.scalar(select(Product.id).where(Product.title.contains(title)))
        ids["deal"] = session.scalar(select(Negotiation.id))
        ids["period"] = session.scalar(select(RevenuePeriod.id))
    ids["ai_org"] = ai.org_id
    from yaosu.market.models import BankImport, SettlementStatement

    with ctx.db.transaction() as session:
        coop_org = actor(ctx, CO).org_id
        ids["statement"] = session.scalar(
            select(SettlementStatement.id).where(SettlementStatement.org_id == coop_org)
        )
        ids["bank_import"] = session.scalar(select(BankImport.id))
    from yaosu.market.models import Order

    with ctx.db.transaction() as session:
        for key, status in (
            ("order", "accepted"),
            ("disputed", "disputed"),  # the cooperative asked the cyberspace office
            ("unpaid", "awaiting_payment"),
        ):
            ids[key] = session.scalar(  # the cooperative's purchases from the AI company
                select(Order.id)
                .where(
                    Order.status == status,
                    Order.amount_fen > 0,
                    Order.buyer_org_id == coop_org,
                    Order.seller_org_id == ai.org_id,
                )
                .order_by(Order.created_at)
            )
        from yaosu.market.models import ShareLine, ShareObjection, TransactionCertificate

        cert = session.scalar(
            select(TransactionCertificate).where(TransactionCertificate.order_id == ids["order"])
        )
        # the bureau's role share in the demo's second forecast sale, held; 河西乡's objection
        ids["held_share"] = session.scalar(
            select(ShareLine.id).where(
                ShareLine.status == "held",
                ShareLine.kind == "role",
                ShareLine.org_id == bureau_org,
            )
        )
        ids["share_objection"] = session.scalar(
            select(ShareObjection.id).where(ShareObjection.status == "open")
        )
        ids["bureau_org"] = bureau_org
        assert cert is not None
        ids["certificate_number"], ids["certificate_check"] = cert.number, cert.check
    with ctx.db.transaction() as session:
        ids["objection"] = rights.object_to(
            session, inspector, registration_id=ids["notice"], reason="矩阵测试的异议"
        ).id
    assert all(v is not None for v in ids.values()), ids
    return ids


def _compute_world(ctx: Context, ids: dict[str, Any]) -> dict[str, Any]:
    """The demo's filed algorithm, its filing still waiting, its released job; and here: a
    contract of the AI company's for compute on the residents (the bureau's), a job waiting
    for the bureau's approval, and the bureau's trust of the algorithm for the farm sales."""
    from yaosu.authorization import service as authorization
    from yaosu.authorization.schemas import RequestCreate
    from yaosu.compute import jobs
    from yaosu.compute import service as compute
    from yaosu.compute.models import Algorithm, AlgorithmFiling, ComputeJob
    from yaosu.compute.schemas import JobCreate

    ai, cac, br = actor(ctx, AI), actor(ctx, CAC), actor(ctx, BR)
    out: dict[str, Any] = {}
    with ctx.db.transaction() as session:
        alg = session.scalars(select(Algorithm).where(Algorithm.name == DEMO_FILING["name"])).one()
        out["algorithm"], number = alg.id, alg.filing_number
        out["pending_algorithm"] = session.scalar(
            select(Algorithm.id).where(Algorithm.status == "submitted")
        )
        out["filing"] = session.scalar(
            select(AlgorithmFiling.id).where(AlgorithmFiling.status == "submitted")
        )
        out["released_job"] = session.scalar(
            select(ComputeJob.id).where(ComputeJob.status == "released")
        )
        req = authorization.submit_request(
            session,
            ai,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={ids["res"]: ["所属乡镇", "参保类型"]},
                operations=["compute"],
                algorithm=number,
                days=10,
                justification="矩阵测试：数据不出域的计算。",
            ),
        )
        for reviewer in (cac, br):
            done = authorization.review(
                session,
                reviewer,
                settings=ctx.settings,
                request_id=req.id,
                decision="approve",
                reason="同意",
            )
        assert done.contract_id is not None
        out["compute_contract"] = done.contract_id
        authorization.accept(session, ai, contract_id=done.contract_id)
    _ethics_approval(ctx, out["algorithm"], ids["res"])  # the residents' data is personal
    out["job"] = jobs.run_submit(
        ctx, ai, data=JobCreate(contract_id=out["compute_contract"], algorithm_id=out["algorithm"])
    ).id
    with ctx.db.transaction() as session:
        out["trusted"] = compute.trust(
            session, br, dataset_id=ids["farm"], algorithm_id=out["algorithm"]
        ).id
    return out


def _ethics_approval(ctx: Context, algorithm_id: str, dataset: str) -> None:
    """The AI company's own committee (the demo's) approves the algorithm on ``dataset``."""
    from tests.compute.test_ethics import APPLICATION
    from yaosu.compute import ethics
    from yaosu.compute.schemas import MeetingRecord, ReviewApply

    ai, secretary = actor(ctx, AI), actor(ctx, "ai-ethics")
    with ctx.db.transaction() as session:
        (committee,) = ethics.list_committees(session, ai, org_id=ai.org_id)
        review = ethics.apply(
            session,
            ai,
            data=ReviewApply.model_validate(
                {
                    "committee_id": committee.id,
                    "algorithm_id": algorithm_id,
                    "datasets": [dataset],
                    "application": APPLICATION,
                }
            ),
        )
        ethics.decide(
            session,
            secretary,
            review_id=review.id,
            data=MeetingRecord.model_validate(
                {
                    "held_on": date.today(),
                    "present": list(range(7)),
                    "votes": {i: "approve" for i in range(7)},
                }
            ),
            settings=ctx.settings,
        )


def _ethics_world(ctx: Context, ids: dict[str, Any]) -> dict[str, Any]:
    """The bureau's ethics committee, which takes entrusted reviews, and the AI company's
    application to it for its filed algorithm on the farm sales (waiting for a meeting)."""
    from datetime import date, timedelta

    from tests.compute.test_ethics import APPLICATION, MEMBERS
    from yaosu.compute import ethics
    from yaosu.compute.schemas import CommitteeCreate, ReviewApply

    bureau, ai = actor(ctx, BA), actor(ctx, AI)
    with ctx.db.transaction() as session:
        committee = ethics.create_committee(
            session,
            bureau,
            data=CommitteeCreate.model_validate(
                {
                    "name": "矩阵测试伦理委员会",
                    "members": MEMBERS,
                    "entrusted": True,
                    "term_ends_on": date.today() + timedelta(days=365),
                }
            ),
        )
        review = ethics.apply(
            session,
            ai,
            data=ReviewApply.model_validate(
                {
                    "committee_id": committee.id,
                    "algorithm_id": ids["algorithm"],
                    "datasets": [ids["farm"]],
                    "application": APPLICATION,
                }
            ),
        )
        return {"ethics_committee": committee.id, "ethics_review": review.id}


def _committee_body() -> dict[str, Any]:
    from datetime import timedelta

    from tests.compute.test_ethics import MEMBERS

    return {
        "name": "矩阵测试伦理委员会（新）",
        "members": MEMBERS,
        "term_ends_on": (date.today() + timedelta(days=365)).isoformat(),
    }


def _application() -> dict[str, str]:
    from tests.compute.test_ethics import APPLICATION

    return APPLICATION


WITNESS = {CAC: "cac.jiangzhou.example/witness", DSJ: "dsj.jiangzhou.example/witness"}


def cases(w: dict[str, Any], odrl: dict[str, Any], first: int, checkpoint: int) -> list[Case]:
    res, v = w["res"], f"/api/v1/datasets/{w['res']}/versions/1"
    c, r, n = (
        f"/api/v1/contracts/{w['contract']}",
        f"/api/v1/requests/{w['request']}",
        f"/api/v1/registrations/{w['notice']}",
    )
    recipe = {"columns": {"姓名": {"op": "drop"}}}
    mp = "/api/v1/market/products"
    return [
        # --- accounts ---
        Case("GET", "/api/v1/me", "/api/v1/me", SIGNED_IN),
        Case("GET", "/api/v1/orgs", "/api/v1/orgs", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/orgs",
            "/api/v1/orgs",
            frozenset({P}),
            body={"name": "矩阵测试机构", "kinds": ["consumer"]},
        ),
        Case("GET", "/api/v1/orgs/{org_id}", f"/api/v1/orgs/{w['org']}", SIGNED_IN),
        Case(
            "GET",
            "/api/v1/orgs/{org_id}/members",
            f"/api/v1/orgs/{w['org']}/members",
            BUREAU | OVERSIGHT,
            deny=404,
        ),
        Case(
            "POST",
            "/api/v1/orgs/{org_id}/members",
            f"/api/v1/orgs/{w['org']}/members",
            frozenset({P, BA}),
            body={
                "username": "matrix-user",
                "password": "a-long-password-2026",
                "role": "member",
                "display_name": "矩阵",
            },
        ),
        Case("GET", "/api/v1/tokens", "/api/v1/tokens", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/tokens",
            "/api/v1/tokens",
            SIGNED_IN,
            body={"name": "matrix", "scopes": ["read"]},
        ),
        Case(
            "DELETE",
            "/api/v1/tokens/{token_id}",
            f"/api/v1/tokens/{w['token']}",
            frozenset({BA, P}),
            deny=403,
        ),
        # --- catalog ---
        Case("GET", "/api/v1/datasets", "/api/v1/datasets", EVERYONE),
        Case("GET", "/api/v1/datasets/vocabulary", "/api/v1/datasets/vocabulary", EVERYONE),
        Case(
            "POST",
            "/api/v1/datasets",
            "/api/v1/datasets",
            frozenset({BA, BN, CO}),  # providers (the cooperative registers its members' data)
            body={"title": "矩阵测试数据", "theme": "测试"},
        ),
        Case("GET", "/api/v1/datasets/{dataset_id}", f"/api/v1/datasets/{res}", EVERYONE),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/lineage",
            f"/api/v1/datasets/{res}/lineage",
            EVERYONE,
        ),
        Case(
            "PATCH",
            "/api/v1/datasets/{dataset_id}",
            f"/api/v1/datasets/{res}",
            frozenset({BA, BN}),
            body={"keywords": ["参保"]},
        ),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/versions",
            f"/api/v1/datasets/{res}/versions",
            EVERYONE,
        ),
        Case("GET", "/api/v1/datasets/{dataset_id}/versions/{number}", v, EVERYONE),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/versions/{number}/data",
            f"{v}/data",
            BUREAU,
            anon=403,
        ),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/versions/{number}/preview",
            f"{v}/preview",
            BUREAU,
            anon=403,
        ),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/dictionary",
            f"/api/v1/datasets/{res}/dictionary",
            EVERYONE,
        ),
        Case(
            "PATCH",
            "/api/v1/datasets/{dataset_id}/dictionary",
            f"/api/v1/datasets/{res}/dictionary",
            frozenset({BA, BN}),
            body={"columns": [{"column": "备注", "description": "矩阵测试"}]},
        ),
        Case("GET", "/api/v1/catalog", "/api/v1/catalog", EVERYONE),
        # --- privacy ---
        Case(
            "POST",
            "/api/v1/datasets/{dataset_id}/versions/{number}/screens",
            f"{v}/screens",
            BUREAU | {P},
        ),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/screens",
            f"/api/v1/datasets/{res}/screens",
            BUREAU | {P, CAC},  # the 网信 office reviews a pending request for it
        ),
        Case(
            "GET",
            "/api/v1/screens/{screen_id}",
            f"/api/v1/screens/{w['screen']}",
            BUREAU | {P, CAC},
        ),
        Case(
            "POST",
            "/api/v1/screens/{screen_id}/review",
            f"/api/v1/screens/{w['screen']}/review",
            frozenset({BA, BR}),
            body={},
        ),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/versions/{number}/suggested-recipe",
            f"{v}/suggested-recipe",
            BUREAU | {P},
        ),
        Case(
            "POST",
            "/api/v1/datasets/{dataset_id}/versions/{number}/deidentify/preview",
            f"{v}/deidentify/preview",
            frozenset({BA, BN}),
            body=recipe,
        ),
        Case(
            "GET",
            "/api/v1/derivations/{derivation_id}",
            f"/api/v1/derivations/{w['derivation']}",
            BUREAU | {P},
        ),
        # --- jobs ---
        Case("GET", "/api/v1/tasks", "/api/v1/tasks", SIGNED_IN),
        Case("GET", "/api/v1/lineage/events", "/api/v1/lineage/events", SIGNED_IN),
        Case("GET", "/api/v1/lineage/events.ndjson", "/api/v1/lineage/events.ndjson", SIGNED_IN),
        Case(
            "GET",
            "/api/v1/tasks/{task_id}",
            f"/api/v1/tasks/{w['task']}",
            BUREAU | OVERSIGHT,
            deny=404,
        ),
        # --- authorisation ---
        Case("GET", "/api/v1/purposes", "/api/v1/purposes", EVERYONE),
        Case(
            "PUT",
            "/api/v1/purposes/{code}",
            "/api/v1/purposes/matrix_test",
            frozenset({P}),
            body={"name_zh": "矩阵", "name_en": "Matrix", "pricing": "free"},
        ),
        Case("GET", "/api/v1/requests", "/api/v1/requests", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/requests",
            "/api/v1/requests",
            frozenset({AI, CO}),
            body={
                "purpose": "public_welfare",
                "datasets": {res: ["所属乡镇"]},
                "operations": ["aggregate"],
                "days": 10,
                "justification": "矩阵测试：按乡镇统计。",
            },
        ),
        Case("GET", "/api/v1/requests/{request_id}", r, BUREAU | OVERSIGHT | {CO}, deny=404),
        Case("GET", "/api/v1/contracts", "/api/v1/contracts", SIGNED_IN),
        Case("GET", "/api/v1/contracts/{contract_id}", c, BUREAU | OVERSIGHT | {CO}, deny=404),
        Case(
            "GET",
            "/api/v1/contracts/{contract_id}/odrl",
            f"{c}/odrl",
            BUREAU | OVERSIGHT | {CO},
            deny=404,
        ),
        Case(
            "POST",
            "/api/v1/contracts/{contract_id}/decisions",
            f"{c}/decisions",
            frozenset({CO}),
            body={"operation": "aggregate", "dataset_id": res, "dry_run": True},
        ),
        Case(
            "POST",
            "/api/v1/contracts/odrl",
            "/api/v1/contracts/odrl?mode=check",
            frozenset({P}),
            body=odrl,
        ),
        # --- governed use ---
        Case(
            "POST",
            "/api/v1/queries",
            "/api/v1/queries",
            frozenset({CO}),
            body={
                "contract_id": w["contract"],
                "sql": f"SELECT COUNT(*) AS n FROM {res}",
                "epsilon": 0.1,
            },
        ),
        Case(
            "POST",
            "/api/v1/queries/estimate",
            "/api/v1/queries/estimate",
            BUREAU | OVERSIGHT | {CO},
            body={
                "contract_id": w["contract"],
                "sql": f"SELECT 所属乡镇, COUNT(*) AS n FROM {res} GROUP BY 1",
                "epsilon": 0.1,
                "target": 10,
            },
        ),
        Case(
            "GET",
            "/api/v1/contracts/{contract_id}/queries",
            f"{c}/queries",
            BUREAU | OVERSIGHT | {CO},
            deny=404,
        ),
        Case(
            "GET",
            "/api/v1/queries/{run_id}",
            f"/api/v1/queries/{w['run']}",
            BUREAU | OVERSIGHT | {CO},
            deny=404,
        ),
        Case(
            "GET",
            "/api/v1/queries/{run_id}/answer",
            f"/api/v1/queries/{w['run']}/answer?format=csv",
            BUREAU | OVERSIGHT | {CO},
            deny=404,
        ),
        Case(
            "POST",
            "/api/v1/contracts/{contract_id}/extracts",
            f"/api/v1/contracts/{w['extract_contract']}/extracts",
            frozenset({AI}),
            body={"dataset_id": res},
        ),
        Case(
            "GET",
            "/api/v1/extracts/{extract_id}",
            f"/api/v1/extracts/{w['extract']}",
            BUREAU | OVERSIGHT | {AI},
            deny=404,
        ),
        Case(
            "GET",
            "/api/v1/extracts/{extract_id}/file",
            f"/api/v1/extracts/{w['extract']}/file",
            frozenset({AI}),
        ),
        # --- rights ---
        Case("GET", "/api/v1/notices", "/api/v1/notices", EVERYONE),
        Case("GET", "/api/v1/rights", "/api/v1/rights", EVERYONE),
        Case(
            "GET", "/api/v1/rights/{grant_id}/chain", f"/api/v1/rights/{w['grant']}/chain", EVERYONE
        ),
        Case("GET", "/api/v1/registrations", "/api/v1/registrations", SIGNED_IN),
        Case("GET", "/api/v1/registrations/{registration_id}", n, EVERYONE),
        Case(
            "POST",
            "/api/v1/registrations",
            "/api/v1/registrations",
            frozenset({BA, BN}),
            body={"kind": "holding", "dataset_id": res, "statement": "矩阵测试的原始登记"},
        ),
        Case(
            "POST",
            "/api/v1/registrations/{registration_id}/objections",
            f"{n}/objections",
            frozenset({P, CO, CAC, DSJ, AS}),
            body={"reason": "矩阵测试的异议理由"},
        ),
        Case("GET", "/api/v1/certificates/key", "/api/v1/certificates/key", EVERYONE),
        Case("GET", "/api/v1/certificates/{code}", f"/api/v1/certificates/{w['code']}", EVERYONE),
        Case(
            "POST",
            "/api/v1/certificates/verify",
            "/api/v1/certificates/verify",
            EVERYONE,
            body={"document": {}, "signature": "", "key": ""},
        ),
        # --- audit ---
        Case("GET", "/api/v1/audit", "/api/v1/audit", SIGNED_IN),
        Case("GET", "/api/v1/audit/key", "/api/v1/audit/key", EVERYONE),
        Case("GET", "/api/v1/audit/checkpoints", "/api/v1/audit/checkpoints", EVERYONE),
        Case(
            "GET", "/api/v1/audit/checkpoints/latest", "/api/v1/audit/checkpoints/latest", EVERYONE
        ),
        Case(
            "GET",
            "/api/v1/audit/checkpoints/{size}",
            f"/api/v1/audit/checkpoints/{checkpoint}",
            EVERYONE,
        ),
        Case(
            "GET",
            "/api/v1/audit/consistency",
            f"/api/v1/audit/consistency?first={first}&second={checkpoint}",
            EVERYONE,
        ),
        Case(
            "GET",
            "/api/v1/audit/entries/{index}/inclusion",
            f"/api/v1/audit/entries/{w['entry']}/inclusion?size={checkpoint}",
            BUREAU | OVERSIGHT,
        ),
        Case("GET", "/api/v1/audit/witnesses", "/api/v1/audit/witnesses", EVERYONE),
        Case(
            "POST",
            "/api/v1/audit/witnesses",
            "/api/v1/audit/witnesses",
            frozenset({CAC, DSJ}),
            body={"vkey": "someone+00000000+AAAA"},
        ),
        Case(
            "POST",
            "/api/v1/audit/checkpoints/{size}/cosignatures",
            f"/api/v1/audit/checkpoints/{checkpoint}/cosignatures",
            frozenset({CAC, DSJ}),
            body=lambda role: {"signature": f"— {WITNESS.get(role, 'nobody')} AAAAAAAAAAAA"},
        ),
        Case("GET", "/healthz", "/healthz", EVERYONE),
        # --- what changes state the others depend on, last ---
        Case(
            "POST",
            "/api/v1/tasks/{task_id}/cancel",
            f"/api/v1/tasks/{w['task']}/cancel",
            frozenset({BN, BA, P}),
        ),
        Case(
            "POST",
            "/api/v1/requests/{request_id}/reviews",
            f"{r}/reviews",
            frozenset({BA, BR, CAC}),
            deny=403,
            body={"decision": "approve", "reason": "矩阵测试"},
        ),
        Case("POST", "/api/v1/requests/{request_id}/withdraw", f"{r}/withdraw", frozenset({CO})),
        Case(
            "POST",
            "/api/v1/contracts/{contract_id}/acceptance",
            f"{c}/acceptance",
            frozenset({CO}),  # its data user's admin (the demo's is already accepted: a 409)
            body={"decision": "accept"},
        ),
        Case(
            "POST",
            "/api/v1/contracts/{contract_id}/status",
            f"{c}/status",
            frozenset({BA, P, CAC, DSJ}),
            body={"action": "suspend", "reason": "矩阵测试"},
        ),
        Case(
            "POST",
            "/api/v1/registrations/{registration_id}/steps",
            f"{n}/steps",
            frozenset({P}),
            body={"action": "accept"},
        ),
        Case(
            "POST",
            "/api/v1/objections/{objection_id}/resolution",
            f"/api/v1/objections/{w['objection']}/resolution",
            frozenset({P}),
            body={"upheld": False, "resolution": "矩阵测试"},
        ),
        Case(
            "POST",
            "/api/v1/registrations/{registration_id}/certificate",
            f"{n}/certificate",
            frozenset({P}),
        ),
        Case("POST", "/api/v1/audit/checkpoints", "/api/v1/audit/checkpoints", frozenset({P})),
        # new versions (unscreened) make the dataset unrequestable: the very last
        Case(
            "POST",
            "/api/v1/datasets/{dataset_id}/versions/{number}/deidentify",
            f"{v}/deidentify",
            frozenset({BA, BN}),
            body=recipe,
        ),
        Case(
            "POST",
            "/api/v1/datasets/{dataset_id}/versions",
            f"/api/v1/datasets/{res}/versions?filename=m.csv",
            frozenset({BA, BN}),
            body=b"a,b\n1,2\n",
        ),
        # --- market: products and their listing (issue 14) ---
        Case("GET", "/api/v1/market/products", "/api/v1/market/products", EVERYONE),
        Case(
            "POST",
            "/api/v1/market/products",
            "/api/v1/market/products",
            frozenset({BA, BN, AI, CO}),  # the cooperative: a 422, it holds no operation right
            body={
                "kind": "query_service",
                "title": "矩阵测试产品",
                "sources": [{"dataset_id": w["farm"]}],
                "public_data": True,
                "pricing_class": "capped",
                "price": {"model": "fixed", "unit": "calls", "unit_fen": 10},
                "purposes": ["industry_development"],
            },
        ),
        Case(
            "GET",
            "/api/v1/market/products/{product_id}",
            f"{mp}/{w['waiting']}",
            frozenset({AI, P, CAC, DSJ, AS}),
            deny=404,
            anon=404,
        ),
        Case(
            "GET",
            "/api/v1/market/products/{product_id}/lineage",
            f"{mp}/{w['waiting']}/lineage",
            frozenset({AI, P, CAC, DSJ, AS}),
            deny=404,
            anon=404,
        ),
        Case(
            "PUT",
            "/api/v1/market/products/{product_id}/price",
            f"{mp}/{w['waiting']}/price",
            frozenset({AI}),  # in assessment: a 409
            body={"price": {"model": "fixed", "unit": "megabytes", "unit_fen": 700}},
        ),
        Case(
            "PUT",
            "/api/v1/market/products/{product_id}/cap",
            f"{mp}/{w['waiting']}/cap",
            frozenset({DSJ, P}),
            body={"cap_unit_fen": 1000},
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/submit",
            f"{mp}/{w['waiting']}/submit",
            frozenset({AI}),  # already submitted: a 409
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/assessment",
            f"{mp}/{w['waiting']}/assessment",
            frozenset({P}),
            body={"passed": False},  # a failure needs its reason: a 422, nothing changes
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/reports",
            f"{mp}/{w['waiting']}/reports",
            frozenset({AS}),
            body={"kind": "quality", "summary": "矩阵测试", "score": 80},
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/reviews",
            f"{mp}/{w['capped']}/reviews",
            frozenset({BA, BR, DSJ}),  # already listed: a 409
            body={"approve": True},
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/publish",
            f"{mp}/{w['capped']}/publish",
            frozenset({P}),
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/status",
            f"{mp}/{w['capped']}/status",
            frozenset({AI}),  # a listed product is not revised: a 409
            body={"to": "draft"},
        ),
        Case(
            "GET",
            "/api/v1/market/products/{product_id}/quote",
            f"{mp}/{w['capped']}/quote?purpose=industry_development&quantity=10",
            EVERYONE,
        ),
        Case("GET", "/api/v1/market/tariffs", "/api/v1/market/tariffs", EVERYONE),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/negotiations",
            f"{mp}/{w['model']}/negotiations",
            frozenset({BA, BN, CO, P, AS}),
            body={"purpose": "industry_development", "quantity": 1, "amount_fen": 100_000},
        ),
        Case("GET", "/api/v1/market/negotiations", "/api/v1/market/negotiations", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/market/negotiations/{negotiation_id}/answer",
            f"/api/v1/market/negotiations/{w['deal']}/answer",
            frozenset({AI, CO}),  # already accepted: a 409
            body={"answer": "decline"},
        ),
        Case("GET", "/api/v1/market/periods", "/api/v1/market/periods", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/market/periods",
            "/api/v1/market/periods",
            frozenset({DSJ, P}),  # the operator's period is open: a 409
            body={
                "operator_org_id": w["ai_org"],
                "starts_at": "2030-01-01T00:00:00Z",
                "ends_at": "2030-12-31T00:00:00Z",
                "cost_fen": 1,
                "profit_fen": 1,
                "tax_fen": 1,
            },
        ),
        Case(
            "POST",
            "/api/v1/market/periods/{period_id}/close",
            f"/api/v1/market/periods/{w['period']}/close",
            frozenset({DSJ, P}),
        ),
        # --- market: the ledger, clearing and settlement (issue 14) ---
        Case("GET", "/api/v1/market/statements", "/api/v1/market/statements", SIGNED_IN),
        Case(
            "GET",
            "/api/v1/market/statements/{statement_id}",
            f"/api/v1/market/statements/{w['statement']}",
            OVERSIGHT | {CO},
        ),
        Case(
            "POST",
            "/api/v1/market/settlements",
            "/api/v1/market/settlements",
            frozenset({P}),
            body={},
        ),
        Case("GET", "/api/v1/market/reconciliation", "/api/v1/market/reconciliation", OVERSIGHT),
        Case(
            "POST",
            "/api/v1/market/bank-imports",
            "/api/v1/market/bank-imports?filename=matrix.csv",
            frozenset({P}),
            body="交易日期,摘要,收入金额,对方户名\n2026-11-20,矩阵测试,1.00,某公司\n".encode(),
        ),
        Case(
            "GET",
            "/api/v1/market/bank-imports/{import_id}",
            f"/api/v1/market/bank-imports/{w['bank_import']}",
            OVERSIGHT,
        ),
        # --- market: orders (issue 14) ---
        Case(
            "POST",
            "/api/v1/market/orders",
            "/api/v1/market/orders",
            frozenset({CO}),  # a data user, not the seller, not a reviewer
            body={
                "product_id": w["capped"],
                "purpose": "industry_development",
                "quantity": 10,
                "justification": "矩阵测试：测算各乡镇农产品销量。",
            },
        ),
        Case("GET", "/api/v1/market/orders", "/api/v1/market/orders", SIGNED_IN),
        Case(
            "GET",
            "/api/v1/market/orders/{order_id}",
            f"/api/v1/market/orders/{w['order']}",
            OVERSIGHT | {CO, AI},
        ),
        Case(
            "POST",
            "/api/v1/market/orders/{order_id}/acceptance",
            f"/api/v1/market/orders/{w['order']}/acceptance",
            frozenset({CO}),  # accepted already: a 409
        ),
        Case(
            "POST",
            "/api/v1/market/orders/{order_id}/dispute",
            f"/api/v1/market/orders/{w['order']}/dispute",
            frozenset({CO}),  # accepted already: a 409
            body={"reason": "矩阵测试：交付与说明不符。"},
        ),
        Case(
            "POST",
            "/api/v1/market/orders/{order_id}/escalation",
            f"/api/v1/market/orders/{w['disputed']}/escalation",
            frozenset({CO, AI}),  # a regulator was asked already: a 409
            body={"reason": "矩阵测试"},
        ),
        Case(
            "POST",
            "/api/v1/market/orders/{order_id}/decision",
            f"/api/v1/market/orders/{w['disputed']}/decision",
            frozenset({P, CAC, DSJ}),  # the regulators: a party asked one
            body={"outcome": "refund", "note": "矩阵测试：经核实退款给买方。"},
        ),
        Case(
            "POST",
            "/api/v1/market/orders/{order_id}/cancellation",
            f"/api/v1/market/orders/{w['unpaid']}/cancellation",
            frozenset({CO}),
            body={"reason": "矩阵测试"},
        ),
        Case(
            "GET",
            "/api/v1/market/certificates/{number}",
            f"/api/v1/market/certificates/{w['certificate_number']}",
            OVERSIGHT | {CO, AI},
        ),
        # --- revenue shares (issue 15) ---
        Case(
            "PUT",
            "/api/v1/market/products/{product_id}/sharing",
            f"{mp}/{w['waiting']}/sharing",
            frozenset({AI}),  # in assessment: a 409
            body={"sharing": {}},
        ),
        Case(
            "GET",
            "/api/v1/market/products/{product_id}/sharing/preview",
            f"{mp}/{w['waiting']}/sharing/preview",
            frozenset({AI, P, CAC, DSJ, AS}),
            deny=404,
            anon=404,
        ),
        Case(
            "POST",
            "/api/v1/market/products/{product_id}/valuations",
            f"{mp}/{w['forecast']}/valuations",
            frozenset({AI, P}),
        ),
        Case(
            "GET",
            "/api/v1/market/products/{product_id}/valuations/latest",
            f"{mp}/{w['forecast']}/valuations/latest",
            EVERYONE,
        ),
        Case("GET", "/api/v1/market/shares", "/api/v1/market/shares", SIGNED_IN),
        Case(
            "GET",
            "/api/v1/market/shares/statement",
            f"/api/v1/market/shares/statement?org_id={w['bureau_org']}&year=2026&month=12",
            BUREAU | OVERSIGHT,
        ),
        Case(
            "POST",
            "/api/v1/market/shares/{line_id}/objection",
            f"/api/v1/market/shares/{w['held_share']}/objection",
            frozenset({BA, BN}),  # the party's members; once objected, a 409
            body={"reason": "矩阵测试：分成计算有误，请复核。"},
        ),
        Case(
            "POST",
            "/api/v1/market/objections/{objection_id}/escalation",
            f"/api/v1/market/objections/{w['share_objection']}/escalation",
            frozenset({AI}),  # the seller (the party, 河西乡, is not in the matrix)
        ),
        Case(
            "POST",
            "/api/v1/market/objections/{objection_id}/decision",
            f"/api/v1/market/objections/{w['share_objection']}/decision",
            OVERSIGHT,  # the platform, and the regulators once asked (just above)
            body={"outcome": "stand", "note": "矩阵测试：经核实维持原分成。"},
        ),
        Case(
            "GET",
            "/api/v1/market/annual-report",
            f"/api/v1/market/annual-report?operator_org_id={w['ai_org']}&year=2026",
            OVERSIGHT | {AI},
        ),
        Case(
            "POST",
            "/api/v1/market/certificates/verify",
            "/api/v1/market/certificates/verify",
            EVERYONE,
            body={"document": {}, "signature": "x", "key": "k"},
        ),
        # --- compute: filings, trusted lists, jobs (issue 16) ---
        Case("GET", "/api/v1/algorithms", "/api/v1/algorithms", SIGNED_IN),
        Case("GET", "/api/v1/algorithms/register", "/api/v1/algorithms/register", EVERYONE),
        Case(
            "POST",
            "/api/v1/algorithms",
            "/api/v1/algorithms",
            frozenset({P, BA, BN, AI, CO, AS}),  # a member of any organisation, not a reviewer
            body=_filing_body(),
        ),
        Case(
            "GET",
            "/api/v1/algorithms/{algorithm_id}",
            f"/api/v1/algorithms/{w['algorithm']}",
            EVERYONE,  # a filed algorithm's public text is public
        ),
        Case(
            "GET",
            "/api/v1/algorithms/{algorithm_id}",
            f"/api/v1/algorithms/{w['pending_algorithm']}",
            OVERSIGHT | {AI},
            anon=404,
        ),
        Case(
            "POST",
            "/api/v1/algorithms/{algorithm_id}/changes",
            f"/api/v1/algorithms/{w['algorithm']}/changes",
            frozenset({AI}),
            body={"summary": "矩阵测试的变更", "bundle": _bundle_b64()},
        ),
        Case(
            "POST",
            "/api/v1/algorithms/{algorithm_id}/resubmit",
            f"/api/v1/algorithms/{w['algorithm']}/resubmit",
            frozenset({AI}),
        ),
        Case(
            "POST",
            "/api/v1/algorithms/{algorithm_id}/deregistration",
            f"/api/v1/algorithms/{w['pending_algorithm']}/deregistration",
            frozenset({AI}),
            body={"reason": "矩阵测试"},
        ),
        Case("GET", "/api/v1/filings", "/api/v1/filings", frozenset({CAC})),
        Case(
            "POST",
            "/api/v1/filings/{filing_id}/decision",
            f"/api/v1/filings/{w['filing']}/decision",
            frozenset({CAC}),
            body={"decision": "return", "reason": "矩阵测试：材料不齐全"},
        ),
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/trusted-algorithms",
            f"/api/v1/datasets/{w['farm']}/trusted-algorithms",
            BUREAU | OVERSIGHT,
        ),
        Case(
            "POST",
            "/api/v1/datasets/{dataset_id}/trusted-algorithms",
            f"/api/v1/datasets/{w['farm']}/trusted-algorithms",
            frozenset({BA, BR}),
            body={"algorithm_id": w["algorithm"]},
        ),
        Case(
            "POST",
            "/api/v1/trusted-algorithms/{trusted_id}/revoke",
            f"/api/v1/trusted-algorithms/{w['trusted']}/revoke",
            frozenset({BA, BR}),
            body={"reason": "矩阵测试"},
        ),
        Case("GET", "/api/v1/compute/jobs", "/api/v1/compute/jobs", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/compute/jobs",
            "/api/v1/compute/jobs",
            frozenset({AI}),
            body={"contract_id": w["compute_contract"], "algorithm_id": w["algorithm"]},
        ),
        Case(
            "GET",
            "/api/v1/compute/jobs/{job_id}",
            f"/api/v1/compute/jobs/{w['job']}",
            BUREAU | OVERSIGHT | {AI},
        ),
        Case(
            "POST",
            "/api/v1/compute/jobs/{job_id}/approval",
            f"/api/v1/compute/jobs/{w['job']}/approval",
            frozenset({BA, BR}),
            body={"decision": "refuse", "reason": "矩阵测试", "trust": False},
        ),
        Case(
            "POST",
            "/api/v1/compute/jobs/{job_id}/review",
            f"/api/v1/compute/jobs/{w['job']}/review",
            frozenset({BA, BR}),
            body={"decision": "reject", "reason": "矩阵测试"},
        ),
        Case(
            "POST",
            "/api/v1/compute/jobs/{job_id}/cancel",
            f"/api/v1/compute/jobs/{w['job']}/cancel",
            frozenset({AI}),
        ),
        Case(
            "GET",
            "/api/v1/compute/jobs/{job_id}/outputs/{name}",
            f"/api/v1/compute/jobs/{w['released_job']}/outputs/report",
            frozenset({AI}),
        ),
        # --- ethics review (issue 16) ---
        Case("GET", "/api/v1/ethics/committees", "/api/v1/ethics/committees", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/ethics/committees",
            "/api/v1/ethics/committees",
            frozenset({P, BA, AI, CO, AS}),  # an organisation's administrator
            body=_committee_body(),
        ),
        Case(
            "GET",
            "/api/v1/ethics/committees/{committee_id}",
            f"/api/v1/ethics/committees/{w['ethics_committee']}",
            SIGNED_IN,
        ),
        Case(
            "PUT",
            "/api/v1/ethics/committees/{committee_id}",
            f"/api/v1/ethics/committees/{w['ethics_committee']}",
            frozenset({BA}),
            body={"members": _committee_body()["members"], "entrusted": True},
        ),
        Case("GET", "/api/v1/ethics/reviews", "/api/v1/ethics/reviews", SIGNED_IN),
        Case(
            "POST",
            "/api/v1/ethics/reviews",
            "/api/v1/ethics/reviews",
            frozenset({AI}),
            body={
                "committee_id": w["ethics_committee"],
                "algorithm_id": w["algorithm"],
                "datasets": [w["farm"]],
                "application": _application(),
            },
        ),
        Case(
            "GET",
            "/api/v1/ethics/reviews/{review_id}",
            f"/api/v1/ethics/reviews/{w['ethics_review']}",
            OVERSIGHT | {AI, BA, BR},
        ),
        Case(
            "POST",
            "/api/v1/ethics/reviews/{review_id}/meeting",
            f"/api/v1/ethics/reviews/{w['ethics_review']}/meeting",
            frozenset({BA, BR}),  # the committee's secretariat
            body={
                "held_on": date.today().isoformat(),
                "present": list(range(7)),
                "votes": {str(i): "approve" for i in range(7)},
            },
        ),
        Case(
            "POST",
            "/api/v1/ethics/reviews/{review_id}/re-review",
            f"/api/v1/ethics/reviews/{w['ethics_review']}/re-review",
            frozenset(),  # the 科技 department's, which the demo world does not have
            body={"decision": "approve", "reason": "矩阵测试"},
        ),
        Case(
            "POST",
            "/api/v1/ethics/reviews/{review_id}/resubmit",
            f"/api/v1/ethics/reviews/{w['ethics_review']}/resubmit",
            frozenset({AI}),
            body={"application": _application()},
        ),
        Case(
            "GET",
            "/api/v1/algorithms/{algorithm_id}/ethics",
            f"/api/v1/algorithms/{w['algorithm']}/ethics?datasets={w['farm']}",
            SIGNED_IN,
        ),
        # --- privacy unit (issue 11: declared, not guessed) ---
        Case(
            "GET",
            "/api/v1/datasets/{dataset_id}/privacy-unit",
            f"/api/v1/datasets/{res}/privacy-unit",
            BUREAU | {P},
        ),
        Case(
            "PUT",
            "/api/v1/datasets/{dataset_id}/privacy-unit",
            f"/api/v1/datasets/{res}/privacy-unit",
            frozenset({BA, BR}),
            body={"columns": ["身份证号"], "note": "矩阵测试"},
        ),
    ]


# Where a refused role gets 404 instead of the case's usual answer: it may not even see
# the object (the job of another organisation, a request or contract it is no party to).
def _bundle_b64() -> str:
    import base64

    from tests.compute.conftest import bundle_bytes

    return base64.b64encode(bundle_bytes()).decode()


def _filing_body() -> dict[str, Any]:
    from tests.compute.conftest import form

    return form(name="矩阵测试的算法").model_dump(mode="json") | {"bundle": _bundle_b64()}


HIDDEN = (
    {("/api/v1/queries", r) for r in (AI, AS)}
    | {("/api/v1/queries/estimate", r) for r in (AI, AS)}
    | {("/api/v1/contracts/{contract_id}/extracts", r) for r in (CO, AS)}
    | {("/api/v1/extracts/{extract_id}/file", r) for r in (CO, AS)}
    | {("/api/v1/tasks/{task_id}/cancel", r) for r in (AI, CO, AS)}
    | {("/api/v1/requests/{request_id}/reviews", r) for r in (AI, AS)}
    | {("/api/v1/requests/{request_id}/withdraw", r) for r in (AI, AS)}
    | {("/api/v1/contracts/{contract_id}/status", r) for r in (AI, AS)}
    | {("/api/v1/contracts/{contract_id}/decisions", r) for r in (AI, AS)}
    | {("/api/v1/contracts/{contract_id}/acceptance", r) for r in (AI, AS)}
    # a product in assessment is its seller's, oversight's and the assessors'
    | {
        (f"/api/v1/market/products/{{product_id}}/{step}", r)
        for step in ("price", "cap", "submit", "assessment", "reports", "sharing")
        for r in (BA, BN, BR, CO)
    }
    | {("/api/v1/market/products/{product_id}/sharing/preview", r) for r in (BA, BN, BR, CO)}
    # a share is its party's, its seller's and oversight's
    | {("/api/v1/market/shares/statement", r) for r in (AI, CO, AS)}
    | {("/api/v1/market/shares/{line_id}/objection", r) for r in (CO, AS)}
    | {
        (f"/api/v1/market/objections/{{objection_id}}/{step}", r)
        for step in ("escalation", "decision")
        for r in (BA, BN, BR, CO, AS)
    }
    | {("/api/v1/market/negotiations/{negotiation_id}/answer", r) for r in (BA, BN, BR, AS)}
    | {("/api/v1/market/periods/{period_id}/close", r) for r in (BA, BN, BR, CO, AS)}
    # an order is its buyer's, its seller's and oversight's
    | {
        (f"/api/v1/market/orders/{{order_id}}{step}", r)
        for step in ("", "/acceptance", "/dispute", "/escalation", "/decision", "/cancellation")
        for r in (BA, BN, BR, AS)
    }
    | {("/api/v1/market/certificates/{number}", r) for r in (BA, BN, BR, AS)}
    | {("/api/v1/market/annual-report", r) for r in (BA, BN, BR, CO, AS)}
    # a filing not yet public is its provider's and oversight's
    | {
        (f"/api/v1/algorithms/{{algorithm_id}}{step}", r)
        for step in ("", "/deregistration")
        for r in (BA, BN, BR, CO, AS)
    }
    # a job is its consumer's, its data's providers' and oversight's; so is its contract
    | {
        (f"/api/v1/compute/jobs{step}", r)
        for step in ("", "/{job_id}", "/{job_id}/approval", "/{job_id}/review", "/{job_id}/cancel")
        for r in (CO, AS)
    }
    | {("/api/v1/compute/jobs/{job_id}/outputs/{name}", r) for r in (BA, BN, BR, CO, AS)}
    # an ethics review is its applicant's, its committee's secretariat's and oversight's
    | {
        (f"/api/v1/ethics/reviews/{{review_id}}{step}", r)
        for step in ("", "/meeting", "/re-review", "/resubmit")
        for r in (BN, CO, AS)
    }
)


def test_every_route_for_every_role(app_client: TestClient, ctx: Context) -> None:
    w = world(ctx)
    tokens = {u: token_for(ctx, u) for u in USERS}
    w["token"] = _token_id(ctx, BA)
    odrl = app_client.get(
        f"/api/v1/contracts/{w['contract']}/odrl", headers={"Authorization": f"Bearer {tokens[CO]}"}
    ).json()
    checkpoint = app_client.get("/api/v1/audit/checkpoints/latest").json()["size"]
    sizes = [c["size"] for c in app_client.get("/api/v1/audit/checkpoints").json()["items"]]
    table = cases(w, odrl, min(sizes), checkpoint)
    spec = app_client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = {(case.method, case.route) for case in table} | EXEMPT
    assert routes - covered == set(), "routes missing from the authorisation matrix"
    wrong = []
    for case in table:
        for role in sorted(EVERYONE):
            headers = {} if role == ANON else {"Authorization": f"Bearer {tokens[role]}"}
            kw: dict[str, Any] = {"headers": headers}
            body = case.body(role) if callable(case.body) else case.body
            if isinstance(body, bytes):
                kw["content"] = body
            elif body is not None:
                kw["json"] = body
            before = denials(ctx)
            got = app_client.request(case.method, case.path, **kw).status_code
            if role in case.allowed:
                ok = got not in (401, 403, 404) and got < 500
                want = "allowed"
            elif role == ANON:
                want = str(case.anon or 401)
                ok = got == int(want)
            else:
                code = 404 if (case.route, role) in HIDDEN else case.deny
                want = str(code)
                ok = got == code
            if not ok:
                wrong.append(f"{case.method} {case.route} as {role}: got {got}, want {want}")
            audited, expected = denials(ctx) - before, refusal_entries(got)
            if audited != expected:
                wrong.append(
                    f"{case.method} {case.route} as {role} ({got}): "
                    f"{audited} deny audit entries, want {expected}"
                )
    assert wrong == [], "\n".join(wrong)


def denials(ctx: Context) -> int:
    """Deny entries in the audit log so far."""
    with ctx.db.transaction() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.decision == "deny")
        )


def refusal_entries(status: int) -> int:
    """Every refusal writes exactly one deny entry, and nothing else writes one. A 401 is the
    exception: no one is authenticated to refuse (and anonymous noise must not fill the log)."""
    return 1 if status in (403, 404) else 0


def _token_id(ctx: Context, username: str) -> str:
    from yaosu.accounts import credentials

    with ctx.db.transaction() as session:
        token, _ = credentials.create_token(
            session, actor(ctx, username), name="to-revoke", scopes=("read",)
        )
        return token.id


@pytest.fixture(autouse=True)
def _no_worker(ctx: Context) -> None:
    """The matrix's job must stay queued: no worker thread picks it up during the test."""
    ctx.settings = ctx.settings.model_copy(update={"task_workers": 0})


# --- the console: every page and form, every role ------------------------------------------

# Pages of the frame that authenticate rather than authorise (tested in tests/accounts).
CONSOLE_EXEMPT = {("POST", "/login")}


@dataclass(frozen=True)
class Page:
    method: str
    route: str  # as the router declares it
    path: str
    allowed: frozenset[str]
    form: Any = None  # dict, or a function of the role


def console_cases(w: dict[str, Any]) -> list[Page]:
    res, c, r, n = w["res"], w["contract"], w["request"], w["notice"]
    party = BUREAU | OVERSIGHT | {CO}
    public = EVERYONE
    return [
        Page("GET", "/", "/", public),
        Page("GET", "/lang/{code}", "/lang/en?next=/catalog", public),
        Page("GET", "/home", "/home", SIGNED_IN),
        Page("GET", "/inbox", "/inbox", SIGNED_IN),
        Page("GET", "/login", "/login", public),
        Page("GET", "/org", "/org", SIGNED_IN),
        Page("GET", "/tokens", "/tokens", SIGNED_IN),
        Page("GET", "/catalog", "/catalog", public),
        Page("GET", "/datasets/new", "/datasets/new", SIGNED_IN),
        Page("GET", "/datasets/{dataset_id}", f"/datasets/{res}", public),
        Page("GET", "/datasets/{dataset_id}/lineage", f"/datasets/{res}/lineage", public),
        Page(
            "GET", "/datasets/{dataset_id}/upload", f"/datasets/{res}/upload", frozenset({BA, BN})
        ),
        Page(
            "GET", "/datasets/{dataset_id}/privacy", f"/datasets/{res}/privacy", BUREAU | {P, CAC}
        ),
        Page(
            "GET",
            "/datasets/{dataset_id}/privacy/tasks",
            f"/datasets/{res}/privacy/tasks",
            SIGNED_IN,
        ),
        Page(
            "GET",
            "/datasets/{dataset_id}/privacy/derivations/{derivation_id}",
            f"/datasets/{res}/privacy/derivations/{w['derivation']}",
            BUREAU | {P},
        ),
        Page("GET", "/query", f"/query?contract={c}", party),
        Page(
            "GET",
            "/datasets/{dataset_id}/dictionary",
            f"/datasets/{res}/dictionary",
            frozenset({BA, BN}),
        ),
        Page("GET", "/requests/new", f"/requests/new?dataset={res}", SIGNED_IN),
        Page("GET", "/requests", "/requests", SIGNED_IN),
        Page("GET", "/reviews", "/reviews", SIGNED_IN),
        Page("GET", "/requests/{request_id}", f"/requests/{r}", party),
        Page("GET", "/contracts", "/contracts", SIGNED_IN),
        Page("GET", "/contracts/{contract_id}", f"/contracts/{c}", party),
        Page("GET", "/market/statements", "/market/statements", SIGNED_IN),
        Page("GET", "/market/reconciliation", "/market/reconciliation", OVERSIGHT),
        Page("POST", "/market/bank-imports", "/market/bank-imports", frozenset({P})),
        Page(
            "POST",
            "/market/settlements",
            "/market/settlements",
            frozenset({P}),
            form={"period": ""},
        ),
        Page("GET", "/rights", "/rights", SIGNED_IN),
        Page("GET", "/registrations/{registration_id}", f"/registrations/{n}", public),
        Page("GET", "/notices", "/notices", public),
        Page("GET", "/market/orders", "/market/orders", SIGNED_IN),
        Page("GET", "/market/annual-report", "/market/annual-report", SIGNED_IN),
        Page("GET", "/market/shares", "/market/shares", SIGNED_IN),
        Page(
            "POST",
            "/market/shares/{line_id}/objection",
            f"/market/shares/{w['held_share']}/objection",
            frozenset({BA, BN}),
            form={"reason": "矩阵测试：分成计算有误，请复核。"},
        ),
        Page(
            "POST",
            "/market/objections/{objection_id}/escalation",
            f"/market/objections/{w['share_objection']}/escalation",
            frozenset({AI}),
        ),
        Page(
            "POST",
            "/market/objections/{objection_id}/decision",
            f"/market/objections/{w['share_objection']}/decision",
            OVERSIGHT,
            form={"outcome": "stand", "note": "矩阵测试：经核实维持原分成。"},
        ),
        Page(
            "POST",
            "/market/products/{product_id}/sharing",
            f"/market/products/{w['waiting']}/sharing",
            frozenset({AI}),
            form={"pool": "0"},
        ),
        Page(
            "POST",
            "/market/products/{product_id}/valuations",
            f"/market/products/{w['forecast']}/valuations",
            frozenset({AI, P}),
        ),
        Page("GET", "/market/revenue", "/market/revenue", SIGNED_IN),
        Page(
            "GET", "/market/orders/{order_id}", f"/market/orders/{w['order']}", OVERSIGHT | {CO, AI}
        ),
        *(
            Page(
                "GET",
                f"/market/certificates/{{number}}/{{check}}{tail}",
                f"/market/certificates/{w['certificate_number']}/{w['certificate_check']}{tail}",
                public,
            )
            for tail in ("", "/file", "/pdf")
        ),
        Page("GET", "/market", "/market", public),
        Page("GET", "/market/tariffs", "/market/tariffs", public),
        Page("GET", "/market/new", "/market/new", SIGNED_IN),
        Page("GET", "/market/desk", "/market/desk", SIGNED_IN),
        Page("GET", "/market/products/{product_id}", f"/market/products/{w['capped']}", public),
        Page(
            "GET",
            "/market/products/{product_id}/lineage",
            f"/market/products/{w['capped']}/lineage",
            public,
        ),
        Page(
            "GET",
            "/market/products/{product_id}/quote",
            f"/market/products/{w['capped']}/quote?purpose=industry_development&quantity=10",
            public,
        ),
        Page(
            "GET",
            "/market/products/{product_id}/steps",
            f"/market/products/{w['waiting']}/steps",
            frozenset({AI, P, CAC, DSJ, AS}),
        ),
        Page("GET", "/certificates/verify", "/certificates/verify", public),
        Page("GET", "/certificates/{code}", f"/certificates/{w['code']}", public),
        Page("GET", "/audit", "/audit", SIGNED_IN),
        Page("GET", "/audit/entries/{index}", f"/audit/entries/{w['entry']}", BUREAU | OVERSIGHT),
        Page("GET", "/audit/checkpoints", "/audit/checkpoints", SIGNED_IN),
        Page("GET", "/audit/verify", "/audit/verify", SIGNED_IN),
        Page("POST", "/audit/verify", "/audit/verify", SIGNED_IN, form={"key": "x"}),
        Page("POST", "/audit/export", "/audit/export", OVERSIGHT),
        # forms
        Page(
            "POST",
            "/certificates/verify",
            "/certificates/verify",
            public,
            form={"certificate": "{}"},
        ),
        Page(
            "POST",
            "/query",
            "/query",
            frozenset({CO}),
            form={"contract": c, "sql": f"SELECT COUNT(*) AS n FROM {res}", "epsilon": "0.1"},
        ),
        Page(
            "POST",
            "/query/estimate",
            "/query/estimate",
            party,
            form={"contract": c, "sql": f"SELECT COUNT(*) AS n FROM {res}", "epsilon": "0.1"},
        ),
        Page(
            "POST",
            "/requests/new/forecast",
            "/requests/new/forecast",
            SIGNED_IN,  # as the request form it sits in
            form={"dataset": res, "epsilon": "0.5"},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/dictionary",
            f"/datasets/{res}/dictionary",
            frozenset({BA, BN}),
            form={"column_0": "备注", "description_0": "矩阵测试"},
        ),
        Page("POST", "/tokens", "/tokens", SIGNED_IN, form={"name": "matrix", "scopes": "read"}),
        Page(
            "POST",
            "/org/members",
            "/org/members",
            frozenset({P, BA, AI, CO, AS}),  # each organisation's admin, in its own
            form=lambda role: {
                "username": f"matrix-{role}",
                "password": "a-long-password-2026",
                "role": "member",
            },
        ),
        Page(
            "POST",
            "/datasets/new",
            "/datasets/new",
            frozenset({BA, BN, CO}),
            form={"title": "矩阵测试数据", "theme": "测试"},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/privacy/preview",
            f"/datasets/{res}/privacy/preview",
            frozenset({BA, BN}),
            form={"recipe": '{"columns": {"姓名": {"op": "drop"}}}'},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/privacy/deidentify/confirm",
            f"/datasets/{res}/privacy/deidentify/confirm",
            frozenset({BA, BN}),
            form={"recipe": '{"columns": {"姓名": {"op": "drop"}}}'},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/privacy/screen",
            f"/datasets/{res}/privacy/screen",
            BUREAU | {P},
        ),
        Page(
            "GET",
            "/datasets/{dataset_id}/privacy-unit",
            f"/datasets/{res}/privacy-unit",
            BUREAU | {P},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/privacy-unit",
            f"/datasets/{res}/privacy-unit",
            frozenset({BA, BR}),
            form={"kind": "columns", "columns": ["身份证号"], "note": "矩阵测试"},
        ),
        Page(
            "POST",
            "/screens/{screen_id}/review",
            f"/screens/{w['screen']}/review",
            frozenset({BA, BR}),
            form={"note": "矩阵测试"},
        ),
        Page(
            "POST",
            "/requests/new",
            "/requests/new",
            frozenset({AI, CO}),
            form={
                "dataset": res,
                "purpose": "public_welfare",
                "fields": "所属乡镇",
                "operations": "aggregate",
                "days": "10",
                "justification": "矩阵测试：按乡镇统计。",
            },
        ),
        Page(
            "POST",
            "/rights/apply",
            "/rights/apply",
            frozenset({BA, BN}),
            form={"kind": "holding", "dataset": res, "statement": "矩阵测试的原始登记"},
        ),
        Page(
            "POST",
            "/registrations/{registration_id}/object",
            f"/registrations/{n}/object",
            frozenset({P, CO, CAC, DSJ, AS}),
            form={"reason": "矩阵测试的异议理由"},
        ),
        Page(
            "POST",
            "/tokens/{token_id}/revoke",
            f"/tokens/{w['token']}/revoke",
            frozenset({BA, P}),
        ),
        Page(
            "POST",
            "/market/new",
            "/market/new",
            frozenset({BA, BN, AI, CO}),
            form={
                "kind": "query_service",
                "title": "矩阵测试产品",
                "dataset": w["farm"],
                "public_data": "yes",
                "pricing_class": "capped",
                "model": "fixed",
                "unit": "calls",
                "unit_price": "0.10",
                "purposes": "industry_development",
            },
        ),
        Page(
            "POST",
            "/market/products/{product_id}/step",
            f"/market/products/{w['waiting']}/step",
            frozenset({AI}),  # already submitted: back with the error, nothing refused
            form={"action": "submit"},
        ),
        Page(
            "POST",
            "/market/products/{product_id}/review",
            f"/market/products/{w['capped']}/review",
            frozenset({BA, BR, DSJ}),
            form={"decision": "approve"},
        ),
        Page(
            "POST",
            "/market/products/{product_id}/report",
            f"/market/products/{w['waiting']}/report",
            frozenset({AS}),
            form={"kind": "quality", "score": "80", "summary": "矩阵测试"},
        ),
        Page(
            "POST",
            "/market/products/{product_id}/cap",
            f"/market/products/{w['waiting']}/cap",
            frozenset({DSJ, P}),
            form={"cap": "10.00"},
        ),
        Page(
            "POST",
            "/market/products/{product_id}/order",
            f"/market/products/{w['capped']}/order",
            frozenset({CO}),
            form={
                "purpose": "industry_development",
                "quantity": "10",
                "justification": "矩阵测试：测算各乡镇农产品销量。",
            },
        ),
        Page(
            "POST",
            "/market/products/{product_id}/negotiations",
            f"/market/products/{w['model']}/negotiations",
            frozenset({BA, BN, CO, P, AS}),
            form={"purpose": "industry_development", "quantity": "1", "amount": "1000.00"},
        ),
        Page(
            "POST",
            "/market/negotiations/{negotiation_id}/answer",
            f"/market/negotiations/{w['deal']}/answer",
            frozenset({AI, CO}),  # already accepted: back with the error, nothing refused
            form={"answer": "decline"},
        ),
        Page(
            "POST",
            "/market/orders/{order_id}/step",
            f"/market/orders/{w['disputed']}/step",
            frozenset({P, CAC, DSJ}),
            form={
                "action": "resolve",
                "outcome": "refund",
                "reason": "矩阵测试：经核实退款给买方。",
            },
        ),
        # --- compute (issue 16) ---
        Page("GET", "/algorithms", "/algorithms", public),
        Page("GET", "/algorithms/new", "/algorithms/new", SIGNED_IN),
        Page("GET", "/algorithms/filings", "/algorithms/filings", frozenset({CAC})),
        Page("GET", "/algorithms/{algorithm_id}", f"/algorithms/{w['algorithm']}", public),
        Page(
            "GET",
            "/datasets/{dataset_id}/algorithms",
            f"/datasets/{w['farm']}/algorithms",
            BUREAU | OVERSIGHT,
        ),
        Page("GET", "/compute/jobs", "/compute/jobs", SIGNED_IN),
        Page(
            "GET",
            "/compute/jobs/new",
            f"/compute/jobs/new?contract={w['compute_contract']}",
            BUREAU | OVERSIGHT | {AI},
        ),
        Page(
            "GET", "/compute/jobs/{job_id}", f"/compute/jobs/{w['job']}", BUREAU | OVERSIGHT | {AI}
        ),
        Page(
            "GET",
            "/compute/jobs/{job_id}/status",
            f"/compute/jobs/{w['job']}/status",
            BUREAU | OVERSIGHT | {AI},
        ),
        # --- ethics review: the committees are public to the signed-in, a review is its
        # applicant's (AI), its committee's secretariat's (the bureau's admin and reviewer)
        # and oversight's
        Page("GET", "/ethics/committees", "/ethics/committees", SIGNED_IN),
        Page("GET", "/ethics/committees/new", "/ethics/committees/new", SIGNED_IN),
        Page(
            "GET",
            "/ethics/committees/{committee_id}",
            f"/ethics/committees/{w['ethics_committee']}",
            SIGNED_IN,
        ),
        Page("GET", "/ethics/reviews", "/ethics/reviews", SIGNED_IN),
        Page(
            "GET",
            "/ethics/reviews/{review_id}",
            f"/ethics/reviews/{w['ethics_review']}",
            OVERSIGHT | {AI, BA, BR},
        ),
        Page(
            "GET",
            "/algorithms/{algorithm_id}/ethics",
            f"/algorithms/{w['algorithm']}/ethics",
            SIGNED_IN,
        ),
        Page(
            "POST",
            "/algorithms/new",
            "/algorithms/new",
            frozenset({P, BA, BN, AI, CO, AS}),
            form={
                "name": "矩阵测试算法",
                "algorithm_type": "scheduling",
                "service_form": "平台内计算",
                "field": "测试",
                "uses": "statistics",
                "subjects": "aggregates",
                "responsible_name": "测试",
                "responsible_title": "负责人",
                "responsible_contact": "test@example.org",
                "self_assessment": "矩阵测试：仅输出汇总统计，不涉及个人，不作个体决策。",
                "principle": "矩阵测试：按乡镇汇总统计。",
                "purpose": "矩阵测试：检查授权矩阵。",
                "mechanism": "矩阵测试：在平台沙箱中运行。",
            },
        ),
        Page(
            "POST",
            "/algorithms/{algorithm_id}/changes",
            f"/algorithms/{w['algorithm']}/changes",
            frozenset({AI}),
            form={"summary": "矩阵测试的变更"},
        ),
        Page(
            "POST",
            "/algorithms/{algorithm_id}/resubmit",
            f"/algorithms/{w['algorithm']}/resubmit",
            frozenset({AI}),
        ),
        Page(
            "POST",
            "/algorithms/{algorithm_id}/deregistration",
            f"/algorithms/{w['pending_algorithm']}/deregistration",
            frozenset({AI}),
            form={"reason": "矩阵测试"},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/algorithms",
            f"/datasets/{w['farm']}/algorithms",
            frozenset({BA, BR}),
            form={"version": f"{w['algorithm']}:1"},
        ),
        Page(
            "POST",
            "/compute/jobs/new",
            "/compute/jobs/new",
            frozenset({AI}),
            form={"contract": w["compute_contract"], "algorithm": w["algorithm"], "params": "{}"},
        ),
        Page(
            "POST",
            "/compute/jobs/{job_id}/review",
            f"/compute/jobs/{w['job']}/review",
            frozenset({BA, BR}),
            form={"decision": "reject", "reason": "矩阵测试"},
        ),
        Page(
            "POST",
            "/compute/jobs/{job_id}/approval",
            f"/compute/jobs/{w['job']}/approval",
            frozenset({BA, BR}),
            form={"decision": "approve", "reason": "矩阵测试"},
        ),
        Page(
            "POST",
            "/compute/jobs/{job_id}/cancel",
            f"/compute/jobs/{w['job']}/cancel",
            frozenset({AI}),
        ),
        Page(
            "POST",
            "/algorithms/{algorithm_id}/filings/{filing_id}/decision",
            f"/algorithms/{w['pending_algorithm']}/filings/{w['filing']}/decision",
            frozenset({CAC}),
            form={"decision": "return", "reason": "矩阵测试：材料不齐全"},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/algorithms/{trusted_id}/revoke",
            f"/datasets/{w['farm']}/algorithms/{w['trusted']}/revoke",
            frozenset({BA, BR}),
            form={"reason": "矩阵测试"},
        ),
        # ethics forms, each posted incomplete: allowed means it got past the policy
        Page(
            "POST",
            "/ethics/committees/new",
            "/ethics/committees/new",
            frozenset({P, BA, AI, CO, AS}),  # each organisation's admin, for its own
            form={"name": "矩阵测试委员会"},
        ),
        Page(
            "POST",
            "/ethics/committees/{committee_id}",
            f"/ethics/committees/{w['ethics_committee']}",
            frozenset({BA}),
            form={"entrusted": "yes"},
        ),
        Page(
            "POST",
            "/algorithms/{algorithm_id}/ethics",
            f"/algorithms/{w['algorithm']}/ethics",
            frozenset({AI}),
            form={"committee": w["ethics_committee"], "plan": "矩阵测试"},
        ),
        Page(
            "POST",
            "/ethics/reviews/{review_id}/meeting",
            f"/ethics/reviews/{w['ethics_review']}/meeting",
            frozenset({BA, BR}),
            form={"held_on": "2026-01-13"},
        ),
        Page(
            "POST",
            "/ethics/reviews/{review_id}/re-review",
            f"/ethics/reviews/{w['ethics_review']}/re-review",
            frozenset(),  # the competent department (科技) is not in the demo world
            form={"decision": "approve"},
        ),
        Page(
            "POST",
            "/ethics/reviews/{review_id}/resubmit",
            f"/ethics/reviews/{w['ethics_review']}/resubmit",
            frozenset({AI}),
            form={"plan": "矩阵测试"},
        ),
        # what changes state the others depend on, last
        Page(
            "POST",
            "/requests/{request_id}/review",
            f"/requests/{r}/review",
            frozenset({BA, BR, CAC}),
            form={"decision": "approve", "reason": "矩阵测试"},
        ),
        Page("POST", "/requests/{request_id}/withdraw", f"/requests/{r}/withdraw", frozenset({CO})),
        Page(
            "POST",
            "/contracts/{contract_id}/acceptance",
            f"/contracts/{c}/acceptance",
            frozenset({CO}),
            form={"decision": "accept"},
        ),
        Page(
            "POST",
            "/contracts/{contract_id}/extracts",
            f"/contracts/{w['extract_contract']}/extracts",
            frozenset({AI}),
            form={"dataset": res, "format": "csv"},
        ),
        Page(
            "POST",
            "/contracts/{contract_id}/status",
            f"/contracts/{c}/status",
            frozenset({BA, P, CAC, DSJ}),
            form={"action": "suspend", "reason": "矩阵测试"},
        ),
        Page(
            "POST",
            "/registrations/{registration_id}/step",
            f"/registrations/{n}/step",
            frozenset({P}),
            form={"action": "accept"},
        ),
        Page(
            "POST",
            "/objections/{objection_id}/resolve",
            f"/objections/{w['objection']}/resolve",
            frozenset({P}),
            form={"upheld": "no", "resolution": "矩阵测试"},
        ),
        Page(
            "POST",
            "/datasets/{dataset_id}/privacy/deidentify",
            f"/datasets/{res}/privacy/deidentify",
            frozenset({BA, BN}),
            form={
                "recipe": '{"columns": {"姓名": {"op": "drop"}}}',
                "version": "1",
                "confirmed": "yes",
            },
        ),
        Page("POST", "/logout", "/logout", public),  # ends the sessions: the very last
    ]


def console_routes(app: Any) -> set[tuple[str, str]]:
    """Every console route the app serves, whichever module declares it: everything that is
    not the API, its docs, static files (and /favicon.ico, a redirect to one) or the health
    check."""
    from fastapi.routing import APIRoute

    found: set[tuple[str, str]] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)  # an included router
            if inner is not None:
                walk(inner.routes)
            elif (
                isinstance(route, APIRoute)
                and not route.path.startswith(("/api/", "/docs", "/redoc", "/static"))
                and route.path not in ("/openapi.json", "/healthz", "/favicon.ico")
            ):
                found.update((m, route.path) for m in route.methods)

    walk(app.routes)
    return found


def _routes(router: Any) -> set[tuple[str, str]]:
    return {(m, r.path) for r in router.routes for m in r.methods}


def test_every_console_page_for_every_role(app_client: TestClient, ctx: Context) -> None:
    """The console answers like the API: every page and form, for every role, is allowed or
    refused as stated, and every refusal writes exactly one deny entry to the audit log
    (a page that shows the refusal itself must not swallow it)."""
    from yaosu.accounts import credentials
    from yaosu.web.deps import SESSION_COOKIE

    w = world(ctx)
    w["token"] = _token_id(ctx, BA)
    sessions = {}
    for role in USERS:
        with ctx.db.transaction() as session:
            console, secret, _ = credentials.login(session, username=role, password=DEMO_PASSWORD)
            sessions[role] = (secret, console.csrf_token)
    table = console_cases(w)
    covered = {(p.method, p.route) for p in table} | CONSOLE_EXEMPT
    assert console_routes(app_client.app) - covered == set(), (
        "console routes missing from the matrix"
    )
    wrong = []
    for page in table:
        for role in sorted(EVERYONE):
            app_client.cookies.clear()
            headers = {}
            if role != ANON:
                secret, csrf_token = sessions[role]
                app_client.cookies.set(SESSION_COOKIE, secret)
                headers["X-CSRF-Token"] = csrf_token
            form = page.form(role) if callable(page.form) else page.form
            before = denials(ctx)
            got = app_client.request(
                page.method,
                page.path,
                headers=headers,
                data=form if page.method == "POST" else None,
                follow_redirects=False,
            )
            audited = denials(ctx) - before
            where = got.headers.get("location", "")
            refused = (
                got.status_code in (403, 404)
                or (got.status_code == 303 and "error=" in where)
                or (got.status_code == 200 and 'class="error-message" role="alert"' in got.text)
            )
            anon_bounced = got.status_code == 303 and where.startswith("/login")
            label = f"{page.method} {page.path} as {role} ({got.status_code} {where})"
            if role in page.allowed:
                if got.status_code >= 500 or got.status_code in (401, 403, 404) or audited:
                    wrong.append(f"{label}: want allowed, {audited} deny entries")
            elif role == ANON:
                if not anon_bounced or audited:
                    wrong.append(f"{label}: want a redirect to log in, {audited} deny entries")
            elif not (refused or 400 <= got.status_code < 500) or audited != 1:
                wrong.append(f"{label}: want refused with one deny entry, got {audited}")
    assert wrong == [], "\n".join(wrong)
