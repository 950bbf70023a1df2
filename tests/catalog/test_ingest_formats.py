"""Every supported format and encoding becomes one Parquet version with a schema and profile."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.catalog.helpers import ingest
from yaosu.context import Context

ROWS = [
    ("城关镇", "水稻", 12.5, 3),
    ("石桥镇", "茶叶", 0.75, 10),
    ("河西乡", "柑橘", 8.0, 7),
]
HEADER = ("乡镇", "产品", "销量", "批次")


def csv_text(sep: str = ",") -> str:
    lines = [sep.join(HEADER)] + [sep.join(str(v) for v in row) for row in ROWS]
    return "\n".join(lines) + "\n"


def stored(ctx: Context, sha256: str) -> pa.Table:
    return pq.read_table(ctx.store.path(sha256))


@pytest.mark.parametrize(
    ("encoding", "prefix", "label"),
    [
        ("utf-8", b"", "UTF-8"),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8"),
        ("gbk", b"", "GBK"),
        ("gb18030", b"", "GB18030"),
        ("utf-16", b"", "UTF-16"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "utf16"],
)
def test_csv_encodings_are_detected(
    ctx: Context, tmp_path: Path, encoding: str, prefix: bytes, label: str
) -> None:
    text = csv_text()
    if label == "GB18030":
        text += "白马镇,𠮷野家特产,1.5,2\n"  # 𠮷 needs GB18030's four-byte form: not GBK
    path = tmp_path / "sales.csv"
    path.write_bytes(prefix + text.encode(encoding))
    version = ingest(ctx, path)
    assert version.source_encoding == label
    table = stored(ctx, version.sha256)
    assert table.column_names == list(HEADER)
    assert table.column("乡镇").to_pylist()[:3] == ["城关镇", "石桥镇", "河西乡"]
    assert table.column("销量").type == pa.float64()
    assert table.column("批次").type == pa.int64()
    if label == "GB18030":
        assert table.column("产品").to_pylist()[-1] == "𠮷野家特产"


@pytest.mark.parametrize(
    ("sep", "name", "fmt"),
    [("\t", "s.tsv", "tsv"), (";", "s.csv", "csv"), ("|", "s.txt", "csv"), ("\t", "s.csv", "tsv")],
)
def test_delimiter_is_sniffed(ctx: Context, tmp_path: Path, sep: str, name: str, fmt: str) -> None:
    path = tmp_path / name
    path.write_text(csv_text(sep), encoding="utf-8")
    version = ingest(ctx, path)
    assert version.source_delimiter == sep
    assert version.source_format == fmt
    assert stored(ctx, version.sha256).num_rows == 3


def test_gbk_after_a_long_ascii_start_is_still_detected(ctx: Context, tmp_path: Path) -> None:
    """The first megabyte says nothing about the encoding when it is pure ASCII."""
    lines = ["id,name"] + [f"{i},farm{i}" for i in range(120_000)] + ["120000,农产品合作社"]
    path = tmp_path / "late.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    assert path.stat().st_size > 1024 * 1024
    version = ingest(ctx, path)
    assert version.source_encoding == "GBK"
    assert stored(ctx, version.sha256).column("name").to_pylist()[-1] == "农产品合作社"


def test_identifier_like_numbers_stay_text(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(
        "身份证号,邮编,数量\n110101199003074518,010000,5\n330102198501011238,310000,6\n",
        encoding="utf-8",
    )
    table = stored(ctx, ingest(ctx, path).sha256)
    assert table.column("身份证号").to_pylist() == ["110101199003074518", "330102198501011238"]
    assert table.column("邮编").to_pylist() == ["010000", "310000"]
    assert table.column("数量").type == pa.int64()


def test_a_late_value_widens_the_column_instead_of_failing(ctx: Context, tmp_path: Path) -> None:
    rows = [f"{i},{i * 2}" for i in range(400_000)] + ["待定,1"]
    path = tmp_path / "late_text.csv"
    path.write_text("编号,值\n" + "\n".join(rows) + "\n", encoding="utf-8")
    version = ingest(ctx, path)
    table = stored(ctx, version.sha256)
    assert table.num_rows == 400_001
    assert table.column("编号").type == pa.string()
    assert table.column("编号").to_pylist()[-1] == "待定"
    assert table.column("值").type == pa.int64()


def test_quoted_fields_with_delimiters_and_newlines(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('名称,备注\n"张三,李四","第一行\n第二行"\n王五,无\n', encoding="utf-8")
    table = stored(ctx, ingest(ctx, path).sha256)
    assert table.column("名称").to_pylist() == ["张三,李四", "王五"]
    assert table.column("备注").to_pylist() == ["第一行\n第二行", "无"]


def test_xlsx_first_and_named_sheet(ctx: Context, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "汇总"
    first.append(list(HEADER))
    for row in ROWS:
        first.append(list(row))
    other = wb.create_sheet("明细")
    other.append(["日期", "金额"])
    other.append(["2024-01-01", 10.5])
    other.append(["2024-01-02", 20])
    path = tmp_path / "book.xlsx"
    wb.save(path)

    version = ingest(ctx, path)
    table = stored(ctx, version.sha256)
    assert version.source_format == "xlsx"
    assert table.column_names == list(HEADER)
    assert table.column("批次").type == pa.int64()
    assert table.column("销量").to_pylist() == [12.5, 0.75, 8.0]

    named = stored(ctx, ingest(ctx, path, sheet="明细").sha256)
    assert named.column_names == ["日期", "金额"]
    assert named.column("金额").to_pylist() == [10.5, 20.0]


def test_json_array_and_ndjson(ctx: Context, tmp_path: Path) -> None:
    records = [dict(zip(HEADER, row, strict=True)) for row in ROWS]
    array = tmp_path / "rows.json"
    array.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    ndjson = tmp_path / "rows.ndjson"
    ndjson.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    for path, fmt in ((array, "json"), (ndjson, "ndjson")):
        version = ingest(ctx, path)
        assert version.source_format == fmt
        table = stored(ctx, version.sha256)
        assert table.column_names == list(HEADER)
        assert table.column("产品").to_pylist() == ["水稻", "茶叶", "柑橘"]


def test_parquet_is_read_and_rewritten(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"乡镇": ["城关镇", "石桥镇"], "人口": [1200, 3400]}), path)
    version = ingest(ctx, path)
    assert version.source_format == "parquet"
    assert stored(ctx, version.sha256).column("人口").to_pylist() == [1200, 3400]


def test_no_extension_is_judged_by_content(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "export"
    path.write_text(csv_text(), encoding="utf-8")
    assert ingest(ctx, path).source_format == "csv"


def test_version_is_content_addressed_immutable_and_stored_once(
    ctx: Context, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(csv_text(), encoding="utf-8")
    first = ingest(ctx, path)
    second = ingest(ctx, path)
    assert first.sha256 == second.sha256
    assert ctx.store.path(first.sha256).exists()
    assert len([p for p in ctx.store.objects.rglob(f"{first.sha256}*")]) == 1
    import hashlib

    assert hashlib.sha256(ctx.store.path(first.sha256).read_bytes()).hexdigest() == first.sha256
    assert hashlib.sha256(path.read_bytes()).hexdigest() == first.source_sha256
    assert list(ctx.store.tmp.iterdir()) == []


def test_profile_has_types_nulls_distinct_ranges_and_safe_top_values(
    ctx: Context, tmp_path: Path
) -> None:
    lines = ["乡镇,销量,姓名,日期"]
    for i in range(200):
        town = "城关镇" if i % 2 else "石桥镇"
        qty = "" if i % 10 == 0 else str(i)
        lines.append(f"{town},{qty},用户{i},2024-01-{i % 28 + 1:02d}")
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    version = ingest(ctx, path)
    cols = {c["name"]: c for c in version.columns}
    assert cols["销量"]["kind"] == "integer"
    assert cols["销量"]["nulls"] == 20
    assert cols["销量"]["range"] == {"min": 1, "max": 199}
    assert cols["乡镇"]["distinct_estimate"] == 2
    assert {t["value"] for t in cols["乡镇"]["top"]} == {"城关镇", "石桥镇"}
    assert cols["日期"]["kind"] in ("date", "timestamp")
    # A value held by fewer than 10 rows never appears in metadata; text shows lengths, not values.
    assert cols["姓名"]["top"] == []
    assert "range" not in cols["姓名"] and cols["姓名"]["length"] == {"min": 3, "max": 5}


def test_a_late_decimal_widens_integers_to_doubles(ctx: Context, tmp_path: Path) -> None:
    rows = [f"{i},{i}" for i in range(400_000)] + ["400000,2.5"]
    path = tmp_path / "late_decimal.csv"
    path.write_text("编号,重量\n" + "\n".join(rows) + "\n", encoding="utf-8")
    table = stored(ctx, ingest(ctx, path).sha256)
    assert table.column("重量").type == pa.float64()
    assert table.column("重量").to_pylist()[-2:] == [399999.0, 2.5]
    assert table.column("编号").type == pa.int64()
