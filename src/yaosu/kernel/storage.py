"""Content-addressed object store on the local file system.

An object is named by the SHA-256 of its bytes and never changes. Writers fill a
temporary file under ``tmp/`` and ``put`` moves it into place with an atomic
rename, so a reader never sees half a file and a crash leaves at most an orphan
in ``tmp/`` (or an unreferenced object), never a row pointing at a missing file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

CHUNK = 4 * 1024 * 1024


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
        """Delete temp files a crashed writer left behind. Age-gated, so a file that another
        live process is still writing is never touched."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for item in self.tmp.iterdir():
            try:
                if item.is_file() and item.stat().st_mtime < cutoff:
                    item.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def exists(self, sha256: str, suffix: str = ".parquet") -> bool:
        return self.path(sha256, suffix).exists()
