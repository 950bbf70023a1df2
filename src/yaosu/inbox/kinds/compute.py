"""Inbox items from compute: algorithm filings waiting for the filing department (网信), with
the working day each must be decided by; compute jobs waiting for a data provider's approval
of the algorithm's code, or for its reviewer's decision on held outputs; for the consumer,
its jobs that ended lately; and ethics reviews waiting for a committee's decision, for expert
re-review, for the applicant's revision, or for their follow-up review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from yaosu.authorization.policy import Resource, decide
from yaosu.compute import ethics, jobs, service
from yaosu.compute.labels import REVIEW_PROCEDURE
from yaosu.compute.states import JOB_FINAL, FilingState, JobState, ReviewState
from yaosu.inbox.labels import KIND
from yaosu.inbox.registry import Item, Kind, Words, offers, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import N_, Message, label, register_labels
from yaosu.kernel.settings import get_settings

URGENT_DAYS = 5  # a filing to be decided sooner than this (calendar days) is marked
NEWS_DAYS = 14  # how far back the ended jobs go
CHINA = timezone(timedelta(hours=8))  # a filing's deadline is a day in China

register_labels(
    KIND,
    {
        "filing_decide": N_("Algorithm filing"),
        "compute_approve": N_("Compute job"),
        "compute_review": N_("Held outputs"),
        "compute_ended": N_("Compute job"),
    },
)

FILING = N_(
    "{provider} submitted the {kind} of the algorithm “{name}”: decide it within its 30 working days."
)
PROVISIONAL = N_(
    "{provider} submitted the {kind} of the algorithm “{name}”: decide it within its 30 working days (a provisional deadline: the official calendar of that year is not out yet)."
)
APPROVE = N_(
    "{consumer} asks to run the filed algorithm “{name}” on {datasets}: approve its code, or refuse it."
)
REVIEW = N_(
    "The outputs of “{name}”, run by {consumer} on {datasets}, are held: the checks could not pass them alone. Release or reject them."
)
ENDED = {
    JobState.RELEASED: N_(
        "Your job running “{name}” on {datasets} is done: its outputs passed the checks and can be downloaded."
    ),
    JobState.REJECTED: N_("Your job running “{name}” on {datasets} was rejected: {reason}"),
    JobState.FAILED: N_("Your job running “{name}” on {datasets} failed: {reason}"),
    JobState.CANCELLED: N_("Your job running “{name}” on {datasets} was cancelled."),
}


def _due(day: date) -> datetime:
    """The end of a deadline day in China: the inbox sorts and shows times."""
    return datetime.combine(day, time.max, tzinfo=CHINA)


def _decides(actor: Actor) -> bool:
    """Filings wait only for the filing department: nobody else pays the query."""
    waiting = Resource("algorithm", "*", None, {"status": FilingState.SUBMITTED})
    return decide(actor, "algorithm.decide", waiting).allowed


def _filing_count(session: Session, actor: Actor, *, now: datetime) -> int:
    return len(service.filings_due(session, actor)) if _decides(actor) else 0


def _filing_items(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not _decides(actor):
        return []
    out = []
    for f in service.filings_due(session, actor):
        alg = service.get_algorithm(session, actor, algorithm_id=f.algorithm_id)
        due = _due(f.due_on)
        out.append(
            Item(
                "filing_decide",
                Message(
                    PROVISIONAL if f.provisional else FILING,
                    {
                        "provider": words.org(alg.org_id),
                        "kind": label("filing_kind", f.kind),
                        "name": alg.name,
                    },
                ),
                f"/algorithms/{alg.id}#filing-{f.id}",
                at=f.created_at,
                due=due,
                urgent=due - now < timedelta(days=URGENT_DAYS),
                ref=f.id,
            )
        )
    return out


register(Kind("filing_decide", "waiting", _filing_items, _filing_count))


# The provider's two steps on a job: each its own kind, counted with one query (a listing by
# state that ``visible`` filters), each job then ``decide``d.
STEPS = {
    "approve": (JobState.AWAITING_APPROVAL, "compute.approve", APPROVE),
    "review": (JobState.HELD, "compute.review", REVIEW),
}


def _offered(actor: Actor, action: str) -> bool:
    """Approvals and reviews wait only for a data provider's administrators and reviewers:
    nobody else pays the query."""
    own = Resource("compute_job", "*", None, {"providers": [actor.org_id]})
    return offers(actor, "home.datasets") and decide(actor, action, own).allowed


def _listed(session: Session, actor: Actor) -> list[Any]:
    """The jobs waiting for a provider's step, both steps' in one query (kept for the
    session: the two kinds count from the same list)."""
    key = ("inbox.compute.waiting", actor.id)
    if key not in session.info:
        states = [state for state, _action, _text in STEPS.values()]
        session.info[key] = jobs.list_jobs(session, actor, statuses=states)
    return list(session.info[key])


def _waiting(session: Session, actor: Actor, step: str) -> list[Any]:
    state, action, _text = STEPS[step]
    if not _offered(actor, action):
        return []
    return [
        job
        for job in _listed(session, actor)
        if job.status == state
        and decide(actor, action, jobs.resource(job)).allowed
        and (
            step != "approve"
            or any(a["org"] == actor.org_id and a["status"] == "waiting" for a in job.approvals)
        )
    ]


def _names(session: Session) -> dict[str, str]:
    """Algorithm names by id: every job's algorithm is filed (or was), so on the register."""
    return {a.id: a.name for a in service.public_register(session)}


def _step(step: str) -> Kind:
    def count(session: Session, actor: Actor, *, now: datetime) -> int:
        return len(_waiting(session, actor, step))

    def items(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
        waiting = _waiting(session, actor, step)
        names = _names(session) if waiting else {}
        return [
            Item(
                f"compute_{step}",
                Message(
                    STEPS[step][2],
                    {
                        "consumer": words.org(job.consumer_org_id),
                        "name": names.get(job.algorithm_id, ""),
                        "datasets": words.datasets(job.datasets),
                    },
                ),
                f"/compute/jobs/{job.id}",
                at=job.phase_started_at,
                ref=job.id,
            )
            for job in waiting
        ]

    return Kind(f"compute_{step}", "waiting", items, count)


for _name in STEPS:
    register(_step(_name))


def _ended(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    """The consumer's jobs that ended in the last ``NEWS_DAYS``, with how and why."""
    if not offers(actor, "requests.read"):
        return []
    since = now - timedelta(days=NEWS_DAYS)
    found = [
        j
        for j in jobs.list_jobs(session, actor)
        if j.consumer_org_id == actor.org_id
        and j.status in JOB_FINAL
        and j.finished_at is not None
        and j.finished_at >= since
    ]
    names = _names(session) if found else {}
    return [
        Item(
            "compute_ended",
            Message(
                ENDED[JobState(j.status)],
                {
                    "name": names.get(j.algorithm_id, ""),
                    "datasets": words.datasets(j.datasets),
                    "reason": j.status_reason or "",
                },
            ),
            f"/compute/jobs/{j.id}",
            at=j.finished_at,
            ref=j.id,
        )
        for j in found
    ]


register(Kind("compute_ended", "news", _ended))


# --- ethics review ---------------------------------------------------------------------------

register_labels(
    KIND,
    {
        "ethics_decide": N_("Ethics review"),
        "ethics_re_review": N_("Expert re-review"),
        "ethics_follow_up": N_("Ethics follow-up"),
    },
)
ETHICS_DECIDE = N_(
    "{applicant} applied to your committee for an ethics review of “{name}” ({procedure}): record the meeting and its decision."
)
ETHICS_RE_REVIEW = N_(
    "The committee approved “{name}” of {applicant}, on the list of activities that need expert re-review: organise it and decide."
)
ETHICS_REVISE = N_(
    "The ethics committee asked you to revise the application for “{name}”: resubmit it."
)
ETHICS_FOLLOW_UP = N_(
    "The ethics approval of “{name}” needs its follow-up review by {day}, or its jobs are suspended."
)
FOLLOW_UP_DAYS = 30  # how early an approval's follow-up is brought up


def _ethics_step(actor: Actor, action: str) -> bool:
    """Who may take the step at all (nobody else pays the query)."""
    ctx = {"department": get_settings().ethics_re_review_department}
    probe = Resource("ethics_review", "*", actor.org_id, {"committee_org": actor.org_id})
    return decide(actor, action, probe, ctx).allowed


def _ethics_waiting(session: Session, actor: Actor, now: datetime) -> list[tuple[str, Any]]:
    """(kind, review) for every ethics step waiting for the actor, in one listing (kept for
    the session: the three kinds count from the same list)."""
    key = ("inbox.compute.ethics", actor.id)
    if key in session.info:
        return list(session.info[key])
    steps = {
        ReviewState.SUBMITTED: ("ethics_decide", "ethics.decide"),
        ReviewState.RE_REVIEW: ("ethics_re_review", "ethics.re_review"),
        ReviewState.REVISE: ("ethics_follow_up", "ethics.resubmit"),
    }
    offered = {state: step for state, step in steps.items() if _ethics_step(actor, step[1])}
    applies = decide(actor, "ethics.apply", Resource("ethics_review", "*", actor.org_id, {}))
    found: list[tuple[str, Any]] = []
    if offered or applies.allowed:
        ctx = {"department": get_settings().ethics_re_review_department}
        by = now.date() + timedelta(days=FOLLOW_UP_DAYS) if applies.allowed else None
        for review in ethics.waiting(session, actor, statuses=list(offered), follow_up_by=by):
            if review.status == ReviewState.APPROVED:
                found.append(("ethics_follow_up", review))
                continue
            kind, action = offered[ReviewState(review.status)]
            if decide(actor, action, ethics.review_resource(review), ctx).allowed:
                found.append((kind, review))
    session.info[key] = found
    return list(found)


def _ethics_kind(kind: str) -> Kind:
    def count(session: Session, actor: Actor, *, now: datetime) -> int:
        return sum(1 for k, _r in _ethics_waiting(session, actor, now) if k == kind)

    def items(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
        waiting = [r for k, r in _ethics_waiting(session, actor, now) if k == kind]
        names = _names(session) if waiting else {}
        out = []
        for r in waiting:
            params = {
                "applicant": words.org(r.org_id),
                "name": names.get(r.algorithm_id, ""),
                "procedure": label(REVIEW_PROCEDURE, r.procedure),
            }
            if kind == "ethics_follow_up" and r.status == "revise":
                text, due = ETHICS_REVISE, None
            elif kind == "ethics_follow_up":
                params["day"] = r.valid_until.isoformat()
                text, due = ETHICS_FOLLOW_UP, _due(r.valid_until)
            else:
                text = ETHICS_DECIDE if kind == "ethics_decide" else ETHICS_RE_REVIEW
                due = r.due_at
            out.append(
                Item(
                    kind,
                    Message(text, params),
                    f"/ethics/reviews/{r.id}",
                    at=r.decided_at or r.created_at,
                    due=due,
                    urgent=due is not None and due - now < timedelta(days=URGENT_DAYS),
                    ref=r.id,
                )
            )
        return out

    return Kind(kind, "waiting", items, count)


for _kind in ("ethics_decide", "ethics_re_review", "ethics_follow_up"):
    register(_ethics_kind(_kind))
