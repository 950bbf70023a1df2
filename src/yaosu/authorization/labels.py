"""Authorization's stored codes: request, review and contract states, fees, operations,
the rules that route a review, and the resource types policy speaks of (which are also
the audit log's object types)."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

REQUEST_STATE = "request_state"
REVIEW_STATE = "review_state"
CONTRACT_STATE = "contract_state"
PRICING = "pricing"
OPERATION = "operation"
REVIEW_RULE = "review_rule"
RESOURCE_TYPE = "resource_type"

register_labels(
    REQUEST_STATE,
    {
        "submitted": N_("under review"),
        "approved": N_("approved"),
        "rejected": N_("rejected"),
        "withdrawn": N_("withdrawn"),
        "expired": N_("expired"),
    },
)
register_labels(
    REVIEW_STATE,
    {
        "pending": N_("pending"),
        "approved": N_("approved"),
        "conditional": N_("approved with conditions"),
        "rejected": N_("rejected"),
        "void": N_("no longer needed"),
    },
)
register_labels(
    CONTRACT_STATE,
    {
        "offered": N_("awaiting the data user's acceptance"),
        "active": N_("in force"),
        "declined": N_("declined by the data user"),
        "suspended": N_("suspended"),
        "revoked": N_("revoked"),
        "expired": N_("expired"),
    },
)
register_labels(
    PRICING,
    {"free": N_("free"), "capped": N_("capped cost-based fee"), "market": N_("market price")},
)
register_labels(
    OPERATION,
    {
        "aggregate": N_("aggregate queries"),
        "extract": N_("de-identified extract"),
        "compute": N_("compute-to-data"),
        "download": N_("download of open data"),
    },
)
register_labels(
    REVIEW_RULE,
    {
        "provider": N_("the provider"),
        "personal": N_("personal information"),
        "important": N_("important data"),
        "industry": N_("industry authority"),
    },
)
register_labels(
    RESOURCE_TYPE,
    {
        "audit": N_("Audit log"),
        "certificate": N_("Certificate"),
        "checkpoint": N_("Checkpoint"),
        "contract": N_("Contract"),
        "dataset": N_("Dataset"),
        "derivation": N_("De-identified version"),
        "extract": N_("Data extract"),
        "job": N_("Background job"),
        "objection": N_("Objection"),
        "organisation": N_("Organisation"),
        "purpose": N_("Purpose"),
        "registration": N_("Registration"),
        "request": N_("Access request"),
        "right": N_("Right"),
        "screen": N_("Scan"),
        "session": N_("Session"),
        "token": N_("API token"),
        "user": N_("User"),
        "witness": N_("Witness"),
    },
)
