"""Screening whole tables: the demo datasets, free text with positions, and bad input."""

from __future__ import annotations

import time

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from tests.conftest import dataset_id
from yaosu.catalog.models import DatasetVersion
from yaosu.context import Context
from yaosu.privacy.scan import mask, scan_table


def demo_table(ctx: Context, title: str) -> pa.Table:
    with ctx.db.transaction() as session:
        version = session.scalar(
            select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id(ctx, title))
        )
        assert version is not None
        return pq.read_table(ctx.store.path(version.sha256))


def entities(screen: object) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for column in screen.columns:  # type: ignore[attr-defined]
        out[column.column] = {e.entity: e.share for e in column.entities}
    return out


def test_the_insured_residents_are_personal_and_sensitive(ctx: Context) -> None:
    screen = scan_table(demo_table(ctx, "参保人员"))
    found = entities(screen)
    assert found["身份证号"] == {"CN_RESIDENT_ID": 1.0}
    assert found["手机号"] == {"CN_MOBILE": 1.0}
    assert found["姓名"] == {"CN_PERSON_NAME": 1.0}
    assert found["出生日期"] == {"DATE_OF_BIRTH": 1.0}
    assert 0.05 < found["备注"]["CN_PERSON_NAME"] < 0.4  # 联系人某某 in the notes
    assert screen.personal and screen.sensitive_categories == ["identity_document"]
    evidence = screen.as_dict()["columns"][1]["entities"][0]["samples"]
    assert all("*" in s and len(s) == 18 for s in evidence)


def test_farm_sales_hold_no_personal_information(ctx: Context) -> None:
    screen = scan_table(demo_table(ctx, "农产品"))
    assert not screen.personal and all(not c.entities for c in screen.columns)


def test_company_codes_are_reported_but_not_personal(ctx: Context) -> None:
    screen = scan_table(demo_table(ctx, "用电量"))
    assert entities(screen)["统一社会信用代码"] == {"CN_USCC": 1.0}
    assert not screen.personal


def test_free_text_findings_carry_positions() -> None:
    notes = [
        "客户张伟来电，要求更正手机号为13812345678，身份证号330102199701200431。",
        "无",
        None,
        "回访地址：江州市城关镇人民路18号，邮箱 zhang.wei@example.com",
    ] * 5
    screen = scan_table(pa.table({"备注": notes}))
    column = screen.columns[0]
    assert column.free_text
    by_entity = {e.entity: e for e in column.entities}
    assert {"CN_MOBILE", "CN_RESIDENT_ID", "CN_PERSON_NAME", "EMAIL_ADDRESS", "CN_ADDRESS"} <= set(
        by_entity
    )
    row, start, end = by_entity["CN_MOBILE"].positions[0]
    assert notes[row][start:end] == "13812345678"
    row, start, end = by_entity["CN_PERSON_NAME"].positions[0]
    assert notes[row][start:end] == "张伟"


def test_identifiers_stored_as_integers_are_found() -> None:
    screen = scan_table(
        pa.table({"联系电话": pa.array([13812345678, 13912345678, None], pa.int64())})
    )
    assert entities(screen)["联系电话"] == {"CN_MOBILE": round(2 / 3, 6)}


def test_bad_input_gives_a_result_not_a_crash_or_a_hang() -> None:
    big = "a" * (1024 * 1024 - 40) + " 13812345678 " + "b" * 20
    table = pa.table(
        {
            "mixed": pa.array(["13812345678", "12", "", None, "x" * 10]),
            "blob": pa.array([b"\x00\x01", None, b"13812345678", b"", b"z"], pa.binary()),
            "cell": pa.array([big, None, "", "ok", "13912345678"]),
            "nulls": pa.array([None] * 5, pa.string()),
            "numbers": pa.array([1.5, 2.5, None, 4.0, 5.0]),
        }
    )
    started = time.monotonic()
    screen = scan_table(table)
    assert time.monotonic() - started < 30
    found = entities(screen)
    assert found["mixed"] == {"CN_MOBILE": 0.2}
    assert found["blob"] == {} and found["nulls"] == {} and found["numbers"] == {}
    assert found["cell"] == {"CN_MOBILE": 0.2}  # the 1 MB cell is cut at 100,000 characters


def test_ten_thousand_columns() -> None:
    table = pa.table(
        {f"c{i}": pa.array(["x", None, "13812345678" if i == 9999 else "y"]) for i in range(10_000)}
    )
    started = time.monotonic()
    screen = scan_table(table)
    assert time.monotonic() - started < 300
    assert [c.column for c in screen.columns if c.entities] == ["c9999"]


def test_mask() -> None:
    assert mask("13812345678") == "138******78"
    assert mask("李") == "李*"
