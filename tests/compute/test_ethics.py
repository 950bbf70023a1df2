"""Ethics review (科技伦理审查办法（试行）): committee composition, what needs a review, meetings,
quorum and majority, the simplified and emergency procedures, expert re-review, and the
follow-up review whose lapse suspends the algorithm's jobs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.compute.conftest import compute_contract, file_and_decide
from tests.conftest import actor, dataset_id
from yaosu.accounts import service as accounts
from yaosu.authorization.policy.ethics import grounds
from yaosu.compute import ethics, jobs
from yaosu.compute.models import ComputeJob, EthicsReview
from yaosu.compute.schemas import (
    CommitteeCreate,
    CommitteeUpdate,
    JobCreate,
    MeetingRecord,
    ReReview,
    Resubmission,
    ReviewApply,
)
from yaosu.compute.states import JobState, ReviewState
from yaosu.context import Context
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.errors import Forbidden, InvalidInput, NotFound, NotNow
from yaosu.tasks import service as tasks

MEMBERS: list[dict[str, Any]] = [
    {"name": "王立", "expertise": "technical", "gender": "male", "chair": True},
    {"name": "陈静", "expertise": "technical", "gender": "female"},
    {"name": "赵强", "expertise": "technical", "gender": "male"},
    {"name": "刘敏", "expertise": "ethics", "gender": "female", "external": True,
     "affiliation": "江州大学哲学学院"},
    {"name": "孙伟", "expertise": "legal", "gender": "male", "external": True,
     "affiliation": "江州律师事务所"},
    {"name": "周红", "expertise": "other", "gender": "female"},
    {"name": "吴刚", "expertise": "technical", "gender": "male"},
]  # fmt: skip
APPLICATION = {
    "plan": "在平台内对授权数据运行已备案算法，只输出汇总结果。",
    "risks": "可能通过小单元格推断个人情况；对个人作出的判断可能不公。",
    "measures": "输出经最小单元格、支配规则检查；不对个人作出自动化决定。",
}
ALL_APPROVE = {i: "approve" for i in range(7)}


def committee_form(**changes: Any) -> CommitteeCreate:
    doc: dict[str, Any] = {
        "name": "智谷科技伦理委员会",
        "members": MEMBERS,
        "term_ends_on": date.today() + timedelta(days=3 * 365),
    }
    doc.update(changes)
    return CommitteeCreate.model_validate(doc)


@pytest.fixture
def people(ctx: Context) -> dict[str, Actor]:
    return {u: actor(ctx, u) for u in ("ai-analyst", "ai-ethics", "bureau-admin", "cac-inspector")}


@pytest.fixture
def committee(ctx: Context, people: dict[str, Actor]) -> str:
    with ctx.db.transaction() as session:
        return ethics.create_committee(session, people["ai-analyst"], data=committee_form()).id


def apply(ctx: Context, who: Actor, committee: str, algorithm: str, **changes: Any) -> str:
    data = {
        "committee_id": committee,
        "algorithm_id": algorithm,
        "datasets": [dataset_id(ctx, "石桥镇人民政府2023")],
        "application": APPLICATION,
    }
    data.update(changes)
    with ctx.db.transaction() as session:
        return ethics.apply(session, who, data=ReviewApply.model_validate(data)).id


def meeting(present: list[int] | None = None, **changes: Any) -> MeetingRecord:
    present = list(range(7)) if present is None else present
    doc: dict[str, Any] = {
        "held_on": date.today(),
        "present": present,
        "votes": {i: "approve" for i in present if i not in changes.get("recused", [])},
    }
    doc.update(changes)
    return MeetingRecord.model_validate(doc)


def decide(ctx: Context, who: Actor, review_id: str, record: MeetingRecord) -> EthicsReview:
    with ctx.db.transaction() as session:
        return ethics.decide(session, who, review_id=review_id, data=record, settings=ctx.settings)


def status(ctx: Context, model: type, id_: str) -> str:
    with ctx.db.transaction() as session:
        return str(session.get(model, id_).status)


# --- committees ----------------------------------------------------------------------------


def test_a_committee_meeting_article_7_is_set_up_and_one_that_does_not_is_refused(
    ctx: Context, people: dict[str, Actor]
) -> None:
    with ctx.db.transaction() as session:
        made = ethics.create_committee(session, people["ai-analyst"], data=committee_form())
    assert len(made.members) == 7 and made.org_id == people["ai-analyst"].org_id
    cases = {
        "at least 7 members": MEMBERS[:6],
        "one chair": [dict(m, chair=False) for m in MEMBERS],
        "legal background": [m for m in MEMBERS if m["expertise"] != "legal"]
        + [dict(MEMBERS[5], name="钱多")],
        "outside the organisation": [dict(m, external=False) for m in MEMBERS],
        "both genders": [dict(m, gender="male") for m in MEMBERS],
    }
    for expected, members in cases.items():
        with pytest.raises(InvalidInput, match=expected), ctx.db.transaction() as session:
            ethics.create_committee(
                session, people["ai-analyst"], data=committee_form(members=members)
            )
    with pytest.raises(InvalidInput, match="within 5 years"), ctx.db.transaction() as session:
        ethics.create_committee(
            session,
            people["ai-analyst"],
            data=committee_form(term_ends_on=date.today() + timedelta(days=6 * 365)),
        )
    # a change is checked the same way, and only the organisation's administrator makes it
    with pytest.raises(InvalidInput, match="ethics background"), ctx.db.transaction() as session:
        ethics.update_committee(
            session,
            people["ai-analyst"],
            committee_id=made.id,
            data=CommitteeUpdate.model_validate(
                {"members": [dict(m, expertise="technical") for m in MEMBERS]}
            ),
        )
    with pytest.raises(Forbidden), ctx.db.transaction() as session:
        ethics.create_committee(session, people["ai-ethics"], data=committee_form())
    with ctx.db.transaction() as session:
        listed = [c.id for c in ethics.list_committees(session, people["bureau-admin"])]
        assert made.id in listed  # public to signed-in users, beside the demo's
        mine = ethics.list_committees(session, people["bureau-admin"], org_id=made.org_id)
        assert made.id in [c.id for c in mine]


# --- what needs a review -------------------------------------------------------------------


def test_the_need_for_review_follows_the_data_and_the_algorithm(
    ctx: Context, people: dict[str, Actor]
) -> None:
    shiqiao = dataset_id(ctx, "石桥镇人民政府2023")
    insured = dataset_id(ctx, "江州市城乡居民社会保险参保人员信息")
    alg = file_and_decide(ctx)
    ai = people["ai-analyst"]
    with ctx.db.transaction() as session:
        from yaosu.compute.models import Algorithm

        a = session.get(Algorithm, alg)
        assert jobs.requirement(session, ai, a, [shiqiao]) == []
        assert jobs.requirement(session, ai, a, [insured]) == ["personal_information"]
    base = {"algorithm_type": "ranking", "uses": ["statistics"], "subjects": ["aggregates"]}
    plain = [{"personal": False, "grade": "general"}]
    assert grounds(**base, data=plain) == []
    assert grounds(**base, data=[{"personal": False, "grade": "core"}]) == ["important_data"]
    assert grounds(**dict(base, subjects=["minors"]), data=plain) == ["human_subjects"]
    assert grounds(**dict(base, uses=["credit_scoring"]), data=plain) == ["individual_use"]
    assert grounds(**dict(base, algorithm_type="generation"), data=plain) == ["synthesis"]
    assert grounds(**base, data=[{}]) == ["personal_information", "important_data"]  # unscreened


def test_a_job_that_needs_a_review_is_refused_until_an_approval_covers_it(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    alg = file_and_decide(ctx, subjects=["adults"], name="按村统计农户需求")
    contract = compute_contract(ctx, alg)
    ai = people["ai-analyst"]
    job = JobCreate(contract_id=contract, algorithm_id=alg, params={"months": 3})
    with pytest.raises(Forbidden, match="ethics approval"):
        jobs.run_submit(ctx, ai, data=job)
    review = apply(ctx, ai, committee, alg)
    with ctx.db.transaction() as session:
        r = session.get(EthicsReview, review)
        assert r.grounds == ["human_subjects"] and r.status == ReviewState.SUBMITTED
    with pytest.raises(Forbidden, match="ethics approval"):
        jobs.run_submit(ctx, ai, data=job)  # applied is not approved
    decided = decide(ctx, people["ai-ethics"], review, meeting())
    assert decided.status == ReviewState.APPROVED and decided.decision == "approve"
    assert decided.valid_until == ethics.months_after(date.today(), 12)
    submitted = jobs.run_submit(ctx, ai, data=job)
    assert submitted.ethics_review_id == review
    # an approval covers the datasets it names, not others
    with ctx.db.transaction() as session:
        assert (
            jobs.covering(
                session,
                algorithm_id=alg,
                sha256=submitted.sha256,
                datasets=[dataset_id(ctx, "江州市城乡居民社会保险")],
            )
            is None
        )


# --- meetings --------------------------------------------------------------------------------


def test_a_meeting_needs_a_quorum_one_vote_each_and_not_the_applicant(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    alg = file_and_decide(ctx, subjects=["adults"])
    ai, secretary = people["ai-analyst"], people["ai-ethics"]
    review = apply(ctx, ai, committee, alg)
    refused = {
        "no quorum": meeting([0, 1, 2, 3]),
        # five present, but the only ethics and legal members withdrew
        "ethics or legal member": meeting([0, 1, 2, 3, 4, 6], recused=[3, 4]),
        "one vote for each member": meeting(votes={0: "approve", 1: "approve"}),
        "place in the committee": meeting([0, 1, 2, 3, 4, 9]),
        "says which changes": meeting(votes=dict(ALL_APPROVE, **{str(i): "approve_with_changes" for i in range(4)})),
        "in the future": meeting(held_on=date.today() + timedelta(days=1)),
    }  # fmt: skip
    for expected, record in refused.items():
        with pytest.raises(InvalidInput, match=expected):
            decide(ctx, secretary, review, record)
    assert status(ctx, EthicsReview, review) == ReviewState.SUBMITTED  # nothing was written
    with pytest.raises(Forbidden, match="applied"):
        decide(ctx, ai, review, meeting())  # the applicant is the AI company's administrator
    with pytest.raises(NotFound):  # others do not see it
        decide(ctx, people["bureau-admin"], review, meeting())
    # 3 approve, 1 with changes, 3 reject of 7: "with changes or better" has 4 > 3.5
    split = {0: "approve", 1: "approve", 2: "approve", 3: "approve_with_changes"}
    split |= {4: "reject", 5: "reject", 6: "reject"}
    done = decide(ctx, secretary, review, meeting(votes=split, conditions="输出再加一道人工复核"))
    assert (done.status, done.decision) == (ReviewState.APPROVED, "approve_with_changes")
    assert done.meeting["votes"]["4"] == "reject" and done.meeting["recorded_by"] == secretary.id


def test_revise_then_resubmit_then_reject(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    alg = file_and_decide(ctx, subjects=["adults"])
    ai, secretary = people["ai-analyst"], people["ai-ethics"]
    review = apply(ctx, ai, committee, alg)
    votes = {i: "revise" for i in range(7)}
    assert decide(ctx, secretary, review, meeting(votes=votes)).status == ReviewState.REVISE
    with pytest.raises(NotNow), ctx.db.transaction() as session:
        ethics.decide(session, secretary, review_id=review, data=meeting(), settings=ctx.settings)
    revised = dict(APPLICATION, measures="所有输出均经人工复核后交付，且不含任何个人层面的结果。")
    with ctx.db.transaction() as session:
        again = ethics.resubmit(
            session,
            ai,
            review_id=review,
            data=Resubmission.model_validate({"application": revised}),
        )
        assert again.status == ReviewState.SUBMITTED and again.decision is None
    rejected = decide(ctx, secretary, review, meeting(votes={i: "reject" for i in range(7)}))
    assert rejected.status == ReviewState.REJECTED and rejected.valid_until is None


def test_the_simplified_and_emergency_procedures(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    alg = file_and_decide(ctx, subjects=["adults"])
    ai, secretary = people["ai-analyst"], people["ai-ethics"]
    with pytest.raises(InvalidInput, match="simplified procedure"):
        apply(ctx, ai, committee, alg, procedure="simplified")  # above minimal risk
    minimal = apply(ctx, ai, committee, alg, procedure="simplified", risk="minimal")
    with pytest.raises(InvalidInput, match="at least two"):
        decide(ctx, secretary, minimal, meeting([0]))
    # one designated member doubts: it goes to a meeting, where the quorum rules apply
    doubt = decide(ctx, secretary, minimal, meeting([0, 3], votes={0: "approve", 3: "revise"}))
    assert (doubt.status, doubt.procedure) == (ReviewState.SUBMITTED, "general")
    assert doubt.meeting["converted"] is True
    with pytest.raises(InvalidInput, match="no quorum"):
        decide(ctx, secretary, minimal, meeting([0, 3]))
    assert decide(ctx, secretary, minimal, meeting()).status == ReviewState.APPROVED

    with pytest.raises(InvalidInput, match="emergency"):
        apply(ctx, ai, committee, alg, procedure="emergency")
    urgent = apply(
        ctx,
        ai,
        committee,
        alg,
        procedure="emergency",
        application=dict(APPLICATION, emergency="汛期受灾村庄救灾物资需求测算，须在三日内完成"),
    )
    with ctx.db.transaction() as session:
        r = session.get(EthicsReview, urgent)
        assert timedelta(hours=71) < r.due_at - r.created_at <= timedelta(hours=72)


def test_expert_re_review_by_the_competent_department(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    alg = file_and_decide(
        ctx, uses=["automated_decision"], subjects=["adults"], name="补贴自动审批"
    )
    ai, secretary = people["ai-analyst"], people["ai-ethics"]
    review = apply(ctx, ai, committee, alg)
    with ctx.db.transaction() as session:
        assert session.get(EthicsReview, review).re_review == ["autonomous_decision"]
    with pytest.raises(InvalidInput, match="simplified"):
        apply(ctx, ai, committee, alg, procedure="simplified", risk="minimal")
    assert decide(ctx, secretary, review, meeting()).status == ReviewState.RE_REVIEW
    contract = compute_contract(ctx, alg)
    with pytest.raises(Forbidden, match="ethics approval"):
        jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract, algorithm_id=alg))
    with ctx.db.transaction() as session:
        org = accounts.create_org(
            session, system_actor(), name="江州市科学技术局", kinds=["regulator"], department="科技"
        )
        accounts.create_user(
            session,
            system_actor(),
            org_id=org.id,
            username="kjj-inspector",
            password="a-long-test-password",
            role="reviewer",
        )
    approve = ReReview(decision="approve", reason="专家复核：风险可控，同意")
    with pytest.raises(Forbidden, match="competent department"), ctx.db.transaction() as session:
        ethics.re_review(
            session, people["cac-inspector"], review_id=review, data=approve, settings=ctx.settings
        )
    with ctx.db.transaction() as session:
        done = ethics.re_review(
            session,
            actor(ctx, "kjj-inspector"),
            review_id=review,
            data=approve,
            settings=ctx.settings,
        )
        assert done.status == ReviewState.APPROVED and done.valid_until is not None
    assert jobs.run_submit(ctx, ai, data=JobCreate(contract_id=contract, algorithm_id=alg))


def test_an_entrusted_review_needs_a_committee_that_takes_them(
    ctx: Context, people: dict[str, Actor]
) -> None:
    with ctx.db.transaction() as session:
        bureau = ethics.create_committee(
            session, people["bureau-admin"], data=committee_form(name="市数据局科技伦理委员会")
        ).id
    alg = file_and_decide(ctx, subjects=["adults"])
    with pytest.raises(InvalidInput, match="entrusted"):
        apply(ctx, people["ai-analyst"], bureau, alg)
    with ctx.db.transaction() as session:
        ethics.update_committee(
            session,
            people["bureau-admin"],
            committee_id=bureau,
            data=CommitteeUpdate.model_validate({"members": MEMBERS, "entrusted": True}),
        )
    review = apply(ctx, people["ai-analyst"], bureau, alg)
    with pytest.raises(Forbidden):  # the applicant's own secretariat is not the committee's
        decide(ctx, people["ai-ethics"], review, meeting())
    assert decide(ctx, actor(ctx, "bureau-reviewer"), review, meeting()).status == "approved"


# --- follow-up ---------------------------------------------------------------------------------


def _approved_with_job(ctx: Context, people: dict[str, Actor], committee: str) -> tuple[str, str]:
    alg = file_and_decide(ctx, subjects=["adults"])
    review = apply(ctx, people["ai-analyst"], committee, alg)
    decide(ctx, people["ai-ethics"], review, meeting())
    contract = compute_contract(ctx, alg)
    job = jobs.run_submit(
        ctx, people["ai-analyst"], data=JobCreate(contract_id=contract, algorithm_id=alg)
    )
    # 石桥镇 trusts the demo bundle's hash: approved at once, queued
    assert job.status == JobState.QUEUED and job.task_id is not None
    return review, job.id


def test_a_lapsed_approval_suspends_its_jobs_and_a_follow_up_resumes_them(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    review, job = _approved_with_job(ctx, people, committee)
    later = ethics.months_after(date.today(), 12) + timedelta(days=1)
    with ctx.db.transaction() as session:
        assert ethics.lapse(session, system_actor(), today=date.today()) == []
        assert review in ethics.lapse(session, system_actor(), today=later)  # the demo's too
    assert status(ctx, EthicsReview, review) == ReviewState.LAPSED
    with ctx.db.transaction() as session:
        suspended = session.get(ComputeJob, job)
        assert suspended.status == JobState.SUSPENDED and suspended.task_id is None
        alg = session.get(EthicsReview, review).algorithm_id
    follow = apply(
        ctx,
        people["ai-analyst"],
        committee,
        alg,
        kind="follow_up",
        previous_id=review,
        procedure="simplified",
    )
    decide(ctx, people["ai-ethics"], follow, meeting([0, 3]))
    with ctx.db.transaction() as session:
        resumed = session.get(ComputeJob, job)
        assert resumed.status == JobState.QUEUED and resumed.task_id is not None
        assert resumed.ethics_review_id == follow
    assert status(ctx, EthicsReview, review) == ReviewState.LAPSED


def test_a_follow_up_that_does_not_approve_revokes_and_ends_the_jobs(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    review, job = _approved_with_job(ctx, people, committee)
    with ctx.db.transaction() as session:
        alg = session.get(EthicsReview, review).algorithm_id
    follow = apply(ctx, people["ai-analyst"], committee, alg, kind="follow_up", previous_id=review)
    decide(ctx, people["ai-ethics"], follow, meeting(votes={i: "reject" for i in range(7)}))
    assert status(ctx, EthicsReview, review) == ReviewState.REVOKED
    assert status(ctx, ComputeJob, job) == JobState.FAILED


def test_a_queued_job_whose_approval_ran_out_is_suspended_when_it_starts(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    review, job = _approved_with_job(ctx, people, committee)
    with ctx.db.transaction() as session:
        # the follow-up is overdue, and no sweep has run yet
        session.get(EthicsReview, review).valid_until = date.today() - timedelta(days=1)
    assert status(ctx, ComputeJob, job) == JobState.QUEUED
    tasks.run_one(ctx, name="test")
    with ctx.db.transaction() as session:
        suspended = session.get(ComputeJob, job)
        assert suspended.status == JobState.SUSPENDED
        assert "no longer current" in (suspended.status_reason or {})["en"]


def test_the_inbox_brings_each_step_to_whoever_takes_it(
    ctx: Context, people: dict[str, Actor], committee: str
) -> None:
    from yaosu.inbox import service as inbox
    from yaosu.kernel.i18n import localise

    def waiting(who: Actor, kind: str) -> list[str]:
        with ctx.db.transaction() as session:
            found = inbox.collect(session, who)["waiting"]
            return [localise(i.text, "en") for i in found if i.kind == kind]

    alg = file_and_decide(ctx, subjects=["adults"], name="按村统计农户需求")
    ai, secretary = people["ai-analyst"], people["ai-ethics"]
    review = apply(ctx, ai, committee, alg)
    (item,) = waiting(secretary, "ethics_decide")
    assert "按村统计农户需求" in item and "record the meeting" in item
    assert waiting(ai, "ethics_decide") == []  # the applicant does not decide its own
    decide(ctx, secretary, review, meeting(votes={i: "revise" for i in range(7)}))
    assert waiting(secretary, "ethics_decide") == []
    (revise,) = waiting(ai, "ethics_follow_up")
    assert "revise" in revise
    with ctx.db.transaction() as session:
        ethics.resubmit(
            session,
            ai,
            review_id=review,
            data=Resubmission.model_validate({"application": APPLICATION}),
        )
    decide(ctx, secretary, review, meeting())
    with ctx.db.transaction() as session:
        session.get(EthicsReview, review).valid_until = date.today() + timedelta(days=10)
    (follow,) = [t for t in waiting(ai, "ethics_follow_up") if "按村统计农户需求" in t]
    assert "follow-up review by" in follow


def test_regulators_oversee_reviews_and_run_no_committee(people: dict[str, Actor]) -> None:
    from dataclasses import replace

    from yaosu.authorization.policy import Resource, decide

    cac = people["cac-inspector"]
    chief = replace(cac, role="admin")  # even the regulator's administrator
    own = Resource("ethics_committee", "new", cac.org_id, {})
    assert not decide(chief, "ethics.committee.create", own).allowed
    before = Resource("ethics_review", "r", "org_x", {"committee_org": cac.org_id})
    assert not decide(chief, "ethics.decide", before).allowed
    assert decide(cac, "ethics.view", before).allowed  # oversight sees every review
