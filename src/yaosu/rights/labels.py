"""Data property rights: kinds, how a right was obtained, and the states of grants,
registrations and objections."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

RIGHT_KIND = "right_kind"
GRANT_SOURCE = "grant_source"
GRANT_STATE = "grant_state"
REGISTRATION_STATE = "registration_state"
OBJECTION_STATE = "objection_state"

register_labels(
    RIGHT_KIND,
    {
        "holding": N_("holding right"),
        "processing": N_("processing-use right"),
        "operation": N_("product operation right"),
    },
)
register_labels(
    GRANT_SOURCE,
    {
        "original": N_("original"),
        "licence": N_("licence"),
        "transfer": N_("transfer"),
        "derivation": N_("derivation"),
    },
)
register_labels(
    GRANT_STATE,
    {
        "pending": N_("registration under way"),
        "active": N_("in force"),
        "transferred": N_("transferred"),
        "revoked": N_("revoked"),
        "rejected": N_("rejected"),
    },
)
register_labels(
    REGISTRATION_STATE,
    {
        "applied": N_("applied"),
        "accepted": N_("accepted"),
        "in_notice": N_("in public notice"),
        "registered": N_("registered"),
        "rejected": N_("rejected"),
    },
)
register_labels(
    OBJECTION_STATE, {"open": N_("open"), "upheld": N_("upheld"), "dismissed": N_("dismissed")}
)
