"""The catalog's stored codes and their labels (the Chinese is in this package's catalog,
with the kind as its context)."""

from __future__ import annotations

from yaosu.kernel.i18n import N_, register_labels

OPENNESS = "openness"
FREQUENCY = "update_frequency"
COLUMN_KIND = "column_kind"
FILE_FORMAT = "file_format"

register_labels(
    OPENNESS,
    {"open": N_("Open"), "conditional": N_("Conditionally open"), "closed": N_("Not open")},
)
register_labels(
    FREQUENCY,
    {
        "continuous": N_("Real time"),
        "daily": N_("Daily"),
        "weekly": N_("Weekly"),
        "monthly": N_("Monthly"),
        "quarterly": N_("Quarterly"),
        "annual": N_("Yearly"),
        "irregular": N_("Irregular"),
    },
)
register_labels(
    COLUMN_KIND,
    {
        "integer": N_("integer"),
        "number": N_("number"),
        "string": N_("text"),
        "date": N_("date"),
        "timestamp": N_("date and time"),
        "boolean": N_("yes/no"),
        "other": N_("other"),
    },
)
# What a file was found to be, by its content (ingest's sniffing).
register_labels(
    FILE_FORMAT,
    {
        "csv": N_("CSV/TSV text"),
        "xlsx": N_("Excel XLSX workbook"),
        "json": N_("JSON"),
        "parquet": N_("Parquet"),
        "xls": N_("old Excel XLS (save it as XLSX)"),
        "zip": N_("ZIP archive"),
        "binary": N_("binary data"),
    },
)
