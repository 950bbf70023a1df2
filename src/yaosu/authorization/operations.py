"""What a consumer may ask to do with data, and a contract permit: the one list (requests,
contracts, governed access, and the ODRL actions in ``odrl.ACTIONS`` all use it)."""

from __future__ import annotations

from enum import StrEnum


class Operation(StrEnum):
    aggregate = "aggregate"  # governed SQL that answers with aggregates only
    extract = "extract"  # the granted rows: row-level queries and de-identified extracts
    compute = "compute"  # compute-to-data: a named algorithm runs where the data is
    download = "download"  # open data as published
