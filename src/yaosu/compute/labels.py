"""The compute domain's words: algorithm types, filing kinds and states, job states, the
sandbox's outcomes, and its audit actions."""

from __future__ import annotations  # noqa: I001

from yaosu.kernel.i18n import N_, register_labels
from yaosu.authorization.labels import RESOURCE_TYPE

ALGORITHM_TYPE = "algorithm_type"
FILING_KIND = "filing_kind"
FILING_STATE = "filing_state"
JOB_STATE = "job_state"
SANDBOX_STATUS = "sandbox_status"
OUTPUT_KIND = "output_kind"

register_labels(
    RESOURCE_TYPE,
    {
        "algorithm": N_("Algorithm"),
        "trusted": N_("Trusted algorithm"),
        "compute_job": N_("Compute job"),
        "ethics_committee": N_("Ethics committee"),
        "ethics_review": N_("Ethics review"),
    },
)
# 互联网信息服务算法推荐管理规定 Art. 2: the five types of algorithm recommendation technology.
register_labels(
    ALGORITHM_TYPE,
    {
        "generation": N_("generation and synthesis"),
        "push": N_("personalised push"),
        "ranking": N_("ranking and selection"),
        "retrieval": N_("retrieval and filtering"),
        "scheduling": N_("scheduling and decision-making"),
    },
)
register_labels(
    FILING_KIND,
    {
        "filing": N_("filing"),
        "change": N_("change of filing"),
        "deregistration": N_("deregistration"),
    },
)
register_labels(
    FILING_STATE,
    {
        "submitted": N_("submitted"),
        "filed": N_("filed"),
        "returned": N_("returned"),
        "deregistered": N_("deregistered"),
    },
)
register_labels(
    JOB_STATE,
    {
        "awaiting_approval": N_("awaiting the providers' approval"),
        "queued": N_("queued"),
        "running": N_("running"),
        "checking": N_("outputs being checked"),
        "held": N_("held for the provider's review"),
        "suspended": N_("suspended: its ethics approval lapsed"),
        "released": N_("released"),
        "rejected": N_("rejected"),
        "failed": N_("failed"),
        "cancelled": N_("cancelled"),
    },
)
register_labels(
    SANDBOX_STATUS,
    {
        "ok": N_("finished"),
        "failed": N_("the algorithm failed"),
        "timeout": N_("stopped: ran out of time"),
        "memory": N_("stopped: ran out of memory"),
        "cpu": N_("stopped: used up its CPU time"),
        "output_size": N_("stopped: outputs too large"),
        "sandbox_error": N_("the sandbox could not start"),
    },
)
register_labels(
    OUTPUT_KIND,
    {
        "table": N_("derived table"),
        "statistics": N_("statistical table"),
        "metrics": N_("metrics"),
        "report": N_("report"),
        "model": N_("trained model"),
    },
)
# Ethics review (科技伦理审查): a review's state, kind, procedure and risk, a member's vote
# (and the decision it comes to), expertise and gender.
REVIEW_STATE = "ethics_review_state"
REVIEW_KIND = "ethics_review_kind"
REVIEW_PROCEDURE = "ethics_procedure"
REVIEW_RISK = "ethics_risk"
VOTE = "ethics_vote"
EXPERTISE = "ethics_expertise"
GENDER = "ethics_gender"
register_labels(
    REVIEW_STATE,
    {
        "submitted": N_("waiting for the committee"),
        "re_review": N_("waiting for expert re-review"),
        "approved": N_("approved"),
        "revise": N_("returned for revision"),
        "rejected": N_("not approved"),
        "lapsed": N_("lapsed: follow-up review overdue"),
        "superseded": N_("superseded by a later review"),
        "revoked": N_("revoked by a follow-up review"),
    },
)
register_labels(
    REVIEW_KIND,
    {
        "initial": N_("initial review"),
        "follow_up": N_("follow-up review"),
        "modification": N_("review of a modification"),
    },
)
register_labels(
    REVIEW_PROCEDURE,
    {
        "general": N_("general procedure (a meeting)"),
        "simplified": N_("simplified procedure"),
        "emergency": N_("emergency procedure (72 hours)"),
    },
)
register_labels(
    REVIEW_RISK,
    {"minimal": N_("minimal risk"), "above_minimal": N_("more than minimal risk")},
)
register_labels(
    VOTE,
    {
        "approve": N_("approve"),
        "approve_with_changes": N_("approve with changes"),
        "revise": N_("revise and review again"),
        "reject": N_("do not approve"),
    },
)
register_labels(
    EXPERTISE,
    {
        "technical": N_("technical (peer expert)"),
        "ethics": N_("ethics"),
        "legal": N_("law"),
        "other": N_("other"),
    },
)
register_labels(GENDER, {"female": N_("female"), "male": N_("male")})
register_labels("job_kind", {"compute.run": N_("Compute job")})
register_labels(
    "audit_action",
    {
        "algorithm.file": N_("filed an algorithm"),
        "algorithm.change": N_("filed a change to an algorithm"),
        "algorithm.deregister": N_("deregistered an algorithm"),
        "algorithm.decide": N_("decided an algorithm filing"),
        "algorithm.trust": N_("approved an algorithm for a dataset"),
        "algorithm.distrust": N_("withdrew an algorithm's approval for a dataset"),
        "algorithm.view": N_("viewed an algorithm"),
        "algorithm.trusted": N_("viewed a dataset's trusted algorithms"),
        "compute.submit": N_("submitted a compute job"),
        "compute.view": N_("viewed a compute job"),
        "compute.approve": N_("approved a compute job's algorithm"),
        "compute.cancel": N_("cancelled a compute job"),
        "compute.run": N_("ran a compute job in the sandbox"),
        "compute.check": N_("checked a compute job's outputs"),
        "compute.review": N_("reviewed a compute job's held outputs"),
        "compute.release": N_("released a compute job's outputs"),
        "compute.reject": N_("rejected a compute job's outputs"),
        "compute.fail": N_("a compute job failed"),
        "compute.download": N_("downloaded a compute job's output"),
        "compute.suspend": N_("suspended a compute job (its ethics approval lapsed)"),
        "compute.resume": N_("resumed a compute job under a renewed ethics approval"),
        "ethics.committee.create": N_("set up an ethics committee"),
        "ethics.committee.update": N_("changed an ethics committee"),
        "ethics.committee.view": N_("viewed an ethics committee"),
        "ethics.view": N_("viewed an ethics review"),
        "ethics.apply": N_("applied for an ethics review"),
        "ethics.resubmit": N_("resubmitted an ethics review"),
        "ethics.decide": N_("recorded an ethics committee's decision"),
        "ethics.re_review": N_("decided an expert re-review"),
        "ethics.lapse": N_("an ethics approval lapsed (follow-up overdue)"),
    },
)
