"""Compute-to-data jobs end to end: submitted under a contract, approved by the provider (its
trusted list), run in the sandbox on exactly what the contract grants, outputs checked, and
released, held or rejected; every step audited; what may go wrong ends with its reason."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.compute.conftest import FIELDS, compute_contract, run_queued
from tests.conftest import actor, token_for
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import Contract
from yaosu.compute import bundles, jobs, service
from yaosu.compute.models import Algorithm, ComputeJob, TrustedAlgorithm
from yaosu.compute.schemas import JobCreate
from yaosu.context import Context
from yaosu.demo.compute import FILING as DEMO_FILING
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Forbidden, InvalidInput, NotFound, NotNow
from yaosu.lineage import service as lineage

LEAKY = Path(__file__).parent / "algorithms" / "leaky"


def _job(ctx: Context, job_id: str) -> ComputeJob:
    with ctx.db.transaction() as session:
        job = session.get(ComputeJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _demo(ctx: Context) -> tuple[str, str]:
    """The demo's algorithm and its compute contract."""
    with ctx.db.transaction() as session:
        alg = session.scalars(select(Algorithm).where(Algorithm.name == DEMO_FILING["name"])).one()
        contract = session.scalars(
            select(Contract).where(Contract.algorithm == alg.filing_number)
        ).one()
        return alg.id, contract.id


def _actions(ctx: Context, job_id: str) -> list[str]:
    with ctx.db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_id == job_id)
                .order_by(AuditEntry.seq)
            )
        )


def test_the_demo_released_one_job_and_holds_another(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        found = {bool(j.params.get("by_month")): j for j in session.scalars(select(ComputeJob))}
        for j in found.values():
            session.expunge(j)
    released, held = found[False], found[True]
    assert released.status == "released", released.status_reason
    assert {o["name"] for o in released.outputs} == {
        "demand",
        "forecast",
        "metrics",
        "report",
    }
    assert released.check["verdict"] == "pass"
    assert released.inputs[0]["columns"] == FIELDS
    assert released.cleaned_at is not None and released.outcome["status"] == "ok"
    assert held.status == "held"
    assert any(f["check"] == "min_cell" for f in held.check["findings"])
    assert _actions(ctx, released.id)[:1] == ["compute.submit"]
    assert "compute.release" in _actions(ctx, released.id)
    assert "compute.check" in _actions(ctx, held.id)


def test_a_trusted_hash_runs_without_asking_and_the_consumer_downloads(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    with ctx.db.transaction() as session:
        uses_before = session.get(Contract, contract_id).uses  # type: ignore[union-attr]
    job = jobs.run_submit(
        ctx, ai, data=JobCreate(contract_id=contract_id, algorithm_id=alg_id, params={"months": 2})
    )
    assert job.status == "queued"  # the bureau trusts this hash for its dataset already
    run_queued(ctx)
    done = _job(ctx, job.id)
    assert done.status == "released", done.status_reason
    path, output = jobs.run_download(ctx, ai, job_id=job.id, name="demand")
    assert output["kind"] == "statistics" and output["suffix"] == ".parquet"
    table = pq.read_table(io.BytesIO(path.read_bytes()))
    assert {"村", "品类", "_n"} <= set(table.column_names) and table.num_rows == 12
    assert not {"_max1", "_max2", "_total"} & set(table.column_names)  # one record's values
    assert "compute.download" in _actions(ctx, job.id)
    with pytest.raises(Forbidden):  # the provider sees the job but does not take its outputs
        jobs.run_download(ctx, reviewer, job_id=job.id, name="demand")
    with pytest.raises(NotFound):
        jobs.run_download(ctx, ai, job_id=job.id, name="nothing")
    with ctx.db.transaction() as session:
        assert session.get(Contract, contract_id).uses == uses_before + 1  # type: ignore[union-attr]
        events = lineage.list_events(session, ai, name=f"compute/{job.id}/forecast")
        assert events and events[-1].job == "compute.job"


def test_an_untrusted_hash_waits_for_the_provider_who_may_refuse(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    ai, reviewer, coop = (actor(ctx, u) for u in ("ai-analyst", "shiqiao-reviewer", "coop-manager"))
    with ctx.db.transaction() as session:
        (entry,) = session.scalars(select(TrustedAlgorithm)).all()
        service.distrust(session, reviewer, trusted_id=entry.id, reason="复核算法")
    first = jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract_id, algorithm_id=alg_id))
    second = jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract_id, algorithm_id=alg_id))
    assert first.status == second.status == "awaiting_approval"
    with pytest.raises(NotFound), ctx.db.transaction() as session:  # no part in it: not there
        jobs.decide_approval(session, coop, job_id=first.id, approve=True, reason="", trust=False)
    with pytest.raises(Forbidden), ctx.db.transaction() as session:  # the consumer cannot
        jobs.decide_approval(session, ai, job_id=first.id, approve=True, reason="", trust=False)
    with pytest.raises(InvalidInput), ctx.db.transaction() as session:
        jobs.decide_approval(
            session, reviewer, job_id=first.id, approve=False, reason="", trust=False
        )
    with ctx.db.transaction() as session:
        jobs.decide_approval(
            session, reviewer, job_id=first.id, approve=False, reason="用途与数据不符", trust=False
        )
        jobs.decide_approval(
            session, reviewer, job_id=second.id, approve=True, reason="同意", trust=False
        )
    assert _job(ctx, first.id).status == "rejected"
    assert "用途与数据不符" in (_job(ctx, first.id).status_reason or {})["zh"]
    assert _job(ctx, second.id).status == "queued"
    with ctx.db.transaction() as session:  # approved once, not trusted: the list stays empty
        assert not session.scalars(
            select(TrustedAlgorithm).where(TrustedAlgorithm.revoked_at.is_(None))
        ).all()


def test_trust_withdrawn_after_queueing_fails_the_job_at_its_start(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    job = jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract_id, algorithm_id=alg_id))
    with ctx.db.transaction() as session:
        (entry,) = session.scalars(select(TrustedAlgorithm)).all()
        service.distrust(session, reviewer, trusted_id=entry.id, reason="暂停使用")
    run_queued(ctx)
    failed = _job(ctx, job.id)
    assert failed.status == "failed" and failed.outputs == []
    assert "withdrew" in (failed.status_reason or {})["en"]


def test_a_tampered_algorithm_never_runs(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    with ctx.db.transaction() as session:
        (version,) = service.versions_of(session, algorithm_id=alg_id)
        stored = next(f for f in version.files if f["path"] == "village_inputs.py")
    path = ctx.store.path(stored["sha256"], service.SUFFIX)
    path.chmod(0o644)
    path.write_bytes(
        b"def run(inputs, params):\n    return {'tables': {'x': list(inputs.values())[0]}}\n"
    )
    job = jobs.run_submit(
        ctx, actor(ctx, "ai-analyst"), data=JobCreate(contract_id=contract_id, algorithm_id=alg_id)
    )
    run_queued(ctx)
    failed = _job(ctx, job.id)
    assert failed.status == "failed" and "village_inputs.py" in (failed.status_reason or {})["en"]
    assert failed.outcome == {}  # the sandbox was never started


@pytest.mark.parametrize("how", ["whole", "shuffled"])
def test_raw_rows_never_leave(ctx: Context, how: str) -> None:
    leaky = _filed_leaky(ctx)
    contract = compute_contract(ctx, leaky)
    ai = actor(ctx, "ai-analyst")
    job = jobs.run_submit(
        ctx, ai, data=JobCreate(contract_id=contract, algorithm_id=leaky, params={"how": how})
    )
    _approve(ctx, job.id)
    run_queued(ctx)
    done = _job(ctx, job.id)
    assert done.status == "rejected" and done.outputs == []
    assert any(f["check"] == "raw_rows" for f in done.check["findings"])
    with pytest.raises(NotNow):
        jobs.run_download(ctx, ai, job_id=job.id, name="copy")


def test_the_api_shows_an_ended_job_with_its_reason_in_both_languages(
    app_client: TestClient, ctx: Context
) -> None:
    """A job that ended carries its reason as {"zh", "en"}: the API answered 500 for it."""
    leaky = _filed_leaky(ctx)
    contract = compute_contract(ctx, leaky)
    ai = actor(ctx, "ai-analyst")
    job = jobs.run_submit(
        ctx, ai, data=JobCreate(contract_id=contract, algorithm_id=leaky, params={"how": "whole"})
    )
    _approve(ctx, job.id)
    run_queued(ctx)
    headers = {"Authorization": f"Bearer {token_for(ctx, 'ai-analyst')}"}
    got = app_client.get(f"/api/v1/compute/jobs/{job.id}", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "rejected"
    assert set(got.json()["status_reason"]) == {"zh", "en"}


def test_a_failing_algorithm_fails_with_its_checked_log(ctx: Context) -> None:
    leaky = _filed_leaky(ctx)
    contract = compute_contract(ctx, leaky)
    job = jobs.run_submit(
        ctx,
        actor(ctx, "ai-analyst"),
        data=JobCreate(contract_id=contract, algorithm_id=leaky, params={"how": "fail"}),
    )
    _approve(ctx, job.id)
    run_queued(ctx)
    done = _job(ctx, job.id)
    assert done.status == "failed" and done.outcome["status"] == "failed"
    assert "the algorithm failed on purpose" in done.log


def test_a_contract_that_names_another_algorithm_or_no_compute_is_refused(ctx: Context) -> None:
    alg_id, _ = _demo(ctx)
    leaky = _filed_leaky(ctx)
    other = compute_contract(ctx, leaky)
    ai = actor(ctx, "ai-analyst")
    with pytest.raises(InvalidInput, match="names the algorithm"):
        jobs.run_submit(ctx, ai, data=JobCreate(contract_id=other, algorithm_id=alg_id))
    with pytest.raises(InvalidInput, match="schema"):
        jobs.run_submit(
            ctx, ai, data=JobCreate(contract_id=other, algorithm_id=leaky, params={"how": "?"})
        )
    with ctx.db.transaction() as session:
        count = len(session.scalars(select(ComputeJob.id)).all())
    with ctx.db.transaction() as session:  # a contract for aggregates only
        aggregate = session.scalars(
            select(Contract).where(
                Contract.consumer_org_id == ai.org_id, Contract.algorithm.is_(None)
            )
        ).first()
    if aggregate is not None:
        with pytest.raises((Forbidden, InvalidInput)):
            jobs.run_submit(ctx, ai, data=JobCreate(contract_id=aggregate.id, algorithm_id=alg_id))
    with ctx.db.transaction() as session:
        assert len(session.scalars(select(ComputeJob.id)).all()) == count  # nothing written


def test_a_red_line_on_the_purpose_refuses_the_job(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    ctx.settings.red_lines = [
        {
            "code": "no_rural_forecasts",
            "title": "不得用于乡村振兴预测",
            "uses": ["forecasting"],
            "purposes": ["rural_revitalisation"],
        }
    ]
    try:
        with pytest.raises(Forbidden, match="no_rural_forecasts"):
            jobs.run_submit(
                ctx,
                actor(ctx, "ai-analyst"),
                data=JobCreate(contract_id=contract_id, algorithm_id=alg_id),
            )
    finally:
        ctx.settings.red_lines = None


def test_the_reviewer_releases_or_rejects_held_outputs(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        held = session.scalars(select(ComputeJob).where(ComputeJob.status == "held")).one()
        held_id = held.id
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    with pytest.raises(NotNow):
        jobs.run_download(ctx, ai, job_id=held_id, name="report")
    with pytest.raises(Forbidden), ctx.db.transaction() as session:
        jobs.review(session, ai, job_id=held_id, release=True, reason="我自己放行")
    with ctx.db.transaction() as session:
        jobs.review(
            session, reviewer, job_id=held_id, release=True, reason="村级汇总用于配送，可接受"
        )
    assert _job(ctx, held_id).status == "released"
    jobs.run_download(ctx, ai, job_id=held_id, name="report")
    with pytest.raises(NotNow), ctx.db.transaction() as session:
        jobs.review(session, reviewer, job_id=held_id, release=False, reason="再审")


def test_jobs_that_wait_too_long_end_with_the_reason(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    with ctx.db.transaction() as session:
        (entry,) = session.scalars(select(TrustedAlgorithm)).all()
        service.distrust(session, reviewer, trusted_id=entry.id, reason="复核")
    waiting = jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract_id, algorithm_id=alg_id))
    later = utcnow() + timedelta(days=ctx.settings.compute_review_days + 1)
    with ctx.db.transaction() as session:
        ended = jobs.expire(session, actor(ctx, "platform-admin"), now=later)
    assert waiting.id in ended
    assert _job(ctx, waiting.id).status == "failed"
    with ctx.db.transaction() as session:
        held = session.scalars(select(ComputeJob).where(ComputeJob.id.in_(ended))).all()
        assert {j.status for j in held} <= {"failed", "rejected"}
        assert any(j.status == "rejected" for j in held)  # the demo's held job, never reviewed


def test_cancel_a_queued_job(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    job = jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract_id, algorithm_id=alg_id))
    with pytest.raises(Forbidden), ctx.db.transaction() as session:
        jobs.cancel(session, reviewer, job_id=job.id)
    with ctx.db.transaction() as session:
        jobs.cancel(session, ai, job_id=job.id)
    run_queued(ctx)
    assert _job(ctx, job.id).status == "cancelled"
    assert _job(ctx, job.id).outcome == {}


def test_only_the_parties_and_oversight_see_a_job(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        job_id = session.scalars(select(ComputeJob.id)).first()
    for username, sees in (
        ("ai-analyst", True),
        ("shiqiao-reviewer", True),
        ("dsj-inspector", True),
        ("coop-manager", False),
    ):
        who = actor(ctx, username)
        with ctx.db.transaction() as session:
            listed = [j.id for j in jobs.list_jobs(session, who)]
            assert (job_id in listed) is sees, username
            if not sees:
                with pytest.raises(NotFound):
                    jobs.get_job(session, who, job_id=str(job_id))


def _filed_leaky(ctx: Context) -> str:
    from tests.compute import conftest

    analyst, cac = actor(ctx, "ai-analyst"), actor(ctx, "cac-inspector")
    alg = service.run_file(
        ctx, analyst, data=conftest.form(name="原样输出测试"), bundle=bundles.zip_folder(LEAKY)
    )
    with ctx.db.transaction() as session:
        (filing,) = service.filings_of(session, algorithm_id=alg.id)
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
        )
    return alg.id


def _approve(ctx: Context, job_id: str) -> None:
    reviewer = actor(ctx, "shiqiao-reviewer")
    with ctx.db.transaction() as session:
        jobs.decide_approval(
            session, reviewer, job_id=job_id, approve=True, reason="测试", trust=False
        )


def test_a_job_whose_worker_went_silent_fails_instead_of_hanging(ctx: Context) -> None:
    alg_id, contract_id = _demo(ctx)
    job = jobs.run_submit(
        ctx, actor(ctx, "ai-analyst"), data=JobCreate(contract_id=contract_id, algorithm_id=alg_id)
    )
    long_ago = utcnow() - timedelta(seconds=ctx.settings.compute_wall_seconds) - timedelta(hours=1)
    with ctx.db.transaction() as session:  # its worker took it, then died without a word
        found = session.get(ComputeJob, job.id)
        assert found is not None
        found.status, found.heartbeat_at = "running", long_ago
    platform = actor(ctx, "platform-admin")
    with ctx.db.transaction() as session:
        assert job.id not in jobs.expire(session, platform, now=long_ago + timedelta(minutes=1))
    with ctx.db.transaction() as session:
        assert job.id in jobs.expire(session, platform)
    ended = _job(ctx, job.id)
    assert ended.status == "failed" and "stopped reporting" in (ended.status_reason or {})["en"]
    assert "compute.fail" in _actions(ctx, job.id)


def test_a_job_reads_at_most_the_compute_limit_not_the_extracts(ctx: Context) -> None:
    """A job's inputs are bounded by ``compute_max_input_rows`` (an extract's own bound, 5M
    rows, once refused a 10M-row job)."""
    alg_id, contract_id = _demo(ctx)
    ctx.settings = ctx.settings.model_copy(update={"compute_max_input_rows": 100})
    job = jobs.run_submit(
        ctx, actor(ctx, "ai-analyst"), data=JobCreate(contract_id=contract_id, algorithm_id=alg_id)
    )
    run_queued(ctx)
    failed = _job(ctx, job.id)
    assert failed.status == "failed" and "100" in (failed.status_reason or {})["en"]
