"""Ingest benchmark: a 1-million-row GBK CSV into Yaosu, against DuckDB's read_csv to Parquet.

DuckDB reads only UTF-8, UTF-16 and Latin-1 without its ``encodings`` extension, which
is downloaded from the internet at run time and so is unavailable here. The peer
therefore runs twice: on a UTF-8 copy of the same rows (DuckDB's best case, the
target's yardstick) and as "transcode GBK to UTF-8, then DuckDB" (what a user
without Yaosu must do). Each run is a fresh child process; peak memory is that
child's maximum resident set.

    python bench/ingest.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from common import DATA, farm_csv, machine, measure, stamp, transcode

YAOSU = """
import json, time
from pathlib import Path
from yaosu.kernel.settings import Settings
from yaosu.context import Context
from yaosu.kernel.db import Database
from yaosu.kernel.storage import ObjectStore
from yaosu.kernel.actor import system_actor
from yaosu.accounts import service as accounts
from yaosu.catalog import service as catalog, versions
from yaosu.catalog.schemas import DatasetCreate
settings = Settings(home={home!r})
db = Database(settings); db.upgrade()
ctx = Context(settings, db, ObjectStore(settings.data_dir))
with db.transaction() as s:
    org = accounts.create_org(s, system_actor(), name="bench", kinds=["provider"])
    user = accounts.create_user(s, system_actor(), org_id=org.id, username="bench", password="bench-password", role="admin")
    actor = accounts.actor_for(s, user=user)
    ds = catalog.create_dataset(s, actor, data=DatasetCreate(title="bench", theme="bench"))
t = time.perf_counter()
v = versions.run_ingest(ctx, actor, dataset_id=ds.id, source=Path({src!r}), filename="farm.csv")
print(json.dumps({{"seconds": time.perf_counter() - t, "rows": v.row_count}}))
"""

DUCKDB = """
import json, time, duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute("COPY (SELECT * FROM read_csv(?)) TO '{out}' (FORMAT parquet)", [{src!r}])
rows = con.execute("SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0]
print(json.dumps({{"seconds": time.perf_counter() - t, "rows": rows}}))
"""

TRANSCODE_THEN_DUCKDB = """
import json, time, duckdb, codecs
t = time.perf_counter()
dec = codecs.getincrementaldecoder("gb18030")()
with open({src!r}, "rb") as fin, open({mid!r}, "w", encoding="utf-8") as fout:
    while chunk := fin.read(1 << 22):
        fout.write(dec.decode(chunk))
con = duckdb.connect()
con.execute("COPY (SELECT * FROM read_csv(?)) TO '{out}' (FORMAT parquet)", [{mid!r}])
rows = con.execute("SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0]
print(json.dumps({{"seconds": time.perf_counter() - t, "rows": rows}}))
"""


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    gbk = farm_csv(DATA / f"farm_{args.rows}_gbk.csv", args.rows)
    utf8 = transcode(gbk, DATA / f"farm_{args.rows}_utf8.csv")
    results: dict[str, list[dict[str, float]]] = {
        "yaosu": [],
        "yaosu_utf8": [],
        "duckdb_utf8": [],
        "transcode_duckdb": [],
    }
    for _ in range(args.repeat):
        work = Path(tempfile.mkdtemp(prefix="yaosu-bench-"))
        try:
            results["yaosu"].append(measure(YAOSU.format(home=str(work / "home"), src=str(gbk))))
            results["yaosu_utf8"].append(
                measure(YAOSU.format(home=str(work / "home8"), src=str(utf8)))
            )
            results["duckdb_utf8"].append(
                measure(DUCKDB.format(src=str(utf8), out=work / "d.parquet"))
            )
            results["transcode_duckdb"].append(
                measure(
                    TRANSCODE_THEN_DUCKDB.format(
                        src=str(gbk), mid=str(work / "mid.csv"), out=work / "t.parquet"
                    )
                )
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    y, d, t = (
        best(results["yaosu"]),
        best(results["duckdb_utf8"]),
        best(results["transcode_duckdb"]),
    )
    y8 = best(results["yaosu_utf8"])
    assert y["rows"] == y8["rows"] == d["rows"] == t["rows"] == args.rows, (y, y8, d, t)
    size_mb = gbk.stat().st_size / 2**20
    print(f"# ingest benchmark, {stamp()}, {machine()}")
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB GBK CSV; best of {args.repeat}")
    rows = [
        ("Yaosu ingest, GBK file (store+profile+db)", y),
        ("Yaosu ingest, UTF-8 copy", y8),
        ("DuckDB read_csv->Parquet, UTF-8 copy", d),
        ("transcode GBK->UTF-8, then DuckDB", t),
    ]
    print("| run | seconds | peak MB |\n|---|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['seconds']:.2f} | {r['peak_mb']:.0f} |")
    print(f"ratio Yaosu(GBK) / DuckDB(UTF-8): {y['seconds'] / d['seconds']:.2f}x  (target <= 1.5x)")
    print(f"ratio Yaosu(GBK) / transcode+DuckDB: {y['seconds'] / t['seconds']:.2f}x")
    print(f"ratio Yaosu(UTF-8) / DuckDB(UTF-8): {y8['seconds'] / d['seconds']:.2f}x")
    print(json.dumps({"yaosu": y, "yaosu_utf8": y8, "duckdb_utf8": d, "transcode_duckdb": t}))


if __name__ == "__main__":
    main()
