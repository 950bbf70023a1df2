"""Shared by the benchmarks: realistic Chinese CSV generation and child-process measurement."""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from yaosu.demo import world

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"

# The demo world's vocabularies, so benchmark data looks like the data users see.
SURNAMES = list(world.SURNAMES[:60])
GIVEN = list(world.GIVEN)
TOWNS = world.TOWNS
VILLAGES = world.VILLAGES
PRODUCTS = [name for name, _price in world.PRODUCTS]
NOTES = ["", "", "合作社统一收购", "电商平台直销", "受灾减产", "有机认证", "联系人已变更，见附件"]
ROADS = ["人民路", "解放路", "建设路", "中山路", "和平街", "新华街", "文化路", "胜利路"]
HEADER = "序号,姓名,身份证号,手机号,地址,乡镇,村,产品,销量(吨),销售额(万元),日期,备注\n"


def farm_csv(path: Path, rows: int, *, encoding: str = "gbk", seed: int = 7) -> Path:
    """A farm-sales register with personal columns, written in blocks (vectorised with NumPy)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    py = random.Random(seed)
    names = [py.choice(SURNAMES) + py.choice(GIVEN) + py.choice(GIVEN) for _ in range(5000)]
    block = 100_000
    tmp = path.with_suffix(".partial")
    with tmp.open("wb") as fh:
        fh.write(HEADER.encode(encoding))
        for start in range(0, rows, block):
            n = min(block, rows - start)
            ids = rng.integers(10**16, 10**17 - 1, n)
            phones = rng.integers(13_000_000_000, 19_999_999_999, n)
            qty = rng.lognormal(3, 0.8, n).round(2)
            month = rng.integers(1, 13, n)
            day = rng.integers(1, 29, n)
            pick = rng.integers(0, 5000, n)
            town = rng.integers(0, len(TOWNS), n)
            village = rng.integers(0, len(VILLAGES), n)
            product = rng.integers(0, len(PRODUCTS), n)
            note = rng.integers(0, len(NOTES), n)
            road = rng.integers(0, len(ROADS), n)
            house = rng.integers(1, 999, n)
            lines = [
                f"{start + i},{names[pick[i]]},33010{ids[i]}X,{phones[i]},"
                f"江州市{TOWNS[town[i]]}{VILLAGES[village[i]]}{ROADS[road[i]]}{house[i]}号,{TOWNS[town[i]]},"
                f"{VILLAGES[village[i]]},{PRODUCTS[product[i]]},{qty[i]},{qty[i] * 0.31:.2f},"
                f"2024-{month[i]:02d}-{day[i]:02d},{NOTES[note[i]]}\n"
                for i in range(n)
            ]
            fh.write("".join(lines).encode(encoding))
    tmp.rename(path)
    return path


def transcode(src: Path, dst: Path, src_encoding: str = "gbk") -> Path:
    if not dst.exists():
        with src.open("r", encoding=src_encoding) as fin, dst.open("w", encoding="utf-8") as fout:
            while chunk := fin.read(1 << 22):
                fout.write(chunk)
    return dst


def measure(
    code: str, *, env: dict[str, str] | None = None, python: str = sys.executable
) -> dict[str, float]:
    """Run Python ``code`` in a child; it prints one JSON line last. Adds peak RSS in MB."""
    proc = subprocess.Popen(
        [python, "-c", code], stdout=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed ({proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GB RAM, Python {platform.python_version()}"


def stamp() -> str:
    return time.strftime("%Y-%m-%d")
