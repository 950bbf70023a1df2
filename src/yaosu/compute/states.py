"""The states of a filed algorithm and of a compute job, and the moves between them: one table
each, checked by ``kernel.states.transition`` as every domain's are."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from yaosu.kernel.i18n import _
from yaosu.kernel.states import transition


class _Stateful(Protocol):
    id: str
    status: str


class FilingState(StrEnum):
    """An algorithm's filing (算法备案, 互联网信息服务算法推荐管理规定 Art. 24–26): submitted to the
    filing department, then filed (a number issued and the public text published) or returned
    with the reason (材料不齐全, 不予备案); a filed algorithm changes (Art. 25: a change is
    submitted and decided like a filing) and is finally deregistered (注销)."""

    SUBMITTED = "submitted"
    FILED = "filed"
    RETURNED = "returned"
    DEREGISTERED = "deregistered"


FILING_MOVES: dict[FilingState, frozenset[FilingState]] = {
    FilingState.SUBMITTED: frozenset({FilingState.FILED, FilingState.RETURNED}),
    FilingState.RETURNED: frozenset({FilingState.SUBMITTED}),  # resubmitted, completed
    FilingState.FILED: frozenset({FilingState.DEREGISTERED}),
    FilingState.DEREGISTERED: frozenset(),
}


class JobState(StrEnum):
    """A compute-to-data job: created, waiting for each provider's approval of the algorithm's
    hash for its dataset (and for the filing to stand), queued, running in the sandbox, its
    outputs checked, then released, rejected, or held for the provider's reviewer; a job that
    cannot go on fails with its reason; the submitter may cancel it before it ends."""

    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    RUNNING = "running"
    CHECKING = "checking"
    HELD = "held"
    RELEASED = "released"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"  # its ethics approval lapsed before it ran


JOB_MOVES: dict[JobState, frozenset[JobState]] = {
    JobState.AWAITING_APPROVAL: frozenset(
        {
            JobState.QUEUED,
            JobState.REJECTED,
            JobState.CANCELLED,
            JobState.FAILED,
            JobState.SUSPENDED,
        }
    ),
    JobState.QUEUED: frozenset(
        {JobState.RUNNING, JobState.CANCELLED, JobState.FAILED, JobState.SUSPENDED}
    ),
    # a follow-up review approved: it waits again for what it waited for, or runs
    JobState.SUSPENDED: frozenset(
        {JobState.AWAITING_APPROVAL, JobState.QUEUED, JobState.CANCELLED, JobState.FAILED}
    ),
    JobState.RUNNING: frozenset(
        # back to queued: its worker died, and it runs again from the start
        {JobState.CHECKING, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED}
    ),
    JobState.CHECKING: frozenset(
        {JobState.RELEASED, JobState.REJECTED, JobState.HELD, JobState.FAILED, JobState.QUEUED}
    ),
    JobState.HELD: frozenset({JobState.RELEASED, JobState.REJECTED, JobState.FAILED}),
    JobState.RELEASED: frozenset(),
    JobState.REJECTED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}
JOB_FINAL = frozenset(s for s, targets in JOB_MOVES.items() if not targets)
JOB_ACTIVE = frozenset(JobState) - JOB_FINAL


class ReviewState(StrEnum):
    """An ethics review (科技伦理审查办法（试行）): submitted to the committee, decided at a
    meeting (or by the simplified procedure's reviewers); approved, returned for revision and
    review again (修改后再审), or not approved. An activity on the list of those needing expert
    re-review (专家复核) waits for the competent department after the committee approves. An
    approval ends when its follow-up review is overdue (lapsed), when a later review replaces
    it (superseded), or when a follow-up review does not approve it again (revoked)."""

    SUBMITTED = "submitted"
    RE_REVIEW = "re_review"
    APPROVED = "approved"
    REVISE = "revise"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


REVIEW_MOVES: dict[ReviewState, frozenset[ReviewState]] = {
    ReviewState.SUBMITTED: frozenset(
        {ReviewState.APPROVED, ReviewState.RE_REVIEW, ReviewState.REVISE, ReviewState.REJECTED}
    ),
    ReviewState.RE_REVIEW: frozenset({ReviewState.APPROVED, ReviewState.REJECTED}),
    ReviewState.REVISE: frozenset({ReviewState.SUBMITTED}),
    ReviewState.APPROVED: frozenset(
        {ReviewState.LAPSED, ReviewState.SUPERSEDED, ReviewState.REVOKED}
    ),
    ReviewState.REJECTED: frozenset(),
    ReviewState.LAPSED: frozenset(),
    ReviewState.SUPERSEDED: frozenset(),
    ReviewState.REVOKED: frozenset(),
}


def advance_review(review: _Stateful, target: ReviewState) -> None:
    review.status = transition(
        REVIEW_MOVES, review.status, target, what=_("Ethics review"), id=review.id
    )


def advance_filing(filing: _Stateful, target: FilingState) -> None:
    filing.status = transition(FILING_MOVES, filing.status, target, what=_("Filing"), id=filing.id)


def advance_job(job: _Stateful, target: JobState) -> None:
    """Moves ``job`` to ``target``, or ``IllegalTransition``.

    >>> class J:
    ...     id, status = "cjob_1", "released"
    >>> advance_job(J(), JobState.RUNNING)
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.IllegalTransition: Compute job cjob_1 is released; it cannot become running.
    """
    job.status = transition(JOB_MOVES, job.status, target, what=_("Compute job"), id=job.id)
