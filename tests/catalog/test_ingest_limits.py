"""Wide files, long lines and odd names: refused early with the right error, or read right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.catalog.helpers import ingest, new_dataset, snapshot
from tests.conftest import auth
from yaosu.catalog import profile as profiling
from yaosu.catalog.ingest import errors, ingest_connection
from yaosu.context import Context


def wide_csv(path: Path, columns: int, rows: int = 3) -> Path:
    header = ",".join(f"c{i}" for i in range(columns))
    body = "".join(
        ",".join(str(r * columns + i) for i in range(columns)) + "\n" for r in range(rows)
    )
    path.write_text(header + "\n" + body, encoding="utf-8")
    return path


def test_a_wide_file_under_the_cap_is_profiled_in_batches(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every column is profiled, but no query aggregates more than a batch of columns."""
    sent: list[str] = []

    class Recording:
        def __init__(self, con: Any) -> None:
            self.con = con

        def __getattr__(self, name: str) -> Any:
            return getattr(self.con, name)

        def execute(self, query: str, *args: Any) -> Any:
            sent.append(query)
            return self.con.execute(query, *args)

    real = ingest_connection
    monkeypatch.setattr(
        "yaosu.catalog.ingest.ingest_connection", lambda *a: _Closing(Recording(real(*a)))
    )
    version = ingest(ctx, wide_csv(tmp_path / "wide.csv", 1500))
    assert len(version.columns) == 1500
    last = version.columns[-1]
    assert last["name"] == "c1499" and last["kind"] == "integer"
    assert last["range"] == {"min": 1499, "max": 2 * 1500 + 1499} and last["nulls"] == 0
    per_query = [q.count("APPROX_COUNT_DISTINCT") for q in sent]
    assert sum(per_query) == 1500
    assert max(per_query) <= profiling.BATCH_COLUMNS


class _Closing:
    """A context manager around the recording connection, as ``convert`` uses it."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def __enter__(self) -> Any:
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.con.close()


def test_batched_profile_equals_one_query(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "n": [1, 2, None, 4] * 5,
                "x": [0.5, None, 2.5, 3.0] * 5,
                "s": ["城关镇", "石桥镇", None, "河西乡"] * 5,
                "b": [True, False, None, True] * 5,
            }
        ),
        path,
    )
    with ingest_connection(ctx.store, ctx.settings) as con:
        whole = profiling.profile(con, path)
    old = profiling.BATCH_COLUMNS
    try:
        profiling.BATCH_COLUMNS = 1
        with ingest_connection(ctx.store, ctx.settings) as con:
            batched = profiling.profile(con, path)
    finally:
        profiling.BATCH_COLUMNS = old
    assert batched == whole


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "ndjson", "parquet", "xlsx"])
def test_too_many_columns_is_refused_before_any_work(
    ctx: Context, tmp_path: Path, fmt: str
) -> None:
    ctx.settings.max_columns = 100
    names = [f"c{i}" for i in range(150)]
    path = tmp_path / f"wide.{fmt}"
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        path.write_text(sep.join(names) + "\n" + sep.join("1" * 150) + "\n", encoding="utf-8")
    elif fmt in ("json", "ndjson"):
        record = dict.fromkeys(names, 1)
        text = json.dumps([record]) if fmt == "json" else json.dumps(record) + "\n"
        path.write_text(text, encoding="utf-8")
    elif fmt == "parquet":
        pq.write_table(pa.table({n: [1] for n in names}), path)
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.append(names)
        wb.active.append([1] * 150)
        wb.save(path)
    before = snapshot(ctx)
    with pytest.raises(errors.TooManyColumns) as caught:
        ingest(ctx, path)
    assert caught.value.detail == {"columns": 150, "limit": 100}
    assert "YAOSU_MAX_COLUMNS" in caught.value.message("zh-CN")
    after = snapshot(ctx)
    assert after[:2] == before[:2] and after[2] == []


def test_a_hundred_thousand_columns_answer_quickly_with_a_clear_error(
    app_client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    """The attack: a 0.9 MB CSV whose header names 100,000 columns. Refused, nothing kept."""
    header = ",".join(f"{i:x}" for i in range(100_000))
    body = (header + "\n" + ",".join("1" * 100_000) + "\n").encode()
    assert len(body) < 1_000_000
    headers = auth(ctx, "bureau-admin")
    ds = new_dataset(ctx)
    before = snapshot(ctx)
    r = app_client.post(
        f"/api/v1/datasets/{ds}/versions?filename=wide.csv", content=body, headers=headers
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "TOO_MANY_COLUMNS"
    assert r.json()["error"]["detail"] == {"columns": 100_000, "limit": 2000}
    assert snapshot(ctx)[:2] == before[:2] and snapshot(ctx)[2] == []


def test_a_single_huge_line_of_many_fields_is_too_many_columns(
    ctx: Context, tmp_path: Path
) -> None:
    ctx.settings.ingest_block_bytes = 1 << 20
    path = tmp_path / "line.csv"
    path.write_text(",".join("x" * 10 for _ in range(300_000)), encoding="utf-8")  # 3.3 MB
    with pytest.raises(errors.TooManyColumns) as caught:
        ingest(ctx, path)
    assert caught.value.detail["limit"] == 2000 and caught.value.detail["columns"] > 2000


def test_a_single_line_header_without_rows_is_no_data_rows(ctx: Context, tmp_path: Path) -> None:
    """A 2 MB line, no line break: a header with nothing under it (it was EMPTY_FILE)."""
    path = tmp_path / "line.csv"
    path.write_text(",".join("名" * 1000 + str(i) for i in range(700)), encoding="utf-8")
    assert path.stat().st_size > 2 << 20
    with pytest.raises(errors.NoDataRows):
        ingest(ctx, path)


def test_a_first_row_over_a_mebibyte_is_read(ctx: Context, tmp_path: Path) -> None:
    """A long cell in the first row (a 1.5 MB text) is data, not "no data rows"."""
    path = tmp_path / "long.csv"
    long = "长" * 500_000
    path.write_text(f"编号,内容\n1,{long}\n2,短\n", encoding="utf-8")
    version = ingest(ctx, path)
    assert version.row_count == 2
    table = pq.read_table(ctx.store.path(version.sha256))
    assert table.column("内容").to_pylist() == [long, "短"]
    assert table.column("编号").type == pa.int64()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(ctx: Context, tmp_path: Path, codec: str) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes("乡镇,产品,销量\n城关镇,水稻,12.5\n石桥镇,茶叶,0.75\n".encode(codec))
    version = ingest(ctx, path)
    assert version.source_encoding == codec.upper().replace("UTF-16-", "UTF-16")
    table = pq.read_table(ctx.store.path(version.sha256))
    assert table.column("乡镇").to_pylist() == ["城关镇", "石桥镇"]
    assert table.column("销量").to_pylist() == [12.5, 0.75]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("报表\x00.csv", "报表.csv"),
        ("../../etc/报表.csv", "报表.csv"),
        ("C:\\Users\\张三\\报表.csv", "报表.csv"),
        ("a\r\nb.csv", "ab.csv"),
        ("\u202exslx.csv", "xslx.csv"),  # a right-to-left override would show "vsc.xlsx"
        ("名" * 400 + ".csv", "名" * 196 + ".csv"),
    ],
)
def test_source_filename_is_sanitised(ctx: Context, tmp_path: Path, given: str, kept: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert ingest(ctx, path, given).source_filename == kept


def test_a_name_of_only_control_characters_is_refused(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(errors.InvalidFilename):
        ingest(ctx, path, "\x00\x01/")


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("m.json", b'[{"a": 1}, {"a": '),
        ("m.ndjson", b'{"a": 1}\n{"a": }\n'),
        ("t.parquet", b"PAR1" + b"\x00" * 100),
        ("b.xlsx", b"PK\x03\x04" + b"garbage" * 50),
        ("r.csv", b"a,b\n1,2\n3\n"),
    ],
)
def test_errors_never_show_server_paths(
    app_client: TestClient, ctx: Context, filename: str, content: bytes
) -> None:
    headers = auth(ctx, "bureau-admin")
    ds = new_dataset(ctx)
    for lang in ("zh-CN", "en"):
        r = app_client.post(
            f"/api/v1/datasets/{ds}/versions?filename={filename}",
            content=content,
            headers={**headers, "Accept-Language": lang},
        )
        assert 400 <= r.status_code < 500, r.text
        assert str(ctx.store.root) not in r.text and "/tmp" not in r.text, r.text
        assert ".upload" not in r.text, r.text
