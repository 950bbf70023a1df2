"""Lineage's words: the part an organisation plays in a dataset's making."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

PART = "lineage_part"
JOB = "lineage_job"

register_labels(
    PART,
    {
        "holder": N_("holder (collected it)"),
        "processor": N_("processor"),
        "operator": N_("operator"),
        "consumer": N_("user of the data"),
    },
)
register_labels(
    "audit_action",
    {
        "lineage.send": N_("sent lineage events to an OpenLineage endpoint"),
        "lineage.view": N_("read lineage events"),  # a refusal is recorded under it
    },
)
register_labels(
    JOB,
    {
        "catalog.ingest": N_("collected and registered"),
        "privacy.deidentify": N_("de-identified"),
        "access.extract": N_("de-identified extract"),
        "access.query": N_("governed query answer"),
        "market.product": N_("made into a data product"),
        "compute.job": N_("computed on where the data is"),
    },
)
