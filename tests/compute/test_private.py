"""Under a contract with a privacy budget, a job's statistics leave through the platform's own
differential privacy and accounting: the platform recomputes what a ``summarise`` table
declares from the granted input, adds OpenDP's noise and debits the job's ε once; the
algorithm's numbers never leave, and what the platform cannot re-derive is held."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from tests.compute.conftest import compute_contract, run_queued
from tests.conftest import actor, dataset_id
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import Contract
from yaosu.catalog import dictionary, versions
from yaosu.catalog.schemas import DictionaryIn
from yaosu.compute import bundles, harness, jobs, private, service
from yaosu.compute.models import ComputeJob
from yaosu.compute.schemas import JobCreate
from yaosu.context import Context
from yaosu.kernel.actor import system_actor

BUNDLE = Path(__file__).parent / "algorithms" / "private"
DEMAND, CATEGORY = "需求量(吨)", "品类"
FAKE, FAKE_N = 7777777.0, 1234567  # what the test algorithm writes into its summary
CATEGORIES = ["化肥", "种子", "农药"]


def _setup(
    ctx: Context, *, budget: float | None, bounds: bool = True, spent: float = 0.0
) -> tuple[str, str]:
    """The test algorithm, filed; a compute contract for it (with ``budget``, ε ``spent``);
    石桥镇's dictionary declaring the categories and, with ``bounds``, the demand's range."""
    analyst, cac = actor(ctx, "ai-analyst"), actor(ctx, "cac-inspector")
    from tests.compute import conftest

    alg = service.run_file(
        ctx, analyst, data=conftest.form(name="差分隐私统计测试"), bundle=bundles.zip_folder(BUNDLE)
    )
    with ctx.db.transaction() as session:
        (filing,) = service.filings_of(session, algorithm_id=alg.id)
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
        )
    contract = compute_contract(ctx, alg.id)
    columns: list[dict[str, object]] = [{"column": CATEGORY, "domain": CATEGORIES}]
    if bounds:
        columns.append({"column": DEMAND, "lower": 0, "upper": 50})
    admin, data = actor(ctx, "shiqiao-admin"), dataset_id(ctx, "石桥镇人民政府2023")
    with ctx.db.transaction() as session:
        found = session.get(Contract, contract)
        assert found is not None
        found.epsilon_budget, found.epsilon_spent = budget, spent
        dictionary.write(
            session,
            admin,
            store=ctx.store,
            dataset_id=data,
            data=DictionaryIn.model_validate({"columns": columns}),
        )
    return alg.id, contract


def _run(ctx: Context, alg_id: str, contract: str, how: str) -> ComputeJob:
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    job = jobs.run_submit(
        ctx, ai, data=JobCreate(contract_id=contract, algorithm_id=alg_id, params={"how": how})
    )
    with ctx.db.transaction() as session:
        jobs.decide_approval(
            session, reviewer, job_id=job.id, approve=True, reason="测试", trust=False
        )
    run_queued(ctx)
    with ctx.db.transaction() as session:
        done = session.get(ComputeJob, job.id)
        assert done is not None
        session.expunge(done)
        return done


def _contract(ctx: Context, contract: str) -> tuple[float, int]:
    with ctx.db.transaction() as session:
        found = session.get(Contract, contract)
        assert found is not None
        return found.epsilon_spent, found.uses


def _exact(ctx: Context) -> dict[str, tuple[int, float]]:
    """The exact count and sum per category, from the dataset itself."""
    data = dataset_id(ctx, "石桥镇人民政府2023")
    with ctx.db.transaction() as session:
        version = versions.get_version(session, system_actor(), dataset_id=data, number=None)
    frame = pq.read_table(ctx.store.path(version.sha256)).to_pandas()
    cells = frame.groupby(CATEGORY)[DEMAND].agg(["size", "sum"])
    return {str(k): (int(r["size"]), float(r["sum"])) for k, r in cells.iterrows()}


def _released(ctx: Context, job: ComputeJob, name: str) -> list[dict[str, object]]:
    path, _output = jobs.run_download(ctx, actor(ctx, "ai-analyst"), job_id=job.id, name=name)
    return pq.read_table(io.BytesIO(path.read_bytes())).to_pylist()


def test_a_declared_summary_leaves_as_the_platforms_noisy_aggregate(ctx: Context) -> None:
    alg_id, contract = _setup(ctx, budget=3.0)
    spent, uses = _contract(ctx, contract)
    job = _run(ctx, alg_id, contract, "declared")
    assert job.status == "released", job.status_reason
    rows = _released(ctx, job, "demand")
    assert sorted(str(r[CATEGORY]) for r in rows) == sorted(CATEGORIES)  # the public domain
    assert set(rows[0]) == {CATEGORY, DEMAND, "_n"}
    # the algorithm's own numbers never leave
    assert all(r[DEMAND] != FAKE and r["_n"] != FAKE_N for r in rows)
    (table,) = job.check["private"]["tables"]
    assert table["epsilon"] == private.DEFAULT_EPSILON and table["delta"] == 0.0
    assert table["partitions"] == "public" and table["mechanism"] == "laplace"
    scale_n, scale_sum = table["accuracy"]["_n"]["scale"], table["accuracy"][DEMAND]["scale"]
    assert scale_n == pytest.approx(2 / private.DEFAULT_EPSILON)  # two measures share ε
    assert scale_sum == pytest.approx(50 * 2 / private.DEFAULT_EPSILON)  # bound × measures / ε
    exact = _exact(ctx)
    for r in rows:  # within the stated noise (Laplace: beyond 20 scales once in 5·10⁸)
        n, total = exact[str(r[CATEGORY])]
        assert abs(int(r["_n"]) - n) <= 20 * scale_n  # type: ignore[call-overload]
        assert abs(float(r[DEMAND]) - total) <= 20 * scale_sum  # type: ignore[arg-type]
    assert any(float(r[DEMAND]) != exact[str(r[CATEGORY])][1] for r in rows)  # type: ignore[arg-type]
    # the report says so, per table
    (said,) = [f for f in job.check["findings"] if f["check"] == "dp"]
    assert said["verdict"] == "pass" and said["output"] == "demand"
    assert "ε = 1" in said["message"]["en"] and "δ = 0" in said["message"]["en"]
    assert "差分隐私" in said["message"]["zh"]
    (entry,) = [o for o in job.check["outputs"] if o["name"] == "demand"]
    assert entry["dp"]["accuracy"][DEMAND]["scale"] == scale_sum
    # ε debited exactly once, with the one use of the dataset; the audit log says what
    after, uses_after = _contract(ctx, contract)
    assert after == pytest.approx(spent + private.DEFAULT_EPSILON) and uses_after == uses + 1
    with ctx.db.transaction() as session:
        released = session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == job.id, AuditEntry.action == "compute.release"
            )
        ).one()
        assert released.detail["epsilon"] == private.DEFAULT_EPSILON
        debits = [
            e.detail["epsilon_spent"]
            for e in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_id == contract, AuditEntry.action == "contract.use"
                )
            )
            if not e.detail["dry_run"]
        ]
        assert debits[-1] == pytest.approx(spent + private.DEFAULT_EPSILON)


def test_the_epsilon_the_submission_states_is_what_is_spent(ctx: Context) -> None:
    alg_id, contract = _setup(ctx, budget=3.0)
    ai, reviewer = actor(ctx, "ai-analyst"), actor(ctx, "shiqiao-reviewer")
    job = jobs.run_submit(
        ctx,
        ai,
        data=JobCreate(
            contract_id=contract, algorithm_id=alg_id, params={"how": "declared"}, epsilon=0.25
        ),
    )
    with ctx.db.transaction() as session:
        jobs.decide_approval(
            session, reviewer, job_id=job.id, approve=True, reason="测试", trust=False
        )
    run_queued(ctx)
    assert _contract(ctx, contract)[0] == pytest.approx(0.25)


def test_a_short_budget_refuses_the_job_with_nothing_debited_or_released(ctx: Context) -> None:
    alg_id, contract = _setup(ctx, budget=1.5, spent=1.0)  # 0.5 left, the job needs 1
    before = _contract(ctx, contract)
    job = _run(ctx, alg_id, contract, "declared")
    assert job.status == "failed" and job.outputs == []
    assert "privacy budget" in (job.status_reason or {})["en"]
    assert job.outcome == {}  # refused before the algorithm saw the data
    assert _contract(ctx, contract) == before


def test_a_sum_without_declared_bounds_is_refused_unspent(ctx: Context) -> None:
    alg_id, contract = _setup(ctx, budget=3.0, bounds=False)
    before = _contract(ctx, contract)
    job = _run(ctx, alg_id, contract, "declared")
    assert job.status == "rejected" and job.outputs == []
    (refusal,) = [f for f in job.check["findings"] if f["check"] == "dp"]
    assert refusal["verdict"] == "fail" and "bounds" in refusal["message"]["en"]
    assert _contract(ctx, contract)[0] == before[0]  # no ε: nothing was released


@pytest.mark.parametrize("how", ["plain", "undeclared"])
def test_what_the_platform_cannot_rederive_is_held(ctx: Context, how: str) -> None:
    alg_id, contract = _setup(ctx, budget=3.0)
    job = _run(ctx, alg_id, contract, how)
    assert job.status == "held", job.status_reason
    held = [f for f in job.check["findings"] if f["check"] == "dp"]
    assert held and all(f["verdict"] == "review" for f in held)
    assert "privacy budget" in held[0]["message"]["en"] and "隐私预算" in held[0]["message"]["zh"]
    assert _contract(ctx, contract)[0] == 0.0  # nothing released under DP: no ε


def test_without_a_budget_the_algorithms_table_is_checked_as_before(ctx: Context) -> None:
    alg_id, contract = _setup(ctx, budget=None)
    job = _run(ctx, alg_id, contract, "declared")
    assert job.status == "released", job.status_reason
    assert "private" not in job.check
    assert not [f for f in job.check["findings"] if f["check"] == "dp"]
    rows = _released(ctx, job, "demand")
    assert {r[DEMAND] for r in rows} == {FAKE}  # the algorithm's numbers, as ever


def test_the_harness_writes_the_declaration_beside_the_table(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"town": ["a", "a", "b"], "amount": [1.0, 2.0, 3.0]})
    cells = harness.summarise(frame, ["town"], "amount", dataset="farm")
    cells["amount"] = 0.0  # what the algorithm does to the numbers changes no declaration
    plain = harness.summarise(frame, ["town"])
    harness.write_outputs({"statistics": {"declared": cells, "plain": plain}}, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    found = {o["name"]: o.get("summary") for o in manifest["outputs"]}
    assert found == {
        "declared": {"dataset": "farm", "by": ["town"], "value": "amount"},
        "plain": None,
    }
    with pytest.raises(ValueError):
        harness.summarise(frame, ["town"], dataset="../farm")


@pytest.mark.parametrize("epsilon", [0.0, -1.0, math.inf, math.nan, 11.0])
def test_a_jobs_epsilon_is_positive_finite_and_in_range(epsilon: float) -> None:
    with pytest.raises(ValidationError):
        JobCreate(contract_id="c", algorithm_id="a", epsilon=epsilon)
    assert JobCreate(contract_id="c", algorithm_id="a", epsilon=0.5).epsilon == 0.5
