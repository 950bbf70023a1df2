"""Pieces every reader shares: column-name checks, hashing reader, progress."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from yaosu.kernel.errors import DuplicateColumns, EmptyColumnName

Progress = Callable[[int], None]  # called with bytes read so far


def check_column_names(names: Sequence[Any]) -> list[str]:
    """Strip names; refuse empty and duplicate ones rather than invent names for them."""
    cleaned = ["" if n is None else str(n).strip() for n in names]
    for position, name in enumerate(cleaned, start=1):
        if not name:
            raise EmptyColumnName(position=position)
    dupes = [n for n, c in Counter(cleaned).items() if c > 1]
    if dupes:
        raise DuplicateColumns(names="、".join(dupes))
    return cleaned


class HashingReader(io.RawIOBase):
    """A file wrapper that hashes and counts every byte a reader pulls through it."""

    def __init__(
        self, raw: io.BufferedReader, progress: Progress | None = None, *, hashing: bool = True
    ) -> None:
        self.raw = raw
        self.hashing = hashing
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.progress = progress

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if data:
            if self.hashing:
                self.sha256.update(data)
            self.bytes_read += len(data)
            if self.progress:
                self.progress(self.bytes_read)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Hash whatever the reader did not consume (it may stop early)."""
        while self.read(4 * 1024 * 1024):
            pass
