"""Bad input gets a specific error in Chinese and English, and nothing partial is stored."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.catalog.helpers import ingest, snapshot
from yaosu.catalog.ingest import errors
from yaosu.context import Context
from yaosu.kernel.errors import YaosuError
from yaosu.kernel.i18n import _


def write(data: bytes | str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    return make


def xlsx_with_header(header: list[object]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        wb = openpyxl.Workbook()
        wb.active.append(header)
        wb.active.append([1] * len(header))
        wb.save(path)

    return make


def zip_bomb(path: Path) -> None:
    """A valid-looking XLSX whose sheet inflates to 300 MB of zeros (about 300 KB zipped)."""
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.active.append([1])
    wb.save(buf)
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        with dst.open("xl/media/padding.bin", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                fh.write(chunk)


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(6).randbytes(64 * 1024))


def zip_file(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "a,b\n1,2\n")


def truncated_parquet(path: Path) -> None:
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(10000))}), sink)
    path.write_bytes(sink.getvalue()[: len(sink.getvalue()) // 2])


CASES: list[tuple[str, str, Callable[[Path], None], type[YaosuError], dict[str, object]]] = [
    ("empty", "e.csv", write(b""), errors.EmptyFile, {}),
    ("whitespace", "e.csv", write(b"\n\n  \n"), errors.EmptyFile, {}),
    ("header only", "h.csv", write("乡镇,产品\n"), errors.NoDataRows, {}),
    (
        "ragged",
        "r.csv",
        write("a,b,c\n1,2,3\n4,5\n6,7,8\n"),
        errors.RaggedRows,
        {"line": 3, "expected": 3, "got": 2},
    ),
    (
        "too many fields",
        "r.csv",
        write("a,b\n1,2\n3,4\n5,6,7\n"),
        errors.RaggedRows,
        {"line": 4, "expected": 2, "got": 3},
    ),
    (
        "duplicate names",
        "d.csv",
        write("乡镇,产品,乡镇\n1,2,3\n"),
        errors.DuplicateColumns,
        {"names": "乡镇"},
    ),
    ("empty name", "n.csv", write("乡镇,,产品\n1,2,3\n"), errors.EmptyColumnName, {"position": 2}),
    (
        "blank name",
        "n.csv",
        write("乡镇,  ,产品\n1,2,3\n"),
        errors.EmptyColumnName,
        {"position": 2},
    ),
    (
        "undetectable encoding",
        "u.csv",
        write(b"a,b\n\xff\xfe\xfa\xfb,\x80\x81\x82\n"),
        errors.UndetectableEncoding,
        {},
    ),
    (
        "binary named csv",
        "b.csv",
        write(b"\x00\x01\x02\x03" * 100),
        errors.NotText,
        {"extension": ".csv", "offset": 0},
    ),
    (
        "nul byte in text",
        "n.csv",
        write(b"a,b\n1,2\n3,\x004\n"),
        errors.NotText,
        {"extension": ".csv", "offset": 10},
    ),
    ("random bytes named csv", "r.csv", random_bytes, errors.NotText, {"extension": ".csv"}),
    ("zip named csv", "z.csv", zip_file, errors.FormatMismatch, {"extension": ".csv"}),
    (
        "legacy xls named csv",
        "old.csv",
        write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
        errors.FormatMismatch,
        {"extension": ".csv"},
    ),
    ("json number", "n.json", write("42"), errors.JsonNotRecords, {"kind": _("number")}),
    ("json string", "s.json", write('"城关镇"'), errors.JsonNotRecords, {"kind": _("string")}),
    ("json boolean", "b.json", write("true\n"), errors.JsonNotRecords, {"kind": _("boolean")}),
    ("json null", "z.json", write(" null"), errors.JsonNotRecords, {"kind": _("null")}),
    ("ndjson scalars", "s.ndjson", write("1\n2\n"), errors.JsonNotRecords, {"kind": _("number")}),
    (
        "header line over the limit",
        "long.csv",
        write("a" * (3 << 20)),  # one 3 MiB line, no line break; the limit here is 1 MiB
        errors.LineTooLong,
        {"line": 1, "limit_mb": 1.0},
    ),
    (
        "first row over the limit",
        "long.csv",
        write("a,b\n1," + "x" * (3 << 20) + "\n2,3\n"),
        errors.LineTooLong,
        {"line": 2, "limit_mb": 1.0},
    ),
    (
        "later row over the limit",
        "long.csv",
        write("a,b\n" + "1,2\n" * 600_000 + "1," + "x" * (3 << 20) + "\n2,3\n"),
        errors.LineTooLong,
        {"limit_mb": 1.0},
    ),
    (
        "unsupported extension",
        "x.docx",
        write("a,b\n1,2\n"),
        errors.UnsupportedFormat,
        {"extension": ".docx"},
    ),
    (
        "csv named parquet",
        "lie.parquet",
        write("a,b\n1,2\n"),
        errors.FormatMismatch,
        {"extension": ".parquet"},
    ),
    (
        "json named csv",
        "lie.csv",
        write('[{"a": 1}]'),
        errors.FormatMismatch,
        {"extension": ".csv"},
    ),
    (
        "xlsx named csv",
        "lie.csv",
        xlsx_with_header(["a"]),
        errors.FormatMismatch,
        {"extension": ".csv"},
    ),
    (
        "legacy xls",
        "old.xls",
        write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
        errors.UnsupportedFormat,
        {},
    ),
    (
        "truncated parquet",
        "t.parquet",
        truncated_parquet,
        errors.CorruptFile,
        {"format": "Parquet"},
    ),
    ("broken xlsx", "broken.xlsx", write(b"PK\x03\x04" + b"garbage" * 50), errors.CorruptFile, {}),
    ("xlsx duplicate", "d.xlsx", xlsx_with_header(["a", "a"]), errors.DuplicateColumns, {}),
    (
        "xlsx empty name",
        "d.xlsx",
        xlsx_with_header(["a", None, "c"]),
        errors.EmptyColumnName,
        {"position": 2},
    ),
    ("zip bomb", "bomb.xlsx", zip_bomb, errors.ZipBomb, {}),
    (
        "malformed json",
        "m.json",
        write('[{"a": 1}, {"a": '),
        errors.MalformedFile,
        {"format": "JSON"},
    ),
    ("empty json array", "m.json", write("[]"), errors.NoDataRows, {}),
]


@pytest.mark.parametrize(
    ("case", "filename", "make", "error", "detail"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_and_nothing_is_stored(
    ctx: Context,
    tmp_path: Path,
    case: str,
    filename: str,
    make: Callable[[Path], None],
    error: type[YaosuError],
    detail: dict[str, object],
) -> None:
    path = tmp_path / filename
    make(path)
    before = snapshot(ctx)
    ctx.settings.ingest_block_bytes = 1 << 20  # rows longer than this are refused
    with pytest.raises(error) as caught:
        ingest(ctx, path, filename)
    assert type(caught.value) is error
    for key, value in detail.items():
        assert caught.value.detail[key] == value, (key, caught.value.detail)
    zh, en = caught.value.message("zh-CN"), caught.value.message("en")
    assert zh != en and "{" not in zh and "{" not in en
    assert 400 <= caught.value.status < 500
    versions, objects, tmp = snapshot(ctx)
    assert versions == before[0] and objects == before[1] and tmp == []


def test_missing_sheet_names_the_sheets(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    xlsx_with_header(["a"])(path)
    with pytest.raises(errors.SheetNotFound) as caught:
        ingest(ctx, path, sheet="不存在")
    assert "Sheet" in caught.value.message("zh-CN")


def test_file_over_the_limit(ctx: Context, tmp_path: Path) -> None:
    ctx.settings.max_upload_bytes = 1000
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,2\n" * 1000, encoding="utf-8")
    with pytest.raises(errors.FileTooLarge) as caught:
        ingest(ctx, path)
    assert caught.value.status == 413
    assert snapshot(ctx)[2] == []


def test_encoding_that_changes_midway(ctx: Context, tmp_path: Path) -> None:
    """UTF-8 for the first megabytes, then a GBK line: an error, not mojibake."""
    head = "名称,值\n" + "".join(f"农产品{i},{i}\n" for i in range(200_000))
    path = tmp_path / "mixed.csv"
    path.write_bytes(head.encode("utf-8") + "合作社,1\n".encode("gbk"))
    before = snapshot(ctx)
    with pytest.raises(errors.EncodingError):
        ingest(ctx, path)
    assert snapshot(ctx)[:2] == before[:2]


def test_a_format_error_names_the_detected_format_in_the_readers_language(
    tmp_path: Path,
) -> None:
    """The detected format is a label: the English message used to embed the Chinese name
    ("its content is ZIP 压缩包")."""
    from yaosu.catalog.ingest.sniff import sniff

    path = tmp_path / "z.csv"
    zip_file(path)
    with pytest.raises(errors.FormatMismatch) as caught:
        sniff(path, "z.csv")
    assert "ZIP 压缩包" in caught.value.message("zh-CN")
    english = caught.value.message("en")
    assert "ZIP archive" in english and not any("\u4e00" <= c <= "\u9fff" for c in english)
