"""Key files: created once, atomically, whoever asks first.

Every secret key Yaosu keeps on disk (the audit log's signing key, the certificate key,
witness keys, pseudonym keys) is created through ``read_or_create``. Many requests or
processes may want a key at the same first moment: each writes a complete candidate to its
own private temporary file, fsyncs it and hard-links it into place. The link is atomic and
refused when a key is already there, so exactly one candidate wins, nobody ever reads a
half-written key, and the losers read the winner's.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The text of the key file at ``path``; ``make()`` gives the text of a new key the first
    time (the file is mode 0600, in a folder created 0700)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(make())
                fh.flush()
                os.fsync(fh.fileno())
            os.link(candidate, path)
        except FileExistsError:
            pass  # another creator won; its key is read below
        finally:
            candidate.unlink(missing_ok=True)
    return path.read_text(encoding="ascii")
