"""Content-addressed object store on the local file system.

An object is named by the SHA-256 of its bytes and never changes. Writers fill a
temporary file under ``tmp/`` and ``put`` moves it into place with an atomic
rename, so a reader never sees half a file and a crash leaves at most an orphan
in ``tmp/`` (or an unreferenced object), never a row pointing at a missing file.

Writers that may be killed mid-way (uploads, ingest) use ``locked_temp``: the file is held
under an exclusive ``flock`` for as long as its writer lives, so the sweep at every start-up
removes the ones whose writer died, at once, and never one that a live process (another
server, a CLI ingest) is still writing. The kernel drops the lock when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 4 * 1024 * 1024
LOCKED_PREFIX = "locked-"  # temp files whose writer holds a flock while it lives


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.tmp = root / "tmp"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def temp_path(self, suffix: str = "") -> Path:
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix)
        os.close(fd)
        return Path(name)

    @contextmanager
    def locked_temp(self, suffix: str = "") -> Iterator[Path]:
        """A temp file held under an exclusive lock until the block ends, then removed (unless
        ``put`` moved it into the store meanwhile)."""
        while True:
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix=LOCKED_PREFIX, suffix=suffix)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A sweeper may have locked and removed it between mkstemp and flock: start over.
            with contextlib.suppress(FileNotFoundError):
                if os.stat(name).st_ino == os.fstat(fd).st_ino:
                    break
            os.close(fd)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)  # while still locked: no sweeper can race us
            os.close(fd)

    def path(self, sha256: str, suffix: str = ".parquet") -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.objects / sha256[:2] / f"{sha256}{suffix}"

    def put(self, temp: Path, sha256: str | None = None, suffix: str = ".parquet") -> str:
        """Move a finished temp file into the store; returns its SHA-256. Idempotent."""
        digest = sha256 or sha256_file(temp)
        target = self.path(digest, suffix)
        if target.exists():
            temp.unlink(missing_ok=True)  # stored once: identical content is already there
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(temp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return digest

    def sweep_tmp(self, *, older_than_seconds: float = 24 * 3600) -> int:
        """Delete temp files a crashed writer left behind: a locked temp file as soon as no
        live process holds its lock, any other one when it is older than the age given (so
        one that another live process is still writing is never touched)."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for item in self.tmp.iterdir():
            try:
                if not item.is_file():
                    continue
                if item.name.startswith(LOCKED_PREFIX):
                    removed += _remove_if_abandoned(item)
                elif item.stat().st_mtime < cutoff:
                    item.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def exists(self, sha256: str, suffix: str = ".parquet") -> bool:
        return self.path(sha256, suffix).exists()


def _remove_if_abandoned(item: Path) -> int:
    """Remove ``item`` when its lock can be taken (its writer is gone); 1 if removed."""
    try:
        fd = os.open(item, os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # a live writer holds it
        if os.stat(item).st_ino != os.fstat(fd).st_ino:
            return 0  # replaced since we opened it
        item.unlink()
        return 1
    finally:
        os.close(fd)
