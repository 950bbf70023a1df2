"""Pieces every reader shares: column-name checks, hashing reader, progress."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from yaosu.catalog.ingest.errors import DuplicateColumns, EmptyColumnName, InvalidFilename

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


MAX_FILENAME = 200  # characters kept of an uploaded file's name
_FOLDERS = re.compile(r"^.*[/\\]")


def clean_filename(name: str) -> str:
    r"""The name a user gave a file, safe to store and show: no folders (of either
    separator), no control or format characters (NUL, line breaks, bidi overrides that make
    "gpj.exe" look like "exe.jpg"), NFC, at most ``MAX_FILENAME`` characters with the
    extension kept.

    >>> clean_filename("..\\..\\etc/报表\x00\u202e.csv"), clean_filename("  a\r\n.csv ")
    ('报表.csv', 'a.csv')
    >>> len(clean_filename("x" * 500 + ".xlsx")), clean_filename("x" * 500 + ".xlsx")[-5:]
    (200, '.xlsx')
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    name = _FOLDERS.sub("", name).strip().strip(".").strip()
    if not name:
        raise InvalidFilename()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 16 else ""
        name = (stem if ext else name)[: MAX_FILENAME - len(ext)] + ext
    return name


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
