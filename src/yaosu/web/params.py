"""The parameter and response types every route shares."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Path, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BeforeValidator
from starlette.types import ASGIApp, Receive, Scope, Send

# Every integer a client sends is bounded to what the databases store (a signed 64-bit integer):
# an unbounded one reaches SQLite or psycopg as an overflow, i.e. a 500. tests/test_api_contract.py
# fails on any integer parameter or body field declared without both bounds.
MAX_INT = 2**63 - 1

MAX_INT32 = 2**31 - 1  # an INTEGER column (version numbers): PostgreSQL's int4

PathIndex = Annotated[int, Path(ge=0, le=MAX_INT)]  # a 0-based position (log entry, tree size)
PathNumber = Annotated[int, Path(ge=1, le=MAX_INT32)]  # a 1-based version number
QueryOffset = Annotated[int, Query(ge=0, le=MAX_INT)]

# Times are ISO 8601 / RFC 3339 date-times (a time without a zone is taken as UTC); pydantic on
# its own also takes "0.5" or "1700000000" as seconds since 1970, which no one means in a URL.
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _iso_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _ISO_DATETIME.fullmatch(value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError as exc:
            # pydantic reports its own checks in English; these read the same way
            raise ValueError(f"not a valid ISO 8601 time: {value!r}") from exc
    else:
        raise ValueError("a time must be ISO 8601, e.g. 2026-01-13T08:00:00+08:00")
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted out of range by its zone offset
        return EARLIEST if parsed.year < 1970 else LATEST
    # Nothing happened before 1970 or after 9998: a bound outside is the same as that end, and
    # clamping keeps year-1 and year-9999 times away from the databases' own date limits.
    return min(max(parsed, EARLIEST), LATEST)


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not a valid day: {value!r}") from exc
    raise ValueError("a day must be ISO 8601, e.g. 2026-01-13")


def _written_time(value: Any) -> Any:
    """A time in a body is written out (pydantic would take a number as seconds since 1970)."""
    if isinstance(value, bool | int | float):
        raise ValueError("a time must be ISO 8601, e.g. 2026-01-13T08:00:00+08:00")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]  # a calendar day, YYYY-MM-DD only
# a time with its zone, written out: "2026-01-13T08:00:00+08:00"; without a zone it is refused
IsoAwareDateTime = Annotated[AwareDatetime, BeforeValidator(_written_time)]


class JSONLDResponse(JSONResponse):
    """JSON-LD documents (DCAT, ODRL): declared as ``application/ld+json`` in the OpenAPI."""

    media_type = "application/ld+json"


class BlankFormFields:
    """A console form sends every field, the ones left blank as ``name=``; a blank field means
    "not given", as the page's defaults say, not an empty date or number that fails to parse
    (the audit search failed with its date fields left blank). Console GET requests drop
    blank query fields before routing; the API keeps them, and refuses what it cannot read.
    A pure ASGI middleware: it rewrites the query string and nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith("/api/")
            and scope.get("query_string")
        ):
            fields = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            kept = [(k, v) for k, v in fields if v.strip()]
            if len(kept) != len(fields):
                scope = {**scope, "query_string": urlencode(kept).encode("latin-1")}
        await self.app(scope, receive, send)
