"""The ethics review console (no browser): the committee register, setting a committee up
through its form (a composition Art. 7 refuses comes back with its problems and what was
typed), an algorithm's ethics page with what the policy requires for the chosen data, the
application, the secretariat's meeting record, the applicant's resubmission and the review
list; who sees which page and form, and that what users write is shown as text."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.compute.test_ethics import APPLICATION, MEMBERS
from tests.compute.test_pages import as_user, zh
from tests.conftest import actor, dataset_id
from tests.console.test_pages import csrf
from yaosu.compute import ethics
from yaosu.compute.models import Algorithm, EthicsCommittee, EthicsReview
from yaosu.compute.schemas import CommitteeCreate, ReviewApply
from yaosu.context import Context

AI, SECRETARY, CAC, BUREAU = "ai-analyst", "ai-ethics", "cac-inspector", "bureau-admin"
SCRIPT = "<script>alert(1)</script>"
INSURED = "江州市城乡居民社会保险参保人员信息"


def post(client: TestClient, path: str, form: dict[str, Any]) -> Any:
    token = csrf(client, "/ethics/committees")
    return client.post(path, data=form | {"csrf_token": token}, follow_redirects=False)


def member_rows(members: list[dict[str, Any]]) -> dict[str, Any]:
    """``members`` as the committee form posts them (one row each, the chair's radio)."""
    form: dict[str, Any] = {}
    for i, m in enumerate(members):
        form |= {
            f"name_{i}": m["name"],
            f"expertise_{i}": m["expertise"],
            f"gender_{i}": m["gender"],
            f"affiliation_{i}": m.get("affiliation", ""),
        }
        if m.get("external"):
            form[f"external_{i}"] = "yes"
        if m.get("chair"):
            form["chair"] = str(i)
    return form


def term() -> str:
    return (date.today() + timedelta(days=3 * 365)).isoformat()


def escaped(page: str) -> None:
    """The payload is on the page as text, never as markup."""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert SCRIPT not in page


def the_algorithm(ctx: Context) -> str:
    """The demo's first filed algorithm (the AI company's sales statistics)."""
    with ctx.db.transaction() as session:
        found = select(Algorithm.id).where(Algorithm.name == "村级农资需求统计与下月预测")
        return str(session.scalars(found).one())


def committees(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return len(session.scalars(select(EthicsCommittee)).all())


def committee_of_ai(ctx: Context, **changes: Any) -> str:
    doc: dict[str, Any] = {
        "name": "智谷科技伦理委员会",
        "members": MEMBERS,
        "term_ends_on": date.today() + timedelta(days=3 * 365),
    }
    with ctx.db.transaction() as session:
        return ethics.create_committee(
            session, actor(ctx, AI), data=CommitteeCreate.model_validate(doc | changes)
        ).id


def review_of(ctx: Context, committee: str, alg: str, **changes: Any) -> str:
    doc: dict[str, Any] = {
        "committee_id": committee,
        "algorithm_id": alg,
        "datasets": [dataset_id(ctx, INSURED)],
        "application": APPLICATION,
    }
    with ctx.db.transaction() as session:
        return ethics.apply(
            session, actor(ctx, AI), data=ReviewApply.model_validate(doc | changes)
        ).id


def state(ctx: Context, review_id: str) -> str:
    with ctx.db.transaction() as session:
        review = session.get(EthicsReview, review_id)
        assert review is not None
        return str(review.status)


def meeting_form(votes: dict[int, str], **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"held_on": date.today().isoformat(), "follow_up_months": "6"}
    for i, vote in votes.items():
        form |= {f"present_{i}": "yes", f"vote_{i}": vote}
    return form | changes


# --- committees ----------------------------------------------------------------------------


def test_a_committee_is_set_up_through_the_form_and_a_bad_composition_comes_back(
    app_client: TestClient, ctx: Context
) -> None:
    before = committees(ctx)
    as_user(app_client, AI)
    register = app_client.get("/ethics/committees")
    assert register.status_code == 200 and "/ethics/committees/new" in register.text
    assert "科技伦理审查" in register.text or "伦理委员会" in register.text
    form = app_client.get("/ethics/committees/new")
    assert form.status_code == 200 and 'name="name_6"' in form.text  # seven rows to start
    assert zh("ethics_expertise", "legal") in form.text

    # six members, no legal one: refused with each Art. 7 problem, what was typed kept
    short = [m for m in MEMBERS if m["expertise"] != "legal"]
    typed = {"name": f"委员会{SCRIPT}", "term_ends_on": term()} | member_rows(short)
    checked = post(app_client, "/ethics/committees/new", typed | {"intent": "check"})
    assert checked.status_code == 200 and 'id="composition"' in checked.text
    problems = [str(p) for p in ethics.composition(short)]
    assert len(problems) == 2  # seven members; a legal member
    zh_problems = [p.render("zh-CN") for p in ethics.composition(short)]
    for problem in zh_problems:
        assert problem in checked.text
    refused = post(app_client, "/ethics/committees/new", typed | {"intent": "save"})
    assert refused.status_code == 422
    assert 'class="error-message" role="alert"' in refused.text
    assert all(p in refused.text for p in zh_problems)
    assert 'value="刘敏"' in refused.text and 'value="江州大学哲学学院"' in refused.text
    escaped(refused.text)
    assert committees(ctx) == before

    # a member's own problem names the row
    bad_row = typed | member_rows(MEMBERS) | {"gender_2": "x", "intent": "save"}
    wrong = post(app_client, "/ethics/committees/new", bad_row)
    assert wrong.status_code == 422 and "3" in wrong.text

    made = post(app_client, "/ethics/committees/new", typed | member_rows(MEMBERS))
    assert made.status_code == 303, made.text[-1500:]
    page = app_client.get(made.headers["location"])
    assert page.status_code == 200 and "孙伟" in page.text and "江州律师事务所" in page.text
    escaped(page.text)
    assert 'role="status"' in page.text or "done=" in made.headers["location"]
    committee = made.headers["location"].split("?")[0].rsplit("/", 1)[1]

    # the organisation's administrator changes it; another organisation's may not
    change = member_rows(MEMBERS) | {"entrusted": "yes", "registration": "GJ-2026-001"}
    changed = post(app_client, f"/ethics/committees/{committee}", change)
    assert changed.status_code == 303
    with ctx.db.transaction() as session:
        stored = session.get(EthicsCommittee, committee)
        assert stored is not None and stored.entrusted and stored.registration == "GJ-2026-001"
    as_user(app_client, BUREAU)
    seen = app_client.get(f"/ethics/committees/{committee}")
    assert seen.status_code == 200 and "GJ-2026-001" in seen.text
    assert 'name="name_0"' not in seen.text  # no form for another organisation
    denied = post(app_client, f"/ethics/committees/{committee}", change)
    assert denied.status_code == 403 and 'role="alert"' in denied.text
    english = app_client.get(f"/ethics/committees/{committee}?lang=en")
    assert "Ethics committees" in english.text and "meets Art. 7" in english.text


def test_only_an_organisations_administrator_is_offered_the_set_up(
    app_client: TestClient, ctx: Context
) -> None:
    before = committees(ctx)
    as_user(app_client, SECRETARY)
    assert "/ethics/committees/new" not in app_client.get("/ethics/committees").text
    page = app_client.get("/ethics/committees/new")
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert 'name="name_0"' not in page.text
    refused = post(
        app_client,
        "/ethics/committees/new",
        {"name": "秘书处的委员会", "term_ends_on": term()} | member_rows(MEMBERS),
    )
    assert refused.status_code == 403
    assert committees(ctx) == before


# --- applying, the meeting, resubmission ----------------------------------------------------


def test_apply_record_a_meeting_resubmit_and_approve_through_the_pages(
    app_client: TestClient, ctx: Context
) -> None:
    alg, committee = the_algorithm(ctx), committee_of_ai(ctx)
    insured = dataset_id(ctx, INSURED)
    as_user(app_client, AI)
    assert f"/algorithms/{alg}/ethics" in app_client.get(f"/algorithms/{alg}").text
    page = app_client.get(f"/algorithms/{alg}/ethics?datasets={insured}")
    assert page.status_code == 200 and 'id="apply"' in page.text
    assert zh("ethics_ground", "personal_information") in page.text  # before applying
    assert "智谷科技伦理委员会" in page.text

    base = {
        "committee": committee,
        "datasets": [insured],
        "kind": "initial",
        "procedure": "general",
        "risk": "above_minimal",
        "plan": APPLICATION["plan"],
        "risks": f"{APPLICATION['risks']}{SCRIPT}",
        "measures": APPLICATION["measures"],
    }
    urgent = post(app_client, f"/algorithms/{alg}/ethics", base | {"procedure": "emergency"})
    assert urgent.status_code == 422 and 'role="alert"' in urgent.text
    assert APPLICATION["measures"] in urgent.text  # what was typed is kept
    escaped(urgent.text)
    applied = post(app_client, f"/algorithms/{alg}/ethics", base)
    assert applied.status_code == 303, applied.text[-1500:]
    review = applied.headers["location"].split("?")[0].rsplit("/", 1)[1]
    assert state(ctx, review) == "submitted"

    # the applicant sees it without the secretariat's form; oversight sees it; others do not
    mine = app_client.get(f"/ethics/reviews/{review}")
    assert mine.status_code == 200 and zh("ethics_review_state", "submitted") in mine.text
    assert zh("ethics_ground", "personal_information") in mine.text
    assert 'id="meeting-form"' not in mine.text
    escaped(mine.text)
    as_user(app_client, CAC)
    assert app_client.get(f"/ethics/reviews/{review}").status_code == 200
    as_user(app_client, BUREAU)
    assert app_client.get(f"/ethics/reviews/{review}").status_code == 404
    assert review not in app_client.get("/ethics/reviews").text

    # the secretariat: no quorum comes back with the votes typed; "revise" returns it
    as_user(app_client, SECRETARY)
    shown = app_client.get(f"/ethics/reviews/{review}")
    assert 'id="meeting-form"' in shown.text and "王立" in shown.text
    few = post(
        app_client,
        f"/ethics/reviews/{review}/meeting",
        meeting_form({0: "approve", 1: "approve", 2: "revise"}, minutes="不足法定人数"),
    )
    assert few.status_code == 422 and "不足法定人数" in few.text
    assert re.search(r'name="vote_2"[^>]*>.*?value="revise" selected', few.text, re.S)
    assert state(ctx, review) == "submitted"
    revise = post(
        app_client,
        f"/ethics/reviews/{review}/meeting",
        meeting_form({i: "revise" for i in range(7)}, conditions="补充个人信息保护措施"),
    )
    assert revise.status_code == 303 and state(ctx, review) == "revise"
    recorded = app_client.get(f"/ethics/reviews/{review}")
    assert zh("ethics_vote", "revise") in recorded.text and "补充个人信息保护措施" in recorded.text

    # the applicant revises and submits again; then the meeting approves
    as_user(app_client, AI)
    back = app_client.get(f"/ethics/reviews/{review}")
    assert 'id="resubmit-form"' in back.text
    again = post(
        app_client,
        f"/ethics/reviews/{review}/resubmit",
        {
            "plan": APPLICATION["plan"],
            "risks": APPLICATION["risks"],
            "measures": APPLICATION["measures"],
            "personal_information": "所有个人信息在沙箱内处理，输出前去标识化。",
        },
    )
    assert again.status_code == 303 and state(ctx, review) == "submitted"
    as_user(app_client, SECRETARY)
    approve = post(
        app_client,
        f"/ethics/reviews/{review}/meeting",
        meeting_form({i: "approve" for i in range(7)}),
    )
    assert approve.status_code == 303 and state(ctx, review) == "approved"
    as_user(app_client, AI)
    done = app_client.get(f"/ethics/reviews/{review}")
    assert "kind=follow_up" in done.text and "所有个人信息在沙箱内处理" in done.text
    assert "孙伟" in done.text and zh("ethics_vote", "approve") in done.text
    assert zh("ethics_review_kind", "initial") in app_client.get(f"/algorithms/{alg}").text
    follow = app_client.get(f"/algorithms/{alg}/ethics?kind=follow_up&previous={review}")
    assert f'value="{review}" selected' in follow.text
    english = app_client.get(f"/ethics/reviews/{review}?lang=en")
    assert "The meeting record" in english.text and "approved" in english.text


def test_the_review_list_filters_by_state_and_puts_the_waiting_first(
    app_client: TestClient, ctx: Context
) -> None:
    alg, committee = the_algorithm(ctx), committee_of_ai(ctx)
    first = review_of(ctx, committee, alg)
    with ctx.db.transaction() as session:
        done = session.get(EthicsReview, first)
        assert done is not None
        done.status = "rejected"
    waiting = review_of(ctx, committee, alg)
    as_user(app_client, SECRETARY)
    listed = app_client.get("/ethics/reviews").text
    assert listed.index(waiting) < listed.index(first)
    only = app_client.get("/ethics/reviews?status=rejected").text
    assert first in only and waiting not in only
    assert zh("ethics_review_state", "rejected") in only
    as_user(app_client, BUREAU)
    assert first not in app_client.get("/ethics/reviews").text
    english = app_client.get("/ethics/reviews?lang=en")
    assert english.status_code == 200 and "Ethics reviews" in english.text


@pytest.mark.parametrize("who", [BUREAU, "coop-manager"])
def test_the_forms_of_a_review_hidden_from_a_user_answer_404(
    app_client: TestClient, ctx: Context, who: str
) -> None:
    review = review_of(ctx, committee_of_ai(ctx), the_algorithm(ctx))
    as_user(app_client, who)
    for path, form in (
        ("meeting", meeting_form({i: "approve" for i in range(7)})),
        ("resubmit", dict(APPLICATION)),
        ("re-review", {"decision": "approve", "reason": "同意"}),
    ):
        assert post(app_client, f"/ethics/reviews/{review}/{path}", form).status_code == 404
    assert state(ctx, review) == "submitted"
