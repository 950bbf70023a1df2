"""An export file someone hands the console: checked by the offline verifier's own functions
(``audit.verify``: the same code ``yaosu audit verify`` runs), never by a copy of them. What it
finds is said in words; a file that is no export at all is a clear error, not a verdict."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from yaosu.audit import verify
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _

# Larger logs are verified where they belong, offline: ``yaosu audit verify FILE --key KEY``.
MAX_BYTES = 256 * 1024 * 1024


@dataclass
class Witnessed:
    name: str
    cosigned: list[int]  # the sizes of the checkpoints it cosigned


@dataclass
class Verdict:
    ok: bool
    entries: int = 0
    checkpoints: list[int] = field(default_factory=list)
    signed_size: int = 0
    witnesses: list[Witnessed] = field(default_factory=list)
    problem: str = ""  # the verifier's own words (English: it depends on nothing of Yaosu)
    index: int | None = None  # the first bad entry
    kind: str | None = None  # edited, deleted, reordered, inserted or rewritten


def parse_key(text: str, *, witness: bool = False) -> verify.Verifier:
    try:
        return verify.Verifier.parse(text)
    except verify.VerificationError as exc:
        problem = (
            _("a witness key is not a verifier key")
            if witness
            else _("the log key is not a verifier key")
        )
        raise InvalidInput(problem=problem) from exc


def check_file(
    source: IO[bytes],
    *,
    log_key: verify.Verifier,
    required: Iterable[verify.Verifier] = (),
    known: Iterable[verify.Verifier] = (),
) -> Verdict:
    """Reads the export, then verifies it: signatures (the log's and the ``required``
    witnesses' on every checkpoint), the tree against each signed root, each entry against its
    leaf. ``known`` witnesses are only reported: which checkpoints each of them cosigned."""
    size = source.seek(0, 2)
    if size > MAX_BYTES:
        raise too_large()
    source.seek(0)
    try:
        notes, tree, rows = verify.read_export(iter(source))
    except StopIteration as exc:
        raise InvalidInput(problem=_("the file is empty")) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(problem=_("the file is not an audit export: not JSON lines")) from exc
    except UNREADABLE as exc:
        raise unreadable() from exc
    try:
        report = verify.verify_log(notes, tree, rows, log_key, witnesses=list(required))
    except verify.VerificationError as exc:
        return Verdict(False, len(rows), problem=str(exc), index=exc.index, kind=exc.kind)
    except UNREADABLE as exc:  # a checkpoint that is not even text
        raise unreadable() from exc
    return Verdict(
        True,
        report.entries,
        report.checkpoints,
        report.signed_size,
        [Witnessed(w.name, _cosigned(notes, log_key, w)) for w in known],
    )


# What a file that is JSON but no export makes the reader raise.
UNREADABLE = (verify.VerificationError, ValueError, KeyError, TypeError, AttributeError, IndexError)


def unreadable() -> InvalidInput:
    return InvalidInput(
        problem=_("the file is not a readable Yaosu audit export: a line is missing or malformed")
    )


def too_large() -> InvalidInput:
    return InvalidInput(
        problem=_(
            "the file is larger than {limit} MiB: verify it on your own machine with "
            "yaosu audit verify",
            limit=MAX_BYTES // 2**20,
        )
    )


def _cosigned(notes: list[str], log_key: verify.Verifier, witness: verify.Verifier) -> list[int]:
    sizes = []
    for note in notes:
        checkpoint = verify.Checkpoint.parse(note)
        try:
            checkpoint.verify(log_key, [witness])
        except verify.VerificationError:
            continue
        sizes.append(checkpoint.size)
    return sorted(sizes)
