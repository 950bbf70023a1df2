"""Audit-log benchmark: Yaosu's transparency log against pymerkle's ``SqliteTree``, in one run.

Both on SQLite, both durable (synchronous=FULL), each in a fresh child process:

1. single appends, each committed in its own transaction (as the application records);
2. batch appends of 10,000 entries, up to a 1,000,000-entry log;
3. on that log: 10,000 inclusion proofs and 1,000 consistency proofs, each produced and
   verified; for Yaosu also the number of database queries per proof.

pymerkle is installed in its own virtual environment (``bench/.peers``), created on first
run, because benchmark peers are never project dependencies.

    python bench/audit.py [--entries 1000000] [--singles 2000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import HERE, machine, measure, stamp

PEERS = HERE / ".peers"

YAOSU = r"""
import json, os, random, time
os.environ["USER"] = "bench"
from sqlalchemy import event
from yaosu.kernel.settings import Settings
from yaosu.kernel.db import Database
from yaosu.kernel.actor import system_actor
from yaosu.audit import log
from yaosu.audit.service import record, record_many
from yaosu.audit.verify import verify_inclusion, verify_consistency, leaf_hash
db = Database(Settings(home={home!r}))
db.upgrade()
actor = system_actor()
out = {{}}
t = time.perf_counter()
for i in range({singles}):
    with db.transaction() as s:
        record(s, actor, "bench.single", "dataset", f"ds_{{i}}")
out["single_per_s"] = {singles} / (time.perf_counter() - t)
batch_times = []
n = {singles}
while n < {entries}:
    k = min(10000, {entries} - n)
    events = [{{"action": "bench.batch", "object_type": "dataset", "object_id": f"ds_{{n + j}}"}} for j in range(k)]
    t = time.perf_counter()
    with db.transaction() as s:
        record_many(s, actor, events)
    batch_times.append(time.perf_counter() - t)
    n += k
out["batch_10k_s"] = sorted(batch_times)[len(batch_times) // 2]
out["size"] = n
queries = [0]
event.listen(db.engine, "before_cursor_execute", lambda *a: queries.__setitem__(0, queries[0] + 1))
rng = random.Random(1)
with db.transaction() as s:
    root = log.root(s, n)
    leaves = {{}}
    picks = [rng.randrange(n) for _ in range(10000)]
    from yaosu.audit.models import TreeNode
    from sqlalchemy import select
    for i in range(0, len(picks), 500):  # leaf hashes, as a client holding its entries would have
        chunk = picks[i:i + 500]
        leaves.update(dict(s.execute(select(TreeNode.idx, TreeNode.hash).where(TreeNode.level == 0, TreeNode.idx.in_(chunk))).all()))
    queries[0] = 0
    t = time.perf_counter()
    for i in picks:
        proof = log.inclusion_proof(s, i, n)
        verify_inclusion(i, n, bytes.fromhex(leaves[i]), proof, root)
    out["inclusion_10k_s"] = time.perf_counter() - t
    out["queries_per_inclusion"] = queries[0] / len(picks)
    pairs = sorted((rng.randrange(1, n), n) for _ in range(1000))
    roots = {{m: log.root(s, m) for m, _ in pairs}}
    t = time.perf_counter()
    for m, k in pairs:
        verify_consistency(m, k, log.consistency_proof(s, m, k), roots[m], root)
    out["consistency_1k_s"] = time.perf_counter() - t
print(json.dumps(out))
"""

PYMERKLE = r"""
import json, random, time
from pymerkle import SqliteTree, verify_inclusion, verify_consistency
tree = SqliteTree({db!r})
def entry(action, object_id):  # the same entries, as the canonical bytes Yaosu hashes
    return json.dumps({{"action": action, "actor": "system:bench", "actor_org": None,
        "at": "2026-11-30T00:00:00.000000Z", "decision": "allow", "detail": {{}},
        "object_id": object_id, "object_org": None, "object_type": "dataset", "reason": "",
        "request_hash": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},
        sort_keys=True, separators=(",", ":")).encode()
out = {{}}
t = time.perf_counter()
for i in range({singles}):
    tree.append_entry(entry("bench.single", f"ds_{{i}}"))
out["single_per_s"] = {singles} / (time.perf_counter() - t)
batch_times = []
n = {singles}
while n < {entries}:
    k = min(10000, {entries} - n)
    entries = [entry("bench.batch", f"ds_{{n + j}}") for j in range(k)]
    t = time.perf_counter()
    tree.append_entries(entries)
    batch_times.append(time.perf_counter() - t)
    n += k
out["batch_10k_s"] = sorted(batch_times)[len(batch_times) // 2]
out["size"] = tree.get_size()
rng = random.Random(1)
root = tree.get_root(n)
picks = [rng.randrange(n) for _ in range(10000)]
t = time.perf_counter()
for i in picks:
    proof = tree.prove_inclusion(i + 1, n)
    verify_inclusion(tree.get_leaf(i + 1), root, proof)
out["inclusion_10k_s"] = time.perf_counter() - t
pairs = sorted((rng.randrange(1, n), n) for _ in range(1000))
t = time.perf_counter()
for m, k in pairs:
    proof = tree.prove_consistency(m, k)
    verify_consistency(tree.get_root(m), root, proof)
out["consistency_1k_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def peers_python() -> str:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    if subprocess.run([str(python), "-c", "import pymerkle"], capture_output=True).returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pymerkle==7.0.0"], check=True)
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--singles", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yaosu-audit-bench-"))
    try:
        y = measure(
            YAOSU.format(home=str(work / "home"), entries=args.entries, singles=args.singles)
        )
        p = measure(
            PYMERKLE.format(
                db=str(work / "pymerkle.db"), entries=args.entries, singles=args.singles
            ),
            python=peers_python(),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"# audit log benchmark, {stamp()}, {machine()}")
    print(
        f"log of {y['size']:,} entries (Yaosu) / {p['size']:,} (pymerkle SqliteTree), SQLite, synchronous=FULL"
    )
    print("| measure | Yaosu | pymerkle | ratio (Yaosu is x better) |\n|---|---:|---:|---:|")
    rows = [
        (
            "single appends per second, each committed",
            y["single_per_s"],
            p["single_per_s"],
            y["single_per_s"] / p["single_per_s"],
        ),
        (
            "batch of 10,000 appends, seconds (median)",
            y["batch_10k_s"],
            p["batch_10k_s"],
            p["batch_10k_s"] / y["batch_10k_s"],
        ),
        (
            "10,000 inclusion proofs + verify, seconds",
            y["inclusion_10k_s"],
            p["inclusion_10k_s"],
            p["inclusion_10k_s"] / y["inclusion_10k_s"],
        ),
        (
            "1,000 consistency proofs + verify, seconds",
            y["consistency_1k_s"],
            p["consistency_1k_s"],
            p["consistency_1k_s"] / y["consistency_1k_s"],
        ),
    ]
    for label, a, b, r in rows:
        print(f"| {label} | {a:,.2f} | {b:,.2f} | {r:.1f}x |")
    print(f"Yaosu database queries per inclusion proof: {y['queries_per_inclusion']:.1f}")
    print(f"peak MB: Yaosu {y['peak_mb']:.0f}, pymerkle {p['peak_mb']:.0f}")
    print(json.dumps({"yaosu": y, "pymerkle": p}))


if __name__ == "__main__":
    main()
