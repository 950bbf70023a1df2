"""Algorithm filing (算法备案): the form, the working-day deadlines, the department's decision
and the filing number, changes and deregistration, the public register, and the red lines."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.compute.conftest import BUNDLE, bundle_bytes, file_and_decide, form
from tests.conftest import actor
from yaosu.audit.models import AuditEntry
from yaosu.authorization.policy import Resource, decide
from yaosu.authorization.policy.redlines import DEFAULT_RED_LINES
from yaosu.compute import service, workdays
from yaosu.compute.models import Algorithm, AlgorithmFiling
from yaosu.compute.schemas import AlgorithmChange, Deregistration
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import Forbidden, InvalidInput, NotFound, NotNow
from yaosu.web.deps import ANONYMOUS


def _only_filing(ctx: Context, algorithm_id: str) -> list[AlgorithmFiling]:
    with ctx.db.transaction() as session:
        found = service.filings_of(session, algorithm_id=algorithm_id)
        for f in found:
            session.expunge(f)
        return found


def test_a_filing_counts_its_deadlines_in_chinese_working_days(ctx: Context) -> None:
    started = date.today() - timedelta(days=3)
    alg = service.run_file(
        ctx, actor(ctx, "ai-analyst"), data=form(started_on=started), bundle=bundle_bytes()
    )
    (filing,) = _only_filing(ctx, alg.id)
    assert filing.status == "submitted" and filing.kind == "filing"
    assert filing.submit_by == workdays.add(started, 10).day  # Art. 24
    assert filing.due_on == workdays.add(date.today(), 30).day  # Art. 26
    assert filing.late is False
    # the service started two months ago: filed after its 10 working days, marked late
    late = service.run_file(
        ctx,
        actor(ctx, "ai-analyst"),
        data=form(name="迟报的算法", started_on=date.today() - timedelta(days=60)),
        bundle=bundle_bytes(),
    )
    assert _only_filing(ctx, late.id)[0].late is True


def test_national_day_and_adjusted_workdays_count_as_the_calendar_says() -> None:
    # 1–7 October 2026 are holidays; Saturday 10 October is an adjusted working day
    assert workdays.add(date(2026, 9, 30), 1).day == date(2026, 10, 8)
    assert workdays.add(date(2026, 10, 9), 1).day == date(2026, 10, 10)
    assert workdays.add(date(2026, 9, 30), 3).provisional is False
    ahead = workdays.add(date(2026, 12, 30), 30)  # the calendar has no data for 2027 yet
    assert ahead.provisional is True and ahead.day.year == 2027


def test_the_department_files_it_and_issues_numbers_in_sequence(ctx: Context) -> None:
    prefix = f"网信算备{ctx.settings.filing_region}{date.today().year}"
    with ctx.db.transaction() as session:  # the demo world filed some already
        issued = session.scalars(
            select(Algorithm.filing_number).where(Algorithm.filing_number.startswith(prefix))
        ).all()
    last = max((int(n[len(prefix) : -1]) for n in issued if n), default=0)
    first = file_and_decide(ctx)
    second = file_and_decide(ctx, name="第二个算法")
    with ctx.db.transaction() as session:
        a, b = session.get(Algorithm, first), session.get(Algorithm, second)
        assert a is not None and b is not None
        assert a.filing_number == f"{prefix}{last + 1:04d}号"
        assert b.filing_number == f"{prefix}{last + 2:04d}号"
        assert a.status == "filed" and a.filed_at is not None
        decided = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "algorithm.decide", AuditEntry.object_id == first
            )
        ).all()
        assert len(decided) == 1 and decided[0].detail["filing_number"] == a.filing_number


def test_only_the_filing_department_decides(ctx: Context) -> None:
    alg = service.run_file(ctx, actor(ctx, "ai-analyst"), data=form(), bundle=bundle_bytes())
    (filing,) = _only_filing(ctx, alg.id)
    for username in ("dsj-inspector", "ai-analyst", "bureau-admin"):
        who = actor(ctx, username)
        with pytest.raises(Forbidden), ctx.db.transaction() as session:
            service.decide_filing(
                session, who, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
            )
    with ctx.db.transaction() as session:
        assert session.get(Algorithm, alg.id).status == "submitted"  # type: ignore[union-attr]


def test_returning_a_filing_needs_the_reason_and_it_can_be_resubmitted(ctx: Context) -> None:
    alg = service.run_file(ctx, actor(ctx, "ai-analyst"), data=form(), bundle=bundle_bytes())
    (filing,) = _only_filing(ctx, alg.id)
    cac = actor(ctx, "cac-inspector")
    with pytest.raises(InvalidInput), ctx.db.transaction() as session:
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=False, reason=""
        )
    with ctx.db.transaction() as session:
        service.decide_filing(
            session,
            cac,
            settings=ctx.settings,
            filing_id=filing.id,
            approve=False,
            reason="自评估报告不完整",
        )
        assert session.get(Algorithm, alg.id).status == "returned"  # type: ignore[union-attr]
    analyst = actor(ctx, "ai-analyst")
    with ctx.db.transaction() as session:
        again = service.resubmit(session, analyst, settings=ctx.settings, algorithm_id=alg.id)
        assert again.status == "submitted"
    with pytest.raises(NotNow), ctx.db.transaction() as session:
        service.resubmit(session, analyst, settings=ctx.settings, algorithm_id=alg.id)


def test_a_change_is_a_new_version_current_only_once_filed(
    ctx: Context, filed: str, tmp_path: Path
) -> None:
    changed = tmp_path / "v2"
    shutil.copytree(BUNDLE, changed)
    (changed / "village_inputs.py").write_text(
        (BUNDLE / "village_inputs.py").read_text(encoding="utf-8") + "\n# v2\n", encoding="utf-8"
    )
    analyst, cac = actor(ctx, "ai-analyst"), actor(ctx, "cac-inspector")
    with ctx.db.transaction() as session:
        before = session.get(Algorithm, filed).sha256  # type: ignore[union-attr]
    with pytest.raises(NotNow):  # the same code again is not a change
        service.run_change(
            ctx,
            analyst,
            algorithm_id=filed,
            data=AlgorithmChange(summary="没有改动"),
            bundle=bundle_bytes(),
        )
    filing = service.run_change(
        ctx,
        analyst,
        algorithm_id=filed,
        data=AlgorithmChange(summary="预测改为加权平均"),
        bundle=bundle_bytes(changed),
    )
    with ctx.db.transaction() as session:
        alg = session.get(Algorithm, filed)
        assert alg is not None and alg.sha256 == before and alg.current_version == 1
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
        )
    with ctx.db.transaction() as session:
        alg = session.get(Algorithm, filed)
        assert alg is not None and alg.current_version == 2 and alg.sha256 != before
        assert [v.number for v in service.versions_of(session, algorithm_id=filed)] == [1, 2]


def test_deregistration_ends_the_algorithm(ctx: Context, filed: str) -> None:
    other, analyst, cac = (actor(ctx, u) for u in ("bureau-analyst", "ai-analyst", "cac-inspector"))
    stop = Deregistration(reason="服务停止")
    with pytest.raises(Forbidden), ctx.db.transaction() as session:  # not its provider
        service.deregister(session, other, algorithm_id=filed, data=stop)
    with ctx.db.transaction() as session:
        filing = service.deregister(session, analyst, algorithm_id=filed, data=stop)
        assert filing.kind == "deregistration"
        assert filing.submit_by == workdays.add(date.today(), 20).day  # Art. 25
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
        )
        assert session.get(Algorithm, filed).status == "deregistered"  # type: ignore[union-attr]


def test_the_register_is_public_and_a_pending_filing_is_not(ctx: Context, filed: str) -> None:
    pending = service.run_file(
        ctx, actor(ctx, "ai-analyst"), data=form(name="未备案的算法"), bundle=bundle_bytes()
    )
    analyst, regulator, coop = (
        actor(ctx, u) for u in ("ai-analyst", "dsj-inspector", "coop-manager")
    )
    with ctx.db.transaction() as session:
        public = [a.id for a in service.public_register(session)]
        assert filed in public and pending.id not in public
        service.get_algorithm(session, ANONYMOUS, algorithm_id=filed)
        with pytest.raises(NotFound):  # another organisation: as if it did not exist
            service.get_algorithm(session, coop, algorithm_id=pending.id)
        alg = session.get(Algorithm, filed)
        assert alg is not None
        assert service.sees_filing(analyst, alg)
        assert service.sees_filing(regulator, alg)
        assert not service.sees_filing(coop, alg)
        assert not service.sees_filing(ANONYMOUS, alg)


@pytest.mark.parametrize(
    ("uses", "subjects", "line"),
    [
        (["individual_pricing"], ["adults"], "discriminatory_pricing"),
        (["profiling"], ["minors"], "profiling_minors"),
        (["reidentification"], [], "reidentification"),
    ],
)
def test_a_red_line_refuses_the_filing_whoever_files_it(
    ctx: Context, uses: list[str], subjects: list[str], line: str
) -> None:
    before = _count(ctx, "algorithm.file")
    with pytest.raises(Forbidden) as refused:
        service.run_file(
            ctx,
            actor(ctx, "ai-analyst"),
            data=form(uses=uses, subjects=subjects),
            bundle=bundle_bytes(),
        )
    assert line in str(refused.value)
    with ctx.db.transaction() as session:
        assert not session.scalars(select(Algorithm)).all() or all(
            set(a.uses) != set(uses) for a in session.scalars(select(Algorithm))
        )
    assert _count(ctx, "algorithm.file") == before  # nothing filed (the API audits the refusal)


def test_profiling_adults_crosses_no_default_red_line(ctx: Context) -> None:
    alg = service.run_file(
        ctx,
        actor(ctx, "ai-analyst"),
        data=form(uses=["profiling"], subjects=["adults"]),
        bundle=bundle_bytes(),
    )
    assert alg.status == "submitted"


def test_the_settings_register_replaces_the_default(ctx: Context) -> None:
    ctx.settings.red_lines = [
        {"code": "no_forecasts", "title": "不得预测", "uses": ["forecasting"]}
    ]
    try:
        with pytest.raises(Forbidden, match="no_forecasts"):
            service.run_file(ctx, actor(ctx, "ai-analyst"), data=form(), bundle=bundle_bytes())
        ctx.settings.red_lines = [{"code": "Bad Code", "title": "", "uses": []}]
        with pytest.raises(InvalidInput):
            service.run_file(ctx, actor(ctx, "ai-analyst"), data=form(), bundle=bundle_bytes())
    finally:
        ctx.settings.red_lines = None


def test_a_decision_without_the_register_is_refused() -> None:
    """Fail closed: a caller that forgets to pass the red lines is refused, not waved through."""
    analyst = Actor(
        id="u1", username="a", org_id="org1", org_kinds=frozenset({"consumer"}), role="admin"
    )
    resource = Resource("algorithm", "new", "org1", {"uses": ["statistics"], "subjects": []})
    assert not decide(analyst, "algorithm.file", resource).allowed
    assert decide(analyst, "algorithm.file", resource, {"red_lines": DEFAULT_RED_LINES}).allowed


def test_unknown_uses_and_subjects_are_named(ctx: Context) -> None:
    with pytest.raises(InvalidInput, match="telepathy"):
        service.run_file(
            ctx, actor(ctx, "ai-analyst"), data=form(uses=["telepathy"]), bundle=bundle_bytes()
        )


def test_filing_numbers_have_the_documented_form(ctx: Context, filed: str) -> None:
    with ctx.db.transaction() as session:
        number = session.get(Algorithm, filed).filing_number  # type: ignore[union-attr]
    assert re.fullmatch(r"网信算备\d{6}\d{4}\d{4}号", number or "")


def _count(ctx: Context, action: str) -> int:
    with ctx.db.transaction() as session:
        return len(session.scalars(select(AuditEntry.seq).where(AuditEntry.action == action)).all())
