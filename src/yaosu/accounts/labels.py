"""Organisation kinds and member roles, as people read them."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

ORG_KIND = "org_kind"
ROLE = "role"

register_labels(
    ORG_KIND,
    {
        "provider": N_("Data provider"),
        "operator": N_("Authorised operator"),
        "consumer": N_("Data user"),
        "regulator": N_("Regulator"),
        "platform": N_("Platform operator"),
        "assessor": N_("Assessor"),
    },
)
register_labels(
    ROLE, {"admin": N_("Administrator"), "member": N_("Member"), "reviewer": N_("Reviewer")}
)
