"""Appends under contention: gapless, unique leaf indices in commit order; rollbacks leave
no leaf; a process killed in the middle of a batch leaves a log that still verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import func, select

from tests.conftest import actor
from yaosu.audit import transparency
from yaosu.audit.models import AuditEntry, TreeNode
from yaosu.audit.service import record
from yaosu.context import Context


def test_sixteen_concurrent_writers_leave_no_gaps_or_duplicates(ctx: Context) -> None:
    bureau = actor(ctx, "bureau-admin")
    with ctx.db.transaction() as session:
        start = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    per_writer, writers = 25, 16
    errors: list[BaseException] = []
    committed = []

    def write(w: int) -> None:
        try:
            for i in range(per_writer):
                try:
                    with ctx.db.transaction() as session:
                        record(
                            session,
                            bureau,
                            action="test.concurrent",
                            object_type="dataset",
                            object_id=f"ds_{w}_{i}",
                        )
                        record(
                            session,
                            bureau,
                            action="test.concurrent",
                            object_type="dataset",
                            object_id=f"ds_{w}_{i}_b",
                        )
                        if i % 5 == 4:
                            raise _Rollback
                    committed.append((w, i))
                except _Rollback:
                    continue
        except BaseException as exc:  # surface in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    with ctx.db.transaction() as session:
        indices = list(
            session.scalars(select(AuditEntry.leaf_index).order_by(AuditEntry.leaf_index))
        )
        leaves = session.scalar(
            select(func.count()).select_from(TreeNode).where(TreeNode.level == 0)
        )
        rolled_back = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.object_id.like("ds\\_%\\_4", escape="\\"))
        )
    expected = start + 2 * len(committed)
    assert len(committed) == writers * per_writer * 4 // 5
    assert indices == list(range(expected)), "leaf indices have gaps or duplicates"
    assert leaves == expected
    assert rolled_back == 0
    with ctx.db.transaction() as session:
        transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
        assert transparency.check(session, settings=ctx.settings).ok


class _Rollback(Exception):
    """Raised inside a transaction to roll it back on purpose."""


BATCH = """
import os, sys
from yaosu.context import open_context
from yaosu.audit.service import record
from yaosu.kernel.actor import system_actor
ctx = open_context()
with ctx.db.transaction() as session:
    for i in range(200000):
        record(session, system_actor(), action="test.batch", object_type="dataset", object_id=f"ds_{i}")
        if i == 2000:
            print("started", flush=True)
"""


def test_kill_9_in_the_middle_of_a_batch_leaves_a_log_that_verifies(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    env = {
        **os.environ,
        "YAOSU_HOME": str(ctx.settings.home_dir),
        "YAOSU_DATABASE_URL": ctx.settings.db_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCH], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert transparency.check(session, settings=ctx.settings).ok
    bureau = actor(ctx, "bureau-admin")
    with ctx.db.transaction() as session:  # and the log goes on
        entry = record(
            session, bureau, action="test.after", object_type="dataset", object_id="ds_after"
        )
        assert entry.leaf_index == before
        transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
        assert transparency.check(session, settings=ctx.settings).ok
