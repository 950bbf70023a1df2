"""Schemathesis over the whole OpenAPI, as three demo roles with tokens and anonymously.

Every operation the app declares is fuzzed (nothing is filtered out) against a real server
(uvicorn on a socket, lifespan and worker included) on a fresh demo world per backend and role,
with a bounded, derandomised number of examples so the run fits CI. A case fails on any 5xx and
on any schema violation: an undeclared status code or content type, a body that does not match
its declared schema, a 405 without a true ``Allow``, data the schema calls invalid being
accepted; and on any error the server logged while answering it.

The world is shared by the operations of one role (a fresh copy per test would clone the demo
world 750 times); roles and backends each get their own copy, so they cannot disturb each
other. No operation is excluded: the only token a run holds is its own, which a fuzzed
``DELETE /tokens/{id}`` cannot guess, and logging out with a bearer token does not revoke it.

schemathesis' own fixture-based loader (``schemathesis.pytest.from_fixture``) does not run on
pytest 9.2 (it sets ``Node._nodeid``), so the schema is loaded at collection from the app's
OpenAPI (no database needed) and every case is sent to the fixture's server by URL.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import dataset_id, serving, token_for, world_copy
from yaosu.api import create_app
from yaosu.context import Context
from yaosu.kernel.settings import Settings

# A provider administrator (who can write, so reaches every validation), a consumer, a
# regulator, and nobody.
ADMIN = "bureau-admin"
ROLES = (ADMIN, "ai-analyst", "cac-inspector", "anonymous")
# Per operation, role and backend: Hypothesis examples in the fuzzing phase, positive and negative.
EXAMPLES = 5
# A schema-valid request may still break a rule JSON Schema cannot state (a lower bound below
# its upper, SQL that parses, an upload that names its file, a note for a refusal); those are
# answered 422 by design, so "positive data acceptance" is the one check not run. The opposite
# direction (invalid data must be refused) is checked.
NOT_CHECKED = schemathesis.checks.positive_data_acceptance


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document, built without a database (collection happens before any
    fixture exists)."""
    home = Path(tempfile.mkdtemp(prefix="yaosu-openapi-"))
    try:
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'y.db'}")
        return create_app(settings, migrate=False).openapi()
    finally:
        shutil.rmtree(home, ignore_errors=True)


SPEC = _openapi()
# The coverage phase walks every parameter's boundaries (2**63, wrong JSON types, empty and
# overlong strings, undeclared methods): ~2,600 requests per role, so it runs for the provider
# administrator only; the other roles get the examples and fuzzing phases. Stateful testing
# needs links the OpenAPI does not declare.
deep = schemathesis.openapi.from_dict(
    SPEC, config=schemathesis.Config.from_dict({"phases": {"stateful": {"enabled": False}}})
)
light = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict(
        {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
    ),
)


@pytest.fixture(scope="module")
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fuzz_ctx(
    backend: str, template: tuple[Path, str], role: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Context]:
    """A private copy of the demo world for one role's run (as ``ctx``, at module scope)."""
    with world_copy(
        backend, template, tmp_path_factory.mktemp(f"fuzz-{backend}-{role}") / "home"
    ) as copy:
        yield copy


@pytest.fixture(scope="module")
def fuzz_server(fuzz_ctx: Context) -> Iterator[str]:
    with serving(fuzz_ctx) as url:
        yield url


@pytest.fixture(scope="module")
def role_headers(fuzz_ctx: Context, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    return {"Authorization": f"Bearer {token_for(fuzz_ctx, role)}"}


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    with caplog.at_level(logging.ERROR):
        yield caplog.records


HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def world(fuzz_ctx: Context) -> dict[str, str]:
    """The demo world's own objects, which random path ids never hit."""
    return {"dataset_id": dataset_id(fuzz_ctx, "农产品")}


def _into_world(case: Any, world: dict[str, str]) -> None:
    """Half the cases (chosen by a checksum of the case, so every run repeats) name a real
    object instead of a random id, so that fuzzing reaches past the 404: versions, previews,
    screens and uploads of a real dataset (the provider administrator's uploads of fuzz bytes
    become real versions, which later cases then read)."""
    params = case.path_parameters or {}
    if zlib.crc32(repr(sorted(params.items())).encode()) % 2:
        for name, real in world.items():
            if name in params:
                params[name] = real


def _call(
    case: Any,
    server: str,
    headers: dict[str, str],
    world: dict[str, str],
    log: list[logging.LogRecord],
) -> None:
    _into_world(case, world)
    case.call_and_validate(base_url=server, headers=headers, excluded_checks=[NOT_CHECKED])
    errors = [r.getMessage() for r in log if r.levelno >= logging.ERROR]
    assert not errors, errors


@pytest.mark.parametrize("role", [ADMIN], indirect=True, scope="module")
@deep.parametrize()
@HYPOTHESIS
def test_api_fuzz_deep(
    case: Any,
    fuzz_server: str,
    role_headers: dict[str, str],
    world: dict[str, str],
    server_log: list[logging.LogRecord],
) -> None:
    _call(case, fuzz_server, role_headers, world, server_log)


@pytest.mark.parametrize("role", ROLES, indirect=True, scope="module")
@light.parametrize()
@HYPOTHESIS
def test_api_fuzz(
    case: Any,
    fuzz_server: str,
    role_headers: dict[str, str],
    world: dict[str, str],
    server_log: list[logging.LogRecord],
) -> None:
    _call(case, fuzz_server, role_headers, world, server_log)
