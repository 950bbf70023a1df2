"""A 2 GB CSV ingests with peak memory under 1 GB (measured on the ingesting process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.catalog.helpers import new_dataset
from yaosu.catalog.models import DatasetVersion
from yaosu.context import Context

GB = 1024**3


def two_gb_gbk_csv(path: Path) -> int:
    """Distinct, realistic rows: a 4 MB block of rows with the row number varying, repeated."""
    lines = [
        f"{{n}}{i:05d},张{'伟芳娜敏静'[i % 5]},3301021990{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 1000:03d}X,"
        f"138{i:08d},江州市城关镇{'东西南北'[i % 4]}村{i % 300}号,{'水稻小麦玉米柑橘茶叶'[i % 5]},{i * 0.37:.2f},"
        f"2024-{i % 12 + 1:02d}-01,第{i % 97}批次\n"
        for i in range(40_000)
    ]
    template = "".join(lines)
    rows = 0
    with path.open("wb") as fh:
        fh.write("编号,姓名,身份证号,手机号,地址,产品,销量,日期,备注\n".encode("gbk"))
        block = 0
        while fh.tell() < 2 * GB:
            fh.write(template.replace("{n}", f"{block:05d}").encode("gbk"))
            rows += len(lines)
            block += 1
    return rows


@pytest.mark.parametrize(
    "backend", ["sqlite"], indirect=True
)  # memory does not depend on the metadata store
def test_two_gigabyte_csv_ingests_in_under_one_gigabyte(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = two_gb_gbk_csv(path)
    assert path.stat().st_size >= 2 * GB
    dataset = new_dataset(ctx, "大文件")
    env = {
        **os.environ,
        "YAOSU_HOME": str(ctx.settings.home_dir),
        "YAOSU_DATABASE_URL": ctx.settings.db_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "yaosu", "ingest", str(path), "--dataset", dataset],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen knows it was reaped
    proc.stderr.close()
    assert os.waitstatus_to_exitcode(status) == 0, err.decode()[-2000:]
    peak_mb = usage.ru_maxrss / 1024
    print(f"peak memory ingesting a 2 GB CSV: {peak_mb:.0f} MB")
    assert peak_mb < 1024, f"peak memory {peak_mb:.0f} MB"
    path.unlink()
    with ctx.db.transaction() as session:
        version = session.scalar(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset))
    assert version is not None and version.row_count == rows
    assert version.source_encoding == "GBK"
