"""Column profiles never show the values of personal, sensitive or identifier columns to
anyone but the provider (issue 11, section 2), through any exit: the version API, the
version listing, the console's dataset page and its charts, and the derivation report."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import actor, auth, dataset_id
from tests.console.test_pages import login
from yaosu.catalog import versions
from yaosu.catalog.models import Dataset, DatasetVersion
from yaosu.context import Context
from yaosu.privacy import service as privacy

PROVIDER = ("bureau-admin", "bureau-analyst", "bureau-reviewer")
OUTSIDERS = (
    "platform-admin",
    "ai-analyst",
    "coop-manager",
    "cac-inspector",
    "dsj-inspector",
    "assessor",
)
ANON = "anonymous"


def _text(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def personal_values(ctx: Context, ds_id: str, number: int) -> set[str]:
    """Every value, read from the stored Parquet, of every column the version's confirmed
    screen marked personal."""
    with ctx.db.transaction() as session:
        screen = privacy.confirmed_screen(session, dataset_id=ds_id, version=number)
        version = session.scalar(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == ds_id, DatasetVersion.number == number
            )
        )
        assert screen is not None and version is not None
        columns = [
            c["column"]
            for c in screen.findings.get("columns", [])
            if any(e["personal"] for e in c["entities"])
        ]
        path = ctx.store.path(version.sha256)
    if not columns:
        return set()
    table = pq.read_table(path, columns=columns)
    return {_text(v) for name in columns for v in table.column(name).to_pylist() if v is not None}


def leaves(doc: Any) -> Iterator[str]:
    if isinstance(doc, dict):
        for value in doc.values():
            yield from leaves(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from leaves(value)
    elif doc is not None:
        yield _text(doc)


class _PageText(HTMLParser):
    """Every token of the page's text and attribute values, and the leaves of its JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self._json = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._json = tag == "script" and ("type", "application/json") in attrs
        for _, value in attrs:
            if value:
                self._add(value)

    def handle_endtag(self, tag: str) -> None:
        self._json = False

    def handle_data(self, data: str) -> None:
        if self._json:
            self.tokens.update(leaves(json.loads(data)))
        self._add(data)

    def _add(self, text: str) -> None:
        for token in re.split(r"[\s–—(),%:：/]+", text):
            if token:
                self.tokens.update({token, token.replace(",", "")})


def page_tokens(html: str) -> set[str]:
    parser = _PageText()
    parser.feed(html)
    return parser.tokens


def _client_as(app_client: TestClient, ctx: Context, who: str) -> dict[str, str]:
    app_client.cookies.clear()
    if who == ANON:
        return {}
    login(app_client, who)
    return auth(ctx, who)


def _demo_datasets(ctx: Context) -> list[tuple[str, int]]:
    with ctx.db.transaction() as session:
        return [(d.id, d.latest_version) for d in session.scalars(select(Dataset))]


def test_no_profile_shows_a_value_of_a_personal_column_to_anyone_but_the_provider(
    app_client: TestClient, ctx: Context
) -> None:
    checked = 0
    for ds_id, number in _demo_datasets(ctx):
        secret = personal_values(ctx, ds_id, number)
        for who in (*OUTSIDERS, ANON):
            headers = _client_as(app_client, ctx, who)
            one = app_client.get(f"/api/v1/datasets/{ds_id}/versions/{number}", headers=headers)
            if one.status_code == 404:
                continue  # a closed dataset is not visible to this actor at all
            assert one.status_code == 200, (who, one.text)
            listed = app_client.get(f"/api/v1/datasets/{ds_id}/versions", headers=headers)
            assert listed.status_code == 200
            page = app_client.get(f"/datasets/{ds_id}")
            assert page.status_code == 200
            for where, found in (
                ("version", set(leaves(one.json()))),
                ("versions", set(leaves(listed.json()))),
                ("page", page_tokens(page.text)),
            ):
                leaked = found & secret
                assert not leaked, (who, ds_id, where, sorted(leaked)[:5])
            checked += 1
    assert checked >= 2 * len(OUTSIDERS)  # the conditional dataset is seen by all of them


def test_the_phone_numbers_the_issue_found_are_withheld_but_safe_columns_still_show(
    app_client: TestClient, ctx: Context
) -> None:
    ds_id = dataset_id(ctx, "社会保险")
    secret = personal_values(ctx, ds_id, 1)
    for who in (*OUTSIDERS, ANON):
        headers = _client_as(app_client, ctx, who)
        body = app_client.get(f"/api/v1/datasets/{ds_id}/versions/1", headers=headers).json()
        columns = {c["name"]: c for c in body["columns"]}
        phone = columns["手机号"]
        assert phone["withheld"] and phone["range"] is None and phone["mean"] is None, who
        assert phone["top"] == [] and phone["distinct_estimate"] is None
        # Ingest keeps phone numbers as text (leading zeros and +86 matter): a length at most.
        assert phone["type"] == "string" and phone["null_ratio"] == 0.0
        assert phone["length"] == {"min": 11, "max": 11}
        assert columns["出生日期"]["range"] is None
        assert columns["身份证号"]["length"] == {"min": 18, "max": 18}  # length, never values
        assert columns["备注"]["top"] == []  # names turn up in it: personal
        # Columns the confirmed screen found non-personal keep their values.
        assert columns["缴费档次(元)"]["range"] == {"min": 200, "max": 2000}
        assert {t["value"] for t in columns["性别"]["top"]} == {"男", "女"}
        assert not columns["性别"]["withheld"]
    # The provider sees the whole profile: the values above are really there.
    whole = app_client.get(
        f"/api/v1/datasets/{ds_id}/versions/1", headers=_client_as(app_client, ctx, "bureau-admin")
    ).json()
    born = {c["name"]: c for c in whole["columns"]}["出生日期"]
    assert not born["withheld"] and str(born["range"]["min"]) in secret


def test_the_provider_sees_its_own_values_on_the_page(app_client: TestClient, ctx: Context) -> None:
    ds_id = dataset_id(ctx, "社会保险")
    secret = personal_values(ctx, ds_id, 1)
    for who in PROVIDER:
        _client_as(app_client, ctx, who)
        assert page_tokens(app_client.get(f"/datasets/{ds_id}").text) & secret, who


def test_identifier_columns_are_withheld_even_when_not_personal(
    app_client: TestClient, ctx: Context
) -> None:
    """The closed enterprise dataset: a regulator sees it, but not the enterprises' unified
    social credit codes in its frequent values."""
    ds_id = dataset_id(ctx, "用电量")
    for who in ("cac-inspector", "platform-admin"):
        body = app_client.get(
            f"/api/v1/datasets/{ds_id}/versions/1", headers=_client_as(app_client, ctx, who)
        ).json()
        code = {c["name"]: c for c in body["columns"]}["统一社会信用代码"]
        assert code["withheld"] and code["top"] == [], who
        assert code["length"] == {"min": 18, "max": 18}


def _new_version(ctx: Context, tmp_path: Path, ds_id: str) -> int:
    path = tmp_path / "more.parquet"
    pq.write_table(
        pa.table({"乡镇": ["城关镇"] * 12, "销量(吨)": [float(i) for i in range(12)]}), path
    )
    version = versions.run_ingest(
        ctx, actor(ctx, "bureau-admin"), dataset_id=ds_id, source=path, filename="v.parquet"
    )
    return version.number


def test_a_version_without_a_confirmed_screen_shows_no_values_to_outsiders(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    ds_id = dataset_id(ctx, "农产品")
    number = _new_version(ctx, tmp_path, ds_id)
    for who in ("coop-manager", "cac-inspector", ANON):
        headers = _client_as(app_client, ctx, who)
        body = app_client.get(f"/api/v1/datasets/{ds_id}/versions/{number}", headers=headers)
        for column in body.json()["columns"]:
            assert column["withheld"] and column["top"] == [] and column["range"] is None, who
        page = page_tokens(app_client.get(f"/datasets/{ds_id}").text)
        assert "城关镇" not in page and "11.0" not in page, who
    # Proposed is not confirmed; once the reviewer confirms, the clean columns show again.
    with ctx.db.transaction() as session:
        screen = privacy.screen_version(
            session,
            actor(ctx, "bureau-analyst"),
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=ds_id,
            number=number,
        )
        screen_id = screen.id
    body = app_client.get(f"/api/v1/datasets/{ds_id}/versions/{number}").json()
    assert all(c["withheld"] for c in body["columns"])
    with ctx.db.transaction() as session:
        privacy.review(session, actor(ctx, "bureau-reviewer"), screen_id=screen_id)
    body = app_client.get(f"/api/v1/datasets/{ds_id}/versions/{number}").json()
    columns = {c["name"]: c for c in body["columns"]}
    assert columns["销量(吨)"]["range"] == {"min": 0.0, "max": 11.0}
    assert columns["乡镇"]["top"] == [{"value": "城关镇", "count": 12}]


@pytest.mark.parametrize("who", ["platform-admin"])
def test_the_derivation_report_shows_profiles_as_the_catalog_does(
    app_client: TestClient, ctx: Context, who: str
) -> None:
    """The platform may read a derivation report; it is not the provider."""
    ds_id = dataset_id(ctx, "社会保险")
    secret = personal_values(ctx, ds_id, 1)
    made = app_client.post(
        f"/api/v1/datasets/{ds_id}/versions/1/deidentify",
        json={"columns": {"姓名": {"op": "drop"}}},
        headers=auth(ctx, "bureau-admin"),
    )
    assert made.status_code == 201, made.text
    report = app_client.get(f"/api/v1/derivations/{made.json()['id']}", headers=auth(ctx, who))
    assert report.status_code == 200, report.text
    assert not set(leaves(report.json())) & secret
    app_client.cookies.clear()
    login(app_client, who)
    page = app_client.get(f"/datasets/{ds_id}/privacy/derivations/{made.json()['id']}")
    assert page.status_code == 200
    assert not page_tokens(page.text) & secret


def test_a_screen_shows_its_evidence_only_to_those_who_may_screen(
    app_client: TestClient, ctx: Context
) -> None:
    """A screen is read by those who must judge it (the provider, the reviewers a request for
    the dataset is routed to) and by no one else; the masked samples of residents' names, IDs
    and phone numbers stay with those who may screen the dataset."""
    ds_id = dataset_id(ctx, "社会保险")
    with ctx.db.transaction() as session:
        screen_id = privacy.confirmed_screen(session, dataset_id=ds_id, version=1).id  # type: ignore[union-attr]
    for who in ("coop-manager", "ai-analyst"):
        got = app_client.get(f"/api/v1/screens/{screen_id}", headers=auth(ctx, who))
        assert got.status_code in (403, 404), (who, got.text)
    # The 网信 office reviews the demo's pending request for this dataset.
    body = app_client.get(f"/api/v1/screens/{screen_id}", headers=auth(ctx, "cac-inspector")).json()
    assert body["personal"] is True and body["findings"]["columns"]
    for column in body["findings"]["columns"]:
        for entity in column["entities"]:
            assert entity["samples"] == [] and entity["positions"] == [], column
    own = app_client.get(f"/api/v1/screens/{screen_id}", headers=auth(ctx, "bureau-admin")).json()
    assert any(e["samples"] for c in own["findings"]["columns"] for e in c["entities"])


def test_a_column_named_as_an_identifier_is_withheld_though_no_detector_knows_it(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    """Record numbers (客户编号, user_id) single people out by their range alone."""
    ds_id = dataset_id(ctx, "农产品")
    path = tmp_path / "ids.parquet"
    pq.write_table(
        pa.table(
            {
                "客户编号": list(range(100_001, 100_041)),
                "user_id": [f"u{i:04d}" for i in range(40)],
                "乡镇": ["城关镇"] * 40,
            }
        ),
        path,
    )
    number = versions.run_ingest(
        ctx, actor(ctx, "bureau-admin"), dataset_id=ds_id, source=path, filename="i.parquet"
    ).number
    analyst, reviewer = actor(ctx, "bureau-analyst"), actor(ctx, "bureau-reviewer")
    with ctx.db.transaction() as session:
        screen = privacy.screen_version(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=ds_id,
            number=number,
        )
        privacy.review(session, reviewer, screen_id=screen.id)
    body = app_client.get(f"/api/v1/datasets/{ds_id}/versions/{number}").json()
    columns = {c["name"]: c for c in body["columns"]}
    assert columns["客户编号"]["withheld"] and columns["客户编号"]["range"] is None
    assert columns["user_id"]["withheld"]
    assert columns["乡镇"]["top"] == [{"value": "城关镇", "count": 40}]


def test_a_screen_corrected_to_personal_without_saying_where_withholds_every_column(
    app_client: TestClient, ctx: Context
) -> None:
    ds_id = dataset_id(ctx, "用电量")
    analyst, reviewer = actor(ctx, "bureau-analyst"), actor(ctx, "bureau-reviewer")
    with ctx.db.transaction() as session:
        screen = privacy.screen_version(
            session, analyst, store=ctx.store, settings=ctx.settings, dataset_id=ds_id, number=1
        )
        privacy.review(
            session, reviewer, screen_id=screen.id, personal=True, note="个体工商户即个人"
        )
    body = app_client.get(
        f"/api/v1/datasets/{ds_id}/versions/1", headers=auth(ctx, "cac-inspector")
    ).json()
    assert all(c["withheld"] and c["range"] is None and c["top"] == [] for c in body["columns"])


def test_closed_data_shows_oversight_no_value_as_its_preview_says(ctx: Context) -> None:
    """不予开放: the preview tells the platform and the regulators that the data cannot be
    used; the profile says the same, with no value (no frequent value, no range)."""
    ds_id = dataset_id(ctx, "用电量")
    for who in ("platform-admin", "cac-inspector", "dsj-inspector"):
        viewer = actor(ctx, who)
        with ctx.db.transaction() as session:
            ds = session.get(Dataset, ds_id)
            assert ds is not None and ds.openness == "closed"
            version = versions.get_version(session, viewer, dataset_id=ds_id, number=None)
            shown = versions.shown_columns(session, viewer, ds=ds, version=version)
        assert shown and all(c.get("withheld") and not c.get("top") for c in shown), who
        assert not any("range" in c for c in shown), who
    owner = actor(ctx, "bureau-analyst")
    with ctx.db.transaction() as session:
        ds = session.get(Dataset, ds_id)
        version = versions.get_version(session, owner, dataset_id=ds_id, number=None)
        full = versions.shown_columns(session, owner, ds=ds, version=version)
    assert any(c.get("top") or c.get("range") for c in full)  # the provider sees it whole
