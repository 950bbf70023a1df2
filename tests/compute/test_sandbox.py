"""The sandbox (yaosu.compute.sandbox): every escape attempt in tests/compute/escapes/ is run
through Bubblewrap and must be stopped, asserted on what the job itself observed and on what it
left on the host; then the contract a well-behaved job relies on (inputs, outputs, manifest,
progress, heartbeat, failures).

Limits are small so that bombs stop quickly, and wall-clock margins generous: the tests run on
loaded two-core machines, so no duration is asserted tightly.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pyseccomp
import pytest

from yaosu.compute import sandbox, seccomp
from yaosu.compute.sandbox import Bubblewrap, Limits, Outcome, Runtime, Spec, default_runtime

ESCAPES = Path(__file__).parent / "escapes"
RUNNER = Bubblewrap()
WHY_NOT = RUNNER.available()
# bubblewrap needs Linux; on Linux (CI, `make test`) an unavailable sandbox is a failure of its
# own (test_the_sandbox_runs_here), never a quietly skipped escape suite.
pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the compute sandbox (bubblewrap) needs Linux"
)


def test_the_sandbox_runs_here() -> None:
    assert WHY_NOT is None, f"the compute sandbox cannot run on this machine: {WHY_NOT}"


MiB = 2**20
SMALL = Limits(
    memory_bytes=512 * MiB,
    cpu_seconds=60,
    wall_seconds=120.0,  # a margin, not a measurement: only the timeout test relies on it
    processes=32,
    open_files=64,
    output_bytes=8 * MiB,
    log_bytes=64 * 1024,
)


@dataclass
class Ran:
    outcome: Outcome
    output: Path
    entry: str  # unique to the job: in the argv of every process of it

    def observed(self) -> Any:
        """What the job reported it saw."""
        assert self.outcome.status == "ok", self.outcome
        return json.loads((self.output / "report.md").read_text(encoding="utf-8"))


def run_job(
    tmp_path: Path,
    algorithm: str,
    params: dict[str, Any] | None = None,
    *,
    limits: Limits = SMALL,
    inputs: dict[str, pa.Table] | None = None,
    runtime: Runtime | None = None,
    heartbeat: Callable[[float], None] | None = None,
    progress: Callable[[float, str], None] | None = None,
    unique: str | None = None,
) -> Ran:
    """Run tests/compute/escapes/<algorithm>.py (alone in its algorithm folder) as a job. The
    module gets a unique name, so that the job's processes can be told from those of other
    jobs (tests running in parallel) by their argv."""
    unique = unique or f"{algorithm}_{uuid.uuid4().hex[:8]}"
    job = tmp_path / unique
    folders = {name: job / name for name in ("algorithm", "inputs", "output")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    shutil.copy(ESCAPES / f"{algorithm}.py", folders["algorithm"] / f"{unique}.py")
    for name, table in (inputs or {}).items():
        pq.write_table(table, folders["inputs"] / f"{name}.parquet")
    spec = Spec(
        runtime=runtime or default_runtime(),
        algorithm_dir=folders["algorithm"],
        inputs_dir=folders["inputs"],
        output_dir=folders["output"],
        entry=f"{unique}:run",
        params=params or {},
        limits=limits,
    )
    outcome = RUNNER.run(spec, heartbeat=heartbeat, progress=progress)
    return Ran(outcome, folders["output"], spec.entry)


def survivors(marker: str) -> list[int]:
    """Host processes whose argv holds ``marker``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in process.info["cmdline"] or ()):
            found.append(process.pid)
    return found


@pytest.fixture
def cgroups(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The cgroup folders the jobs of a test were given (to check they are gone afterwards)."""
    created: list[Path] = []
    create = sandbox._Cgroup.create

    def spy(root: Path, limits: Limits) -> sandbox._Cgroup:
        cgroup = create(root, limits)
        created.extend(cgroup.folders.values())
        return cgroup

    monkeypatch.setattr(sandbox._Cgroup, "create", staticmethod(spy))
    return created


# --- the network: none at all ----------------------------------------------------------------


def test_no_tcp_to_the_hosts_postgresql(tmp_path: Path) -> None:
    ran = run_job(tmp_path, "net_postgres", {"host": "127.0.0.1", "port": 5432})
    assert ran.observed()["connect"] == "PermissionError: [Errno 1] Operation not permitted"


def test_no_name_resolution(tmp_path: Path) -> None:
    seen = run_job(tmp_path, "net_dns").observed()
    for name in ("example.com", "postgres"):
        assert seen[name].startswith("gaierror"), seen


def test_no_socket_on_the_loopback(tmp_path: Path) -> None:
    seen = run_job(tmp_path, "net_loopback").observed()
    assert seen == {"listen": "PermissionError: [Errno 1] Operation not permitted", "unix": "unix"}


def test_no_ipv6(tmp_path: Path) -> None:
    seen = run_job(tmp_path, "net_inet6", {"port": 5432}).observed()
    assert seen["connect"] == "PermissionError: [Errno 1] Operation not permitted"


def test_no_netlink(tmp_path: Path) -> None:
    seen = run_job(tmp_path, "net_netlink").observed()
    assert seen["netlink"] == "PermissionError: [Errno 1] Operation not permitted"


# --- reading what is not the job's -----------------------------------------------------------


def test_nothing_of_the_host_is_readable(tmp_path: Path) -> None:
    store = tmp_path / "store" / "tmp"
    store.mkdir(parents=True)
    (store / "other-job.parquet").write_bytes(b"another provider's rows")
    paths = [
        "/work/main/.yaosu",
        "/work/shared",
        "/etc/shadow",
        "/etc",
        "/sys",
        str(store),
        str(store / "other-job.parquet"),
        str(tmp_path),
    ]
    homes = ["/work", "/work/main", "/root", "/root/.pyenv"]
    seen = run_job(tmp_path, "read_host", {"paths": paths + homes}).observed()
    for path in paths:
        assert seen[path] == "absent", path
    # Of the folders above the runtime's mounts, only the empty parents bwrap makes exist.
    mounts = default_runtime().mounts
    for home in map(Path, homes):
        below = {m.relative_to(home).parts[0] for m in mounts if m.is_relative_to(home)}
        assert seen[str(home)] == (sorted(below) if below else "absent"), home


def test_no_other_process_and_no_parent_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YAOSU_SECRET_KEY", "planted-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted-too")
    seen = run_job(tmp_path, "proc_view").observed()
    # bwrap's init (PID 1) and the harness; the host's processes are not there
    assert seen["pids"] == [1, 2]
    allowed = {"PATH", "HOME", "TMPDIR", "LANG", "TZ", "PWD", "LC_CTYPE"}
    allowed |= {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ARROW_IO_THREADS"}
    assert set(seen["environ"]) <= allowed
    for pid, names in seen["environs"].items():
        assert isinstance(names, str) or set(names) <= allowed, (pid, names)
    assert "YAOSU_SECRET_KEY" not in json.dumps(seen)


# --- writing outside the output folder -------------------------------------------------------


def test_only_the_output_and_a_private_tmp_are_writable(tmp_path: Path) -> None:
    marker = f"yaosu-scratch-{uuid.uuid4().hex}"
    params = {"marker": marker, "venv": sys.prefix}
    first = run_job(tmp_path, "write_outside", params).observed()
    scratch = f"/tmp/{marker}"
    assert first.pop(scratch) == "written"
    assert first.pop("scratch existed") is False
    for path, result in first.items():
        assert result.startswith(("OSError: [Errno 30]", "PermissionError")), (path, result)
    assert not Path(scratch).exists()  # the job's /tmp was not the host's
    second = run_job(tmp_path, "write_outside", params).observed()
    assert second["scratch existed"] is False  # nor the previous job's


# --- limits ----------------------------------------------------------------------------------


def test_a_fork_bomb_is_stopped_at_the_process_limit(tmp_path: Path, cgroups: list[Path]) -> None:
    limits = replace(SMALL, processes=16)
    ran = run_job(tmp_path, "fork_bomb", {"seconds": 2.0}, limits=limits)
    seen = ran.observed()
    assert seen["refused"] > 0
    assert seen["most"] <= limits.processes
    assert survivors(ran.entry) == []
    assert cgroups and not any(folder.exists() for folder in cgroups)


@pytest.mark.parametrize("mode", ["grow", "huge"])
def test_a_memory_bomb_is_stopped_at_the_memory_limit(
    tmp_path: Path, mode: str, cgroups: list[Path]
) -> None:
    limits = replace(SMALL, memory_bytes=256 * MiB)
    ran = run_job(tmp_path, "memory_bomb", {"mode": mode, "processes": 3}, limits=limits)
    assert ran.outcome.status == "memory", ran.outcome
    held = [int(line.split()[-2]) for line in ran.outcome.log.splitlines() if "MiB" in line]
    assert all(mib <= 256 for mib in held)
    assert held or mode == "huge"  # "grow" did allocate before it was stopped
    assert ran.outcome.reason == "the job needed more than 256 MiB of memory"
    assert survivors(ran.entry) == []
    assert not any(folder.exists() for folder in cgroups)


def test_cpu_burn_in_one_process_is_stopped(tmp_path: Path) -> None:
    limits = replace(SMALL, cpu_seconds=1)
    ran = run_job(tmp_path, "cpu_burn", {"mode": "one"}, limits=limits)
    assert ran.outcome.status == "cpu", ran.outcome
    assert survivors(ran.entry) == []


def test_cpu_burn_across_processes_is_stopped(tmp_path: Path) -> None:
    # each child stays under RLIMIT_CPU (per process); the tree's CPU time is the limit
    limits = replace(SMALL, cpu_seconds=1)
    params = {"mode": "tree", "processes": 4, "each": 0.9}
    ran = run_job(tmp_path, "cpu_burn", params, limits=limits)
    assert ran.outcome.status == "cpu", ran.outcome
    assert ran.outcome.exit_code is None  # killed by the runner
    assert survivors(ran.entry) == []


def test_sleeping_forever_is_stopped_at_the_wall_clock(tmp_path: Path) -> None:
    limits = replace(SMALL, wall_seconds=2.0)
    ran = run_job(tmp_path, "sleep_forever", limits=limits)
    assert ran.outcome.status == "timeout", ran.outcome
    assert ran.outcome.reason == "the job ran past 2 seconds"
    assert 2.0 <= ran.outcome.seconds < 60
    assert survivors(ran.entry) == []


def test_open_files_are_limited(tmp_path: Path) -> None:
    seen = run_job(tmp_path, "open_files", limits=replace(SMALL, open_files=32)).observed()
    assert seen["opened"] < 32 and seen["refused"] == "Too many open files"


@pytest.mark.parametrize(
    ("mode", "params", "reason"),
    [
        ("big", {"bytes": 2 * MiB}, "the output grew past 1 MiB"),
        ("spread", {"bytes": 600 * 1024}, "the output grew past 1 MiB"),
        ("many", {"files": 10}, "the output holds more than 8 files and folders"),
        ("symlink", {}, "the output folder holds a symbolic link (leak)"),
    ],
)
def test_output_over_its_bounds_is_refused(
    tmp_path: Path, mode: str, params: dict[str, Any], reason: str
) -> None:
    limits = replace(SMALL, output_bytes=MiB, output_files=8)
    ran = run_job(tmp_path, "output_flood", {"mode": mode, **params}, limits=limits)
    assert (ran.outcome.status, ran.outcome.reason) == ("output_size", reason), ran.outcome
    assert list(ran.output.iterdir()) == []  # nothing unchecked is left to be read


def test_a_log_flood_is_bounded_and_counted(tmp_path: Path) -> None:
    ran = run_job(tmp_path, "log_flood", {"lines": 20_000})
    outcome = ran.outcome
    assert outcome.status == "ok", outcome
    assert len(outcome.log.encode()) <= SMALL.log_bytes
    printed = 20_000 * 1000 + len("an error line on stderr\n") + len("the last line\n")
    assert printed - SMALL.log_bytes < outcome.log_dropped_bytes < printed
    assert f"[yaosu: {outcome.log_dropped_bytes} bytes of log dropped here]" in outcome.log
    assert outcome.log.splitlines()[-1] == "the last line"  # the end is kept (tracebacks)


def test_no_process_survives_the_job(tmp_path: Path, cgroups: list[Path]) -> None:
    marker = f"yaosu-survivor-{uuid.uuid4().hex}"
    seen = run_job(tmp_path, "background_child", {"marker": marker}).observed()
    assert len(seen["alive"]) == 2  # both were running when the entry returned
    assert survivors(marker) == []
    assert not any(folder.exists() for folder in cgroups)


def test_the_filter_refuses_its_system_calls(tmp_path: Path) -> None:
    calls = {
        name: pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) for name in seccomp.DENIED
    }
    clone = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "clone")
    calls["clone3"] = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "clone3")
    seen = run_job(tmp_path, "syscalls", {"calls": calls, "clone": clone}).observed()
    for name in seccomp.DENIED:
        assert seen[name] == "EPERM", name
    assert seen["clone3"] == "ENOSYS"  # so that glibc falls back to clone, whose flags are read
    assert seen["clone(CLONE_NEWUSER)"] == "EPERM"
    for family in ("AF_INET", "AF_INET6", "AF_PACKET", "AF_NETLINK"):
        assert seen[f"socket({family})"] == "EPERM"
    assert (seen["socket(AF_UNIX)"], seen["fork"], seen["thread"]) == ("ok", 7, "ok")


# --- the contract a well-behaved job relies on -----------------------------------------------


SALES = pa.table({"town": ["a", "b", "a", "a", "c"], "amount": [5, 4, 3, 1, 2]})


def test_a_job_reads_its_inputs_and_writes_every_kind_of_output(tmp_path: Path) -> None:
    reported: list[tuple[float, str]] = []
    ran = run_job(
        tmp_path,
        "happy",
        {"factor": 10},
        inputs={"sales": SALES},
        progress=lambda fraction, stage: reported.append((fraction, stage)),
    )
    assert ran.outcome.status == "ok", ran.outcome
    assert ran.outcome.exit_code == 0 and ran.outcome.reason == "the job finished"
    assert ran.outcome.log == "read 5 rows\n"  # control lines are not log
    manifest = json.loads((ran.output / "manifest.json").read_text())
    assert manifest == {
        "outputs": [
            {"name": "scaled", "kind": "table", "file": "tables/scaled.parquet", "rows": 5},
            {
                "name": "by_town",
                "kind": "statistics",
                "file": "statistics/by_town.parquet",
                "rows": 3,
            },
            {"name": "metrics", "kind": "metrics", "file": "metrics.json"},
            {"name": "report", "kind": "report", "file": "report.md"},
            {"name": "model", "kind": "model", "file": "model.bin"},
        ],
        "harness": "yaosu-harness/1",
    }
    scaled = pq.read_table(ran.output / "tables" / "scaled.parquet")
    assert scaled.column("scaled").to_pylist() == [50, 40, 30, 10, 20]
    statistics = pq.read_table(ran.output / "statistics" / "by_town.parquet").to_pylist()
    assert statistics == [
        {"town": "a", "amount": 9, "_n": 3, "_max1": 5, "_max2": 3, "_total": 9},
        {"town": "b", "amount": 4, "_n": 1, "_max1": 4, "_max2": 0, "_total": 4},
        {"town": "c", "amount": 2, "_n": 1, "_max1": 2, "_max2": 0, "_total": 2},
    ]
    assert json.loads((ran.output / "metrics.json").read_text()) == {"rows": 5, "mean": 3.0}
    assert (ran.output / "report.md").read_text() == '# Sales\n\n{"factor": 10}'
    assert (ran.output / "model.bin").read_bytes() == b"\x00model"
    assert ran.outcome.output_bytes == sum(
        f.stat().st_size for f in ran.output.rglob("*") if f.is_file()
    )
    assert reported and reported[-1] == (1.0, "done")
    assert set(reported) <= {(0.25, "reading"), (1.0, "done")}


def test_a_raising_heartbeat_kills_the_job(tmp_path: Path, cgroups: list[Path]) -> None:
    beats: list[float] = []

    class Cancelled(Exception):
        pass

    def heartbeat(elapsed: float) -> None:
        beats.append(elapsed)
        if len(beats) == 2:
            raise Cancelled

    unique = f"sleep_forever_{uuid.uuid4().hex[:8]}"
    with pytest.raises(Cancelled):
        run_job(tmp_path, "sleep_forever", heartbeat=heartbeat, unique=unique)
    assert beats[0] > 0 and beats[1] > beats[0]
    assert survivors(f"{unique}:run") == []
    assert cgroups and not any(folder.exists() for folder in cgroups)


@pytest.mark.parametrize(
    ("mode", "status", "exit_code", "says"),
    [
        ("raise", "failed", 1, "ValueError: the forecast diverged"),
        ("exit", "failed", 1, "SystemExit"),
        ("kind", "failed", 2, "unknown output kind(s) charts"),
        ("name", "failed", 2, "tables name '../escape' is not allowed"),
        ("statistics", "failed", 2, "statistics by_town has no _n column"),
        ("type", "failed", 2, "a is list; return a pyarrow Table or a DataFrame"),
        ("metric", "failed", 2, "metric nan is nan; return a finite number"),
        ("none", "failed", 2, "the entry returned NoneType; return a dict of outputs"),
    ],
)
def test_a_job_that_breaks_the_contract_fails_clearly(
    tmp_path: Path, mode: str, status: str, exit_code: int, says: str
) -> None:
    ran = run_job(tmp_path, "misbehaves", {"mode": mode})
    assert (ran.outcome.status, ran.outcome.exit_code) == (status, exit_code), ran.outcome
    assert says in ran.outcome.log
    assert list(ran.output.iterdir()) == []


def test_a_sandbox_that_cannot_start_the_harness_is_a_sandbox_error(tmp_path: Path) -> None:
    broken = replace(default_runtime(), python=Path("/nonexistent/bin/python"))
    ran = run_job(tmp_path, "empty", runtime=broken)
    assert ran.outcome.status == "sandbox_error", ran.outcome
    assert "execvp /nonexistent/bin/python" in ran.outcome.log


def test_a_malformed_spec_is_the_callers_bug(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    spec = Spec(default_runtime(), folder, folder, folder, "empty:run", {})
    with pytest.raises(ValueError, match="not module:function"):
        RUNNER.run(replace(spec, entry="empty"))
    with pytest.raises(ValueError, match="not JSON"):
        RUNNER.run(replace(spec, params={"x": float("nan")}))
    (folder / "left").write_text("over")
    with pytest.raises(ValueError, match="not empty"):
        RUNNER.run(spec)
    with pytest.raises(ValueError, match="positive"):
        Limits(processes=0)


def test_root_without_cgroups_is_not_available(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root needs cgroups")
    reason = Bubblewrap(cgroups=tmp_path).available()
    assert reason is not None and "RLIMIT_NPROC does not bind root" in reason


def test_the_default_runtime_pins_its_packages() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    runtime = sandbox.RUNTIMES[f"python{version}-scientific"]()
    assert {"python", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn"} <= set(
        runtime.packages
    )
    assert runtime.python.exists()
    assert len(runtime.fingerprint()) == 64
    assert sandbox.RUNNERS["bubblewrap"]().name == "bubblewrap"


def test_the_host_postgresql_is_really_there_to_be_refused() -> None:
    """The network tests above mean something only if the host can reach what the job cannot."""
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
    except OSError:
        pytest.skip("no PostgreSQL on this host's loopback")
