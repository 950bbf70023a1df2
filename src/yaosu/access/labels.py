"""Governed SQL's words for the kinds of value a query compares (its type check)."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

VALUE_KIND = "value_kind"

register_labels(
    VALUE_KIND,
    {
        "text": N_("text"),
        "number": N_("a number"),
        "temporal": N_("a date or time"),
        "boolean": N_("a boolean"),
        "other": N_("other"),
    },
)
