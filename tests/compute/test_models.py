"""Trained models leave a compute job only where the contract lets them (its ``models`` term),
never automatically: a model is searched for identifying input values and then held for the
provider's reviewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compute import conftest
from tests.compute.conftest import compute_contract, run_queued
from tests.conftest import actor
from yaosu.authorization import service as authorization
from yaosu.authorization.odrl import parse, to_odrl
from yaosu.authorization.schemas import RequestCreate
from yaosu.compute import bundles, jobs, service
from yaosu.compute.models import ComputeJob
from yaosu.compute.schemas import JobCreate
from yaosu.context import Context
from yaosu.kernel.errors import InvalidInput

MODELLER = Path(__file__).parent / "algorithms" / "modeller"


def _filed(ctx: Context) -> str:
    analyst, cac = actor(ctx, "ai-analyst"), actor(ctx, "cac-inspector")
    alg = service.run_file(
        ctx,
        analyst,
        data=conftest.form(name="农资需求模型训练", uses=["model_training"]),
        bundle=bundles.zip_folder(MODELLER),
    )
    with ctx.db.transaction() as session:
        (filing,) = service.filings_of(session, algorithm_id=alg.id)
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
        )
    return alg.id


def _run(ctx: Context, contract: str, alg: str, how: str) -> ComputeJob:
    job = jobs.run_submit(
        ctx,
        actor(ctx, "ai-analyst"),
        data=JobCreate(contract_id=contract, algorithm_id=alg, params={"how": how}),
    )
    with ctx.db.transaction() as session:
        jobs.decide_approval(
            session,
            actor(ctx, "shiqiao-reviewer"),
            job_id=job.id,
            approve=True,
            reason="测试",
            trust=False,
        )
    run_queued(ctx)
    with ctx.db.transaction() as session:
        done = session.get(ComputeJob, job.id)
        assert done is not None
        session.expunge(done)
        return done


def _findings(job: ComputeJob, check: str) -> list[dict[str, object]]:
    return [f for f in job.check["findings"] if f["check"] == check]


def test_without_the_term_a_model_never_leaves(ctx: Context) -> None:
    alg = _filed(ctx)
    done = _run(ctx, compute_contract(ctx, alg), alg, "coefficients")
    assert done.status == "rejected" and done.outputs == []
    (kind,) = _findings(done, "kind")
    assert "does not allow models" in str(kind["message"]["en"])


def test_with_the_term_a_clean_model_waits_for_a_person(ctx: Context) -> None:
    alg = _filed(ctx)
    done = _run(ctx, compute_contract(ctx, alg, models=True), alg, "coefficients")
    assert done.status == "held"
    assert _findings(done, "model") and not _findings(done, "raw_values")


def test_a_model_holding_personal_information_is_rejected(ctx: Context) -> None:
    alg = _filed(ctx)
    done = _run(ctx, compute_contract(ctx, alg, models=True), alg, "personal")
    assert done.status == "rejected" and done.outputs == []
    assert any(f["output"] == "model" for f in _findings(done, "personal"))


def test_the_term_is_asked_for_with_compute_only_and_survives_odrl(ctx: Context) -> None:
    alg = _filed(ctx)
    contract_id = compute_contract(ctx, alg, models=True)
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(
            session, actor(ctx, "ai-analyst"), contract_id=contract_id
        )
        assert contract.models is True
        policy = to_odrl(contract)
        assert {"leftOperand": "yaosu:modelOutput", "operator": "eq", "rightOperand": True} in [
            c for p in policy["permission"] for c in p.get("constraint", [])
        ]
        assert parse(policy)["models"] is True
    with pytest.raises(InvalidInput, match="trained model"), ctx.db.transaction() as session:
        authorization.submit_request(
            session,
            actor(ctx, "ai-analyst"),
            settings=ctx.settings,
            data=RequestCreate(
                purpose="rural_revitalisation",
                datasets={next(iter(contract.datasets)): ["村"]},
                operations=["aggregate"],
                models=True,
                days=30,
                justification="测试：只做汇总查询，却要求模型输出。",
            ),
        )
