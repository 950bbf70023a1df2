"""De-identification: each operation, k-anonymity (checked against pycanon), the derived
version and its re-screen, and bad recipes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, dataset_id
from yaosu.context import Context
from yaosu.kernel.errors import InvalidInput
from yaosu.privacy.deidentify import Recipe, apply, suggest

PEERS = Path(__file__).resolve().parents[2] / "bench" / ".peers" / "bin" / "python"
KEY = b"k" * 32


def people() -> pa.Table:
    return pa.table(
        {
            "姓名": ["张伟", "李娜", "王芳", "张伟", "赵敏", "孙杰"],
            "手机号": [
                "13812345678",
                "13912345678",
                None,
                "13812345678",
                "15012345678",
                "18612345678",
            ],
            "身份证号": ["330102199701200431"] * 6,
            "出生日期": pa.array(
                [dt.date(1990, 3, 7), dt.date(1990, 5, 1), dt.date(1985, 1, 1)] * 2
            ),
            "乡镇": ["城关镇", "城关镇", "石桥镇", "城关镇", "城关镇", "河西乡"],
            "年龄": [33, 37, 41, 33, 35, 29],
            "缴费": [210, 480, 990, 1500, 760, 2000],
            "状态": ["正常", "暂停", "正常", "终止", "正常", "正常"],
            "地址": [
                "江州市城关镇人民路18号",
                "浙江省杭州市西湖区文三路1号",
                "门口",
                None,
                "江州市河西乡1组",
                "x",
            ],
        }
    )


def run(doc: dict, table: pa.Table | None = None):  # type: ignore[no-untyped-def]
    table = table or people()
    return apply(table, Recipe.parse(doc, table.column_names), key=KEY)


def test_mask_pseudonymise_generalise_round_and_drop() -> None:
    out = run(
        {
            "columns": {
                "姓名": {"op": "pseudonymise"},
                "手机号": {"op": "mask", "keep_first": 3, "keep_last": 2},
                "身份证号": {"op": "generalise", "to": "region_birth_year"},
                "出生日期": {"op": "generalise", "to": "month"},
                "年龄": {"op": "generalise", "to": "age_band", "width": 10},
                "缴费": {"op": "round", "to": 500},
                "地址": {"op": "generalise", "to": "county"},
                "状态": {"op": "drop"},
            }
        }
    ).table
    rows = out.to_pylist()
    assert "状态" not in out.column_names
    assert rows[0]["姓名"] == rows[3]["姓名"] != rows[1]["姓名"]  # same input, same token
    assert len(rows[0]["姓名"]) == 20 and "张" not in rows[0]["姓名"]
    assert rows[0]["手机号"] == "138******78" and rows[2]["手机号"] is None
    assert rows[0]["身份证号"] == "330102-1997"
    assert rows[0]["出生日期"] == "1990-03"
    assert rows[0]["年龄"] == "30-39" and rows[5]["年龄"] == "20-29"
    assert [r["缴费"] for r in rows] == [0, 500, 1000, 1500, 1000, 2000]
    assert [r["地址"] for r in rows] == ["江州市", "浙江省杭州市西湖区", None, None, "江州市", None]


def test_pseudonyms_depend_on_the_key() -> None:
    table = people()
    recipe = Recipe.parse({"columns": {"姓名": {"op": "pseudonymise"}}}, table.column_names)
    a = apply(table, recipe, key=b"a" * 32).table.column("姓名")[0].as_py()
    b = apply(table, recipe, key=b"b" * 32).table.column("姓名")[0].as_py()
    assert a != b


def test_k_anonymity_with_l_diversity_suppresses_small_groups() -> None:
    result = run(
        {
            "columns": {"出生日期": {"op": "generalise", "to": "year"}},
            "k_anonymity": {
                "quasi_identifiers": ["乡镇", "出生日期"],
                "k": 2,
                "sensitive": "状态",
                "l": 2,
            },
        }
    )
    assert result.k is not None and result.k >= 2 and result.l is not None and result.l >= 2
    assert result.suppressed == 6 - result.table.num_rows > 0
    groups = {}
    for row in result.table.to_pylist():
        groups.setdefault((row["乡镇"], row["出生日期"]), []).append(row["状态"])
    assert all(len(v) >= 2 and len(set(v)) >= 2 for v in groups.values())


def pycanon_k(table: pa.Table, quasi: list[str], tmp: Path) -> int:
    """pycanon pins typing_extensions below what our web stack needs, so it runs in the
    peers venv that `make test` builds (bench/.peers)."""
    assert PEERS.exists(), "run `make peers` (make test does) to install pycanon"
    path = tmp / "out.csv"
    pacsv.write_csv(table, path)
    code = (
        "import sys, pandas as pd; from pycanon import anonymity;"
        "frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False);"
        "print(anonymity.k_anonymity(frame, sys.argv[2].split(',')))"
    )
    done = subprocess.run(
        [str(PEERS), "-c", code, str(path), ",".join(quasi)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_the_k_we_report_is_the_k_pycanon_computes(tmp_path: Path, k: int) -> None:
    import random

    rng = random.Random(k)
    rows = 400
    table = pa.table(
        {
            "乡镇": [rng.choice(["城关镇", "石桥镇", "河西乡", "龙泉镇"]) for _ in range(rows)],
            "年龄": [rng.randint(18, 90) for _ in range(rows)],
            "性别": [rng.choice(["男", "女"]) for _ in range(rows)],
            "状态": [rng.choice(["正常", "暂停", "终止"]) for _ in range(rows)],
        }
    )
    quasi = ["乡镇", "年龄", "性别"]
    result = run(
        {
            "columns": {"年龄": {"op": "generalise", "to": "age_band", "width": 20}},
            "k_anonymity": {"quasi_identifiers": quasi, "k": k},
        },
        table,
    )
    assert result.k is not None and result.k >= k
    assert pycanon_k(result.table, quasi, tmp_path) == result.k


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"columns": {"不存在": {"op": "drop"}}}, "不存在"),
        ({"columns": {"姓名": {"op": "explode"}}}, "op"),
        ({"columns": {"出生日期": {"op": "generalise", "to": "decade"}}}, "to"),
        ({"columns": {"缴费": {"op": "round"}}}, "round"),
        ({"columns": {}, "k_anonymity": {"quasi_identifiers": ["乡镇"], "k": 1}}, "k"),
        (
            {
                "columns": {"乡镇": {"op": "drop"}},
                "k_anonymity": {"quasi_identifiers": ["乡镇"], "k": 2},
            },
            "乡镇",
        ),
        ({"columns": {}, "k_anonymity": {"quasi_identifiers": ["乡镇"], "k": 2, "l": 2}}, "l"),
    ],
)
def test_bad_recipes_are_refused_clearly(doc: dict, needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Recipe.parse(doc, people().column_names)
    assert needle in caught.value.message("zh-CN")


def test_suggestions_come_from_the_screen() -> None:
    from yaosu.privacy.scan import scan_table

    recipe = suggest(scan_table(people()).as_dict())["columns"]
    assert recipe["手机号"]["op"] == "mask"
    assert recipe["身份证号"] == {"op": "generalise", "to": "region_birth_year"}
    assert recipe["姓名"]["op"] == "pseudonymise"
    assert recipe["出生日期"] == {"op": "generalise", "to": "year"}


def test_from_raw_upload_to_an_openable_version(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    owner = auth(ctx, "bureau-admin")
    suggested = app_client.get(
        f"/api/v1/datasets/{residents}/versions/1/suggested-recipe", headers=owner
    ).json()
    suggested["columns"]["备注"] = {"op": "drop"}
    suggested["columns"]["姓名"] = {"op": "drop"}
    suggested["k_anonymity"] = {"quasi_identifiers": ["出生日期", "性别", "所属乡镇"], "k": 5}
    made = app_client.post(
        f"/api/v1/datasets/{residents}/versions/1/deidentify", json=suggested, headers=owner
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["source_version"] == 1 and body["result_version"] == 2
    assert body["k_reached"] >= 5 and body["rows_in"] == 2000
    screen = body["screen"]
    assert screen["version"] == 2 and screen["mode"] == "full"
    assert "CN_RESIDENT_ID" not in json.dumps(screen["findings"]) and "CN_MOBILE" not in json.dumps(
        screen["findings"]
    )
    # the derived version is real data in the store, and the pseudonym key is not in it
    version = app_client.get(f"/api/v1/datasets/{residents}/versions/2", headers=owner).json()
    assert (
        version["source_format"] == "parquet" and version["row_count"] == 2000 - body["suppressed"]
    )
    bad = app_client.post(
        f"/api/v1/datasets/{residents}/versions/1/deidentify",
        json={"columns": {"x": {"op": "drop"}}},
        headers=owner,
    )
    assert bad.status_code == 422
    outsider = app_client.post(
        f"/api/v1/datasets/{residents}/versions/1/deidentify",
        json={"columns": {}},
        headers=auth(ctx, "coop-manager"),
    )
    assert outsider.status_code == 403


def test_a_datasets_pseudonym_key_is_made_once_under_concurrent_first_use(tmp_path: Path) -> None:
    """Fifty requests wanting a new dataset's key at the same moment all get the same key
    (the first governed queries of a dataset arrive together); none fails."""
    import threading

    from yaosu.kernel.settings import Settings
    from yaosu.privacy import derivations

    settings = Settings(home=tmp_path)
    keys: list[bytes] = []
    barrier = threading.Barrier(50)

    def one() -> None:
        barrier.wait()
        derivations._key_at.cache_clear()  # each thread takes the file path, as separate processes would
        keys.append(derivations._key_at(settings.home_dir / "keys" / "pseudonyms" / "ds_race.key"))

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 50 and len(set(keys)) == 1 and len(keys[0]) == 32
    assert sorted(p.name for p in (settings.home_dir / "keys" / "pseudonyms").iterdir()) == [
        "ds_race.key"
    ]
