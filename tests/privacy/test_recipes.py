"""Recipes from a screen: free text keeps what is not personal (spans masked, 低保户 kept),
k-anonymity is proposed on the quasi-identifiers the screen found, and a reviewer corrects
the screen column by column in one audited decision."""

from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import actor, auth, dataset_id
from yaosu.audit.models import AuditEntry
from yaosu.context import Context
from yaosu.kernel.errors import InvalidInput
from yaosu.privacy import detectors
from yaosu.privacy import service as privacy
from yaosu.privacy.deidentify import Recipe, apply, suggest
from yaosu.privacy.scan import scan_table

KEY = b"k" * 32
NAMES = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨帆", "赵敏", "黄磊"]


def remarks(rows: int, seed: int = 7) -> list[str | None]:
    """A 备注 column as a social-insurance office writes it: mostly statuses, some contacts
    (a name, a mobile number inside the text)."""
    rng = random.Random(seed)
    out: list[str | None] = []
    for i in range(rows):
        roll = rng.random()
        if roll < 0.4:
            out.append(None)
        elif roll < 0.6:
            out.append("低保户代缴")
        elif roll < 0.7:
            out.append("已迁出")
        elif roll < 0.85:
            out.append(f"联系人{rng.choice(NAMES)}")
        else:
            out.append(f"低保户，家属电话13{rng.randrange(5, 9)}{i:08d}，每年3月复核")
    return out


def run(doc: dict, table: pa.Table):  # type: ignore[no-untyped-def]
    return apply(table, Recipe.parse(doc, table.column_names), key=KEY)


SPANS = {"op": "mask_spans", "entities": ["CN_PERSON_NAME", "CN_MOBILE"]}


def test_mask_spans_masks_the_spans_found_and_keeps_the_rest_of_the_text() -> None:
    column = remarks(400)
    table = pa.table({"备注": column, "编号": list(range(400))})
    out = run({"columns": {"备注": SPANS}}, table).table.column("备注").to_pylist()
    for before, after in zip(column, out, strict=True):
        if before is None:
            assert after is None
        elif before in ("低保户代缴", "已迁出"):
            assert after == before  # nothing personal in it: untouched
        elif before.startswith("联系人"):
            assert after == "联系人**"  # the name is masked, its context kept
        else:
            # 低保户 and the rest of the sentence survive; the mobile number does not
            assert after.startswith("低保户，家属电话") and after.endswith("，每年3月复核")
            assert after == "低保户，家属电话" + "*" * 11 + "，每年3月复核"
    assert out.count("低保户代缴") == column.count("低保户代缴") > 0


def test_mask_spans_masks_what_the_screen_found_in_the_same_column() -> None:
    table = pa.table({"备注": remarks(300)})
    found = scan_table(table).columns[0]
    entities = sorted(e.entity for e in found.entities if e.personal)
    assert entities == ["CN_MOBILE", "CN_PERSON_NAME"]
    out = run({"columns": {"备注": {"op": "mask_spans", "entities": entities}}}, table).table
    assert not scan_table(out).personal  # what the screen found is gone, nothing else was


def test_mask_spans_reaches_python_once_per_distinct_candidate_not_per_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20,000 rows, a dozen distinct texts: the detectors' precise patterns run on the
    distinct values their Arrow prefilters picked, never on each row."""
    base = ["低保户代缴", "已迁出", None, "联系人张伟", "联系人李娜", "低保户，电话13812345678"]
    table = pa.table({"备注": (base * 4000)[:20_000]})
    calls: list[str] = []
    real = detectors.Detector.find

    def counted(self: detectors.Detector, text: str, *, in_context: bool = False):  # type: ignore[no-untyped-def]
        calls.append(text)
        return real(self, text, in_context=in_context)

    monkeypatch.setattr(detectors.Detector, "find", counted)
    out = run({"columns": {"备注": SPANS}}, table).table.column("备注").to_pylist()
    assert out[:6] == [
        "低保户代缴",
        "已迁出",
        None,
        "联系人**",
        "联系人**",
        "低保户，电话***********",
    ]
    # two detectors, each at most once per distinct candidate (five texts are not null)
    assert 0 < len(calls) <= 2 * 5 and max(Counter(calls).values()) <= 2, calls


def test_mask_spans_needs_known_entities() -> None:
    table = pa.table({"备注": ["x"]})
    for step in ({"op": "mask_spans"}, {"op": "mask_spans", "entities": ["NOT_A_THING"]}):
        with pytest.raises(InvalidInput) as caught:
            Recipe.parse({"columns": {"备注": step}}, table.column_names)
        assert "entities" in caught.value.message("zh-CN")


def test_year_bands_cut_birth_dates_to_decades() -> None:
    import datetime as dt

    table = pa.table(
        {
            "出生日期": pa.array([dt.date(1957, 3, 1), dt.date(1960, 1, 1), None]),
            "出生年月": ["1984-07", "x", None],
        }
    )
    step = {"op": "generalise", "to": "year_band", "width": 10}
    out = run({"columns": {"出生日期": step, "出生年月": step}}, table).table.to_pylist()
    assert [r["出生日期"] for r in out] == ["1950-1959", "1960-1969", None]
    assert [r["出生年月"] for r in out] == ["1980-1989", None, None]


def test_the_suggestion_masks_spans_and_proposes_k_on_the_quasi_identifiers(
    ctx: Context,
) -> None:
    residents = dataset_id(ctx, "参保人员")
    analyst = actor(ctx, "bureau-analyst")
    with ctx.db.transaction() as session:
        privacy.screen_version(
            session, analyst, store=ctx.store, settings=ctx.settings, dataset_id=residents
        )
        doc = privacy.suggested_recipe(session, analyst, dataset_id=residents, number=1, k=5)
        without_k = privacy.suggested_recipe(session, analyst, dataset_id=residents, number=1)
    # the remarks name contacts inside text: those spans, not the whole column
    assert doc["columns"]["备注"] == {"op": "mask_spans", "entities": ["CN_PERSON_NAME"]}
    assert doc["k_anonymity"] == {"quasi_identifiers": ["性别", "出生日期", "所属乡镇"], "k": 5}
    # birth dates to decades and resident IDs dropped, so groups of five exist at all
    assert doc["columns"]["出生日期"] == {"op": "generalise", "to": "year_band", "width": 10}
    assert doc["columns"]["身份证号"] == {"op": "drop"}
    assert "k_anonymity" not in without_k
    assert without_k["columns"]["身份证号"] == {"op": "generalise", "to": "region_birth_year"}
    made, screen = privacy.run_deidentify(
        ctx, analyst, dataset_id=residents, number=1, recipe_doc=doc
    )
    assert made.k_reached is not None and made.k_reached >= 5
    assert made.suppressed < 100  # decades, sex and township: few groups are below five
    with ctx.db.transaction() as session:
        version = privacy.derivation_report(session, analyst, derivation_id=made.id)["result"]
        path = ctx.store.path(version.sha256)
    import pyarrow.parquet as pq

    notes = [n for n in pq.read_table(path).column("备注").to_pylist() if n]
    contacts = [n for n in notes if n.startswith("联系人")]
    assert "低保户代缴" in notes and "已迁出" in notes and contacts
    assert all(set(n[3:]) == {"*"} for n in contacts)  # the names, and only they, masked
    found = {c["column"] for c in screen.findings["columns"]}
    assert "备注" not in found  # the re-screen finds no name left in the remarks


def test_no_k_is_proposed_without_personal_information(ctx: Context) -> None:
    farm = dataset_id(ctx, "农产品")  # 乡镇 and 村 are quasi-identifier headers
    with ctx.db.transaction() as session:
        doc = privacy.suggested_recipe(
            session, actor(ctx, "bureau-analyst"), dataset_id=farm, number=1, k=5
        )
    assert doc == {"columns": {}}


def test_a_column_whose_values_are_whole_names_is_not_span_masked() -> None:
    table = pa.table({"姓名": NAMES * 10, "备注": (["联系人张伟", "低保户代缴"] * 40)})
    findings = scan_table(table).as_dict()
    doc = suggest(findings)
    assert doc["columns"]["姓名"] == {"op": "pseudonymise"}
    assert doc["columns"]["备注"]["op"] == "mask_spans"


def _fresh_screen(ctx: Context, dataset: str) -> str:
    with ctx.db.transaction() as session:
        return privacy.screen_version(
            session,
            actor(ctx, "bureau-analyst"),
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=dataset,
        ).id


def _reviews(ctx: Context) -> list[AuditEntry]:
    with ctx.db.transaction() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.review"))
        )


def test_a_reviewer_corrects_columns_one_by_one_in_one_audited_decision(ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    screen_id = _fresh_screen(ctx, residents)
    reviewer = actor(ctx, "bureau-reviewer")
    before = len(_reviews(ctx))
    with ctx.db.transaction() as session:
        with pytest.raises(InvalidInput):  # a correction needs its reason
            privacy.review(session, reviewer, screen_id=screen_id, columns={"备注": "no"})
        with pytest.raises(InvalidInput) as unknown:
            privacy.review(session, reviewer, screen_id=screen_id, columns={"性别": "no"}, note="x")
        assert "性别" in unknown.value.message("zh-CN")
        with pytest.raises(InvalidInput):
            privacy.review(
                session, reviewer, screen_id=screen_id, columns={"备注": "secret"}, note="x"
            )
    with ctx.db.transaction() as session:
        done = privacy.review(
            session,
            reviewer,
            screen_id=screen_id,
            columns={
                "备注": "specific_identity",  # 低保户 is a specific identity
                "出生日期": "no",  # say the reviewer disagrees
                "手机号": "personal",  # as found: a confirmation, not a correction
            },
            note="备注含低保户；出生日期另行处理",
        )
        assert done.status == "confirmed" and done.personal is True
        assert "specific_identity" in done.sensitive and "identity_document" in done.sensitive
        columns = {c["column"]: c for c in done.findings["columns"]}
    remark = columns["备注"]["entities"][0]
    assert remark["sensitive"] == "specific_identity" and remark["personal"] is True
    assert remark["proposed"] == {"personal": True, "sensitive": None}
    assert columns["出生日期"]["entities"][0]["personal"] is False
    assert columns["手机号"]["entities"][0]["personal"] is True
    assert "proposed" not in columns["手机号"]["entities"][0]
    entries = _reviews(ctx)
    assert len(entries) == before + 1  # the refused attempts wrote nothing
    detail = entries[-1].detail
    assert "columns" in detail["corrected"]
    assert detail["columns"] == [
        {
            "column": "出生日期",
            "from": {"personal": True, "sensitive": None},
            "to": {"personal": False, "sensitive": None},
        },
        {
            "column": "备注",
            "from": {"personal": True, "sensitive": None},
            "to": {"personal": True, "sensitive": "specific_identity"},
        },
    ]
    # the next recipe reads the corrected screen: 出生日期 is no longer treated as personal
    with ctx.db.transaction() as session:
        doc = privacy.suggested_recipe(
            session, reviewer, dataset_id=residents, number=1, k=ctx.settings.anon_k
        )
    assert "出生日期" not in doc["columns"] and "备注" in doc["columns"]


def test_clearing_every_column_makes_the_screen_not_personal(
    app_client: TestClient, ctx: Context
) -> None:
    farm = dataset_id(ctx, "农产品")
    residents = dataset_id(ctx, "参保人员")
    screen_id = _fresh_screen(ctx, residents)
    with ctx.db.transaction() as session:
        screen = privacy.get_screen(session, actor(ctx, "bureau-analyst"), screen_id=screen_id)
        names = [c["column"] for c in screen.findings["columns"]]
    body = {"columns": dict.fromkeys(names, "no"), "note": "测试：全部为合成数据"}
    made = app_client.post(
        f"/api/v1/screens/{screen_id}/review", json=body, headers=auth(ctx, "bureau-reviewer")
    )
    assert made.status_code == 200, made.text
    assert made.json()["personal"] is False and made.json()["sensitive"] == []
    bad = app_client.post(
        f"/api/v1/screens/{_fresh_screen(ctx, farm)}/review",
        json={"columns": {"乡镇": "no"}, "note": "x"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert bad.status_code == 422 and "乡镇" in bad.json()["error"]["message"]
