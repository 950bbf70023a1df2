"""Identifier-like columns (phone numbers, resident IDs, card numbers, postal codes) are stored
as text, exactly as the file spells them, whatever the format and whatever the header says."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from tests.catalog.helpers import ingest
from yaosu.context import Context
from yaosu.demo.world import mobile, resident_id

RNG = random.Random(11643)
MOBILES = [mobile(RNG) for _ in range(6)]
IDS_18 = [
    resident_id(RNG, date(1950, 1, 1) + timedelta(days=RNG.randrange(0, 20000)), i % 2 == 0)
    for i in range(6)
]
# The old 15-digit form: province, a 19xx birth date without the century, no check digit.
IDS_15 = [i[:6] + i[8:17] for i in IDS_18]
POSTCODES = ["010000", "310000", "100000", "065000", "518000", "200000"]


def stored(ctx: Context, sha256: str) -> pa.Table:
    return pq.read_table(ctx.store.path(sha256))


def test_csv_identifiers_stay_text_by_header_and_by_detector(ctx: Context, tmp_path: Path) -> None:
    header = [
        "手机号",
        "邮编",
        "备用字段",
        "其他号码",
        "国际号码",
        "数量",
        "电话费(元)",
        "mobileNo",
    ]
    rows = [
        [
            MOBILES[i],
            POSTCODES[i],
            IDS_15[i],  # neutral header, 15 digits: only the detector knows
            MOBILES[i],  # neutral header, 11 digits: only the detector knows
            "+86" + MOBILES[i],
            str(i + 5),
            str(30 + i),
            MOBILES[i],
        ]
        for i in range(6)
    ]
    path = tmp_path / "ids.csv"
    path.write_text(
        "\n".join(",".join(r) for r in [header, *rows]) + "\n",
        encoding="utf-8",
    )
    table = stored(ctx, ingest(ctx, path).sha256)
    for name in header[:5] + header[7:]:
        column = table.column(name)
        assert column.type == pa.string(), name
        assert column.to_pylist() == [r[header.index(name)] for r in rows], name
    # Quantities keep their number types, even beside a phone-ish word.
    assert table.column("数量").type == pa.int64()
    assert table.column("电话费(元)").type == pa.int64()


def test_english_and_chinese_headers(ctx: Context, tmp_path: Path) -> None:
    names = ["phone", "Mobile", "id_no", "zip", "postal_code", "身份证号", "证件号码", "银行卡号"]
    names += ["邮政编码", "电话", "批次"]
    path = tmp_path / "headers.csv"
    values = ["100000", "200000", "300000"]
    path.write_text(
        ",".join(names) + "\n" + "\n".join(",".join([v] * len(names)) for v in values) + "\n",
        encoding="utf-8",
    )
    table = stored(ctx, ingest(ctx, path).sha256)
    for name in names[:-1]:
        assert table.column(name).to_pylist() == values, name
    assert table.column("批次").type == pa.int64()


def test_xlsx_numbers_that_are_codes_become_their_text(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "ids.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["手机号", "联络", "邮编", "数量"])
    for i in range(6):
        wb.active.append([int(MOBILES[i]), int(MOBILES[i]), int(POSTCODES[i]), i])
    wb.save(path)
    table = stored(ctx, ingest(ctx, path).sha256)
    assert table.column("手机号").to_pylist() == MOBILES
    assert table.column("联络").to_pylist() == MOBILES  # by the detectors
    assert table.column("邮编").to_pylist() == [str(int(p)) for p in POSTCODES]
    assert table.column("数量").type == pa.int64()


def test_json_numbers_that_are_codes_become_their_text(ctx: Context, tmp_path: Path) -> None:
    records = [
        {"手机号": int(MOBILES[i]), "联络": int(MOBILES[i]), "证件": int(IDS_15[i]), "数量": i}
        for i in range(6)
    ]
    for name, text in (
        ("ids.json", json.dumps(records, ensure_ascii=False)),
        ("ids.ndjson", "\n".join(json.dumps(r, ensure_ascii=False) for r in records)),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        table = stored(ctx, ingest(ctx, path).sha256)
        assert table.column("手机号").to_pylist() == MOBILES
        assert table.column("联络").to_pylist() == MOBILES
        assert table.column("证件").to_pylist() == IDS_15
        assert table.column("数量").type == pa.int64()
