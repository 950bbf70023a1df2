"""Verify Yaosu's audit log offline: RFC 6962 hashes and proofs, C2SP signed notes, exports.

This module is the whole verifier a regulator needs. It depends on nothing but the
standard library and ``cryptography``, touches no database and no server, and is
meant to be read in one sitting. ``python -m yaosu.audit.verify EXPORT --key KEY``
runs it (``yaosu audit verify`` is the same thing).

Hashing (RFC 6962 section 2.1): leaf = SHA-256(0x00 || data), node = SHA-256(0x01 ||
left || right). Proof checks follow RFC 9162 section 2.1.3 and 2.1.4.2.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HASH_SIZE = 32
EXPORT_FORMAT = "yaosu-audit-export/1"
ED25519 = 0x01  # signed-note signature type of the log's own key
COSIGNATURE = 0x04  # c2sp.org/tlog-cosignature, timestamped Ed25519


class VerificationError(Exception):
    """Something does not verify. ``index`` names the first bad entry when known."""

    def __init__(self, message: str, *, index: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.kind = kind


# --- RFC 6962 hashing ----------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaves: Iterable[bytes]) -> bytes:
    """Merkle tree hash of leaf hashes, in one pass with a stack of perfect subtrees."""
    stack: list[tuple[int, bytes]] = []  # (height, hash)
    for h in leaves:
        height = 0
        while stack and stack[-1][0] == height:
            h = node_hash(stack.pop()[1], h)
            height += 1
        stack.append((height, h))
    if not stack:
        return hashlib.sha256(b"").digest()
    root = stack.pop()[1]
    while stack:
        root = node_hash(stack.pop()[1], root)
    return root


def roots_at(leaves: list[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """Roots of the prefixes of ``leaves`` at each size, in one pass."""
    wanted = sorted(set(sizes))
    out: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []
    position = 0
    for size in wanted:
        while position < size:
            h, height = leaves[position], 0
            while stack and stack[-1][0] == height:
                h = node_hash(stack.pop()[1], h)
                height += 1
            stack.append((height, h))
            position += 1
        root = stack[-1][1] if stack else hashlib.sha256(b"").digest()
        for _, h in reversed(stack[:-1]):
            root = node_hash(h, root)
        out[size] = root
    return out


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise VerificationError("hashes must be 32 bytes")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2; raises VerificationError unless ``leaf`` is at ``index`` under ``root``."""
    _check_hashes(leaf, root, *proof)
    if index >= size:
        raise VerificationError(f"index {index} is not below size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is too short")
    if r != root:
        raise VerificationError("inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 2.1.4.2; raises VerificationError unless tree ``size1`` is a prefix of ``size2``."""
    if size1 > size2:
        raise VerificationError(f"size {size1} is larger than {size2}")
    if size1 == size2:
        if proof or root1 != root2:
            raise VerificationError("equal sizes need equal roots and an empty proof")
        return
    if size1 == 0:
        if proof:
            raise VerificationError("no consistency proof exists from the empty tree")
        return
    _check_hashes(root1, root2, *proof)
    if not proof:
        raise VerificationError("consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is too short")
    if fr != root1 or sr != root2:
        raise VerificationError("consistency proof does not lead to both roots")


# --- C2SP signed notes and checkpoints -----------------------------------------------------


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A verifier key: ``<name>+<hex key id>+<base64(type || public key)>``."""

    name: str
    kind: int
    public: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        try:
            name, hex_id, material = text.strip().split("+", 2)  # base64 may hold "+"
            raw = base64.b64decode(material, validate=True)
        except ValueError as exc:
            raise VerificationError(f"not a verifier key: {text.strip()[:80]!r}") from exc
        verifier = cls(name, raw[0], raw[1:])
        if len(verifier.public) != 32 or verifier.kind not in (ED25519, COSIGNATURE):
            raise VerificationError("only Ed25519 (0x01) and cosignature (0x04) keys are supported")
        if key_id(name, verifier.kind, verifier.public).hex() != hex_id:
            raise VerificationError(f"verifier key {name}: key id does not match the key")
        return verifier

    def __str__(self) -> str:
        material = base64.b64encode(bytes([self.kind]) + self.public).decode()
        return f"{self.name}+{key_id(self.name, self.kind, self.public).hex()}+{material}"

    def check(self, body: str, line: str) -> int | None:
        """Checks one signature line on ``body``. Returns None for a line from another key,
        the cosignature timestamp (or 0) when it verifies, and raises when it does not."""
        try:
            name, blob = line.removeprefix("— ").split(" ")
            raw = base64.b64decode(blob, validate=True)
        except ValueError as exc:
            raise VerificationError(f"malformed signature line: {line[:80]!r}") from exc
        if name != self.name or raw[:4] != key_id(self.name, self.kind, self.public):
            return None
        timestamp, signature, message = 0, raw[4:], body.encode()
        if self.kind == COSIGNATURE:
            timestamp, signature = int.from_bytes(raw[4:12], "big"), raw[12:]
            message = f"cosignature/v1\ntime {timestamp}\n".encode() + message
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature as exc:
            raise VerificationError(f"bad signature by {self.name}") from exc
        return timestamp


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, note: str) -> Checkpoint:
        body, sep, sigs = note.rpartition("\n\n")
        if not sep or not note.endswith("\n"):
            raise VerificationError("a signed note needs a text, a blank line and signatures")
        lines = body.split("\n")
        try:
            origin, size_text, root_text = lines[0], lines[1], lines[2]
            size = int(size_text)
            root = base64.b64decode(root_text, validate=True)
        except (IndexError, ValueError) as exc:
            raise VerificationError("not a tlog checkpoint") from exc
        if size < 0 or str(size) != size_text or len(root) != HASH_SIZE or not origin:
            raise VerificationError("not a tlog checkpoint")
        return cls(origin, size, root, body + "\n", tuple(sigs.rstrip("\n").split("\n")))

    def verify(self, log: Verifier, witnesses: Iterable[Verifier] = ()) -> list[str]:
        """Checks the log's signature (required) and each given witness's cosignature
        (required when the witness is named); returns the names that signed."""
        signed = [log.name] if self._signed_by(log) else []
        if not signed:
            raise VerificationError(f"checkpoint {self.size} is not signed by {log.name}")
        for witness in witnesses:
            if not self._signed_by(witness):
                raise VerificationError(f"checkpoint {self.size} is not cosigned by {witness.name}")
            signed.append(witness.name)
        return signed

    def _signed_by(self, key: Verifier) -> bool:
        return any(key.check(self.body, line) is not None for line in self.signatures)


# --- exports -------------------------------------------------------------------------------


@dataclass
class Report:
    entries: int
    checkpoints: list[int]
    signed_size: int
    signers: dict[int, list[str]]


def read_export(
    lines: Iterator[bytes],
) -> tuple[list[str], list[bytes], list[tuple[int, bytes]]]:
    """(checkpoint notes, the tree's recorded leaf hashes, [(entry index, its leaf hash)])."""
    header = json.loads(next(lines))
    if header.get("format") != EXPORT_FORMAT:
        raise VerificationError(f"not a {EXPORT_FORMAT} file")
    notes: list[str] = []
    tree: list[bytes] = []
    rows: list[tuple[int, bytes]] = []
    for line in lines:
        line = line.rstrip(b"\n")
        if line.startswith(b'{"checkpoint":'):
            notes.append(json.loads(line)["checkpoint"])
        elif line.startswith(b'{"leaves":'):
            chunk = json.loads(line)
            if chunk["start"] != len(tree):
                raise VerificationError("the export's leaf hashes are out of order")
            tree.extend(bytes.fromhex(h) for h in chunk["leaves"])
        elif line.startswith(b'{"entry":'):
            # The entry's canonical bytes are kept verbatim: what was hashed is what is checked.
            cut = line.rfind(b',"index":')
            index = int(json.loads(b"{" + line[cut + 1 :])["index"])
            rows.append((index, leaf_hash(line[9:cut])))
        elif line.strip():
            raise VerificationError(f"unexpected line in export: {line[:60]!r}")
    return notes, tree, rows


def verify_export(
    lines: Iterator[bytes],
    log: Verifier,
    *,
    witnesses: Iterable[Verifier] = (),
    since: Checkpoint | None = None,
) -> Report:
    return verify_log(*read_export(lines), log, witnesses=witnesses, since=since)


def verify_log(
    notes: list[str],
    recorded: list[bytes],
    rows: list[tuple[int, bytes]],
    log: Verifier,
    *,
    witnesses: Iterable[Verifier] = (),
    since: Checkpoint | None = None,
) -> Report:
    """Signatures, then the recorded tree against every signed root, then every entry
    against its recorded leaf. Raises VerificationError naming the first bad entry."""
    witnesses = list(witnesses)
    checkpoints = sorted((Checkpoint.parse(n) for n in notes), key=lambda c: c.size)
    signers = {c.size: c.verify(log, witnesses) for c in checkpoints}
    if since is not None:
        since.verify(log)
    size = max([c.size for c in checkpoints] + [0])
    if len(recorded) < size:
        raise VerificationError(
            f"the log records {len(recorded)} leaves but signed {size}",
            index=len(recorded),
            kind="deleted",
        )
    tree = recorded[:size]
    # 1. The recorded tree must match every signed checkpoint (and an older one we kept).
    kept = [since] if since else []
    roots = roots_at(tree, [c.size for c in [*checkpoints, *kept]])
    for c in [*checkpoints, *kept]:
        if roots[c.size] != c.root:
            earlier = max([p.size for p in checkpoints if p.size < c.size] + [0])
            raise VerificationError(
                f"the log's hashes do not match the signed checkpoint of size {c.size}: "
                f"entries between {earlier} and {c.size - 1} were changed and their tree "
                "hashes rewritten",
                index=earlier,
                kind="rewritten",
            )
    # 2. With the tree trusted, every entry must hash to its recorded leaf, in its place.
    first = first_bad_entry(rows, tree)
    if first is not None:
        index, kind = first
        raise VerificationError(f"entry {index} was {kind}", index=index, kind=kind)
    return Report(len(rows), [c.size for c in checkpoints], size, signers)


def first_bad_entry(rows: list[tuple[int, bytes]], tree: list[bytes]) -> tuple[int, str] | None:
    """The lowest signed index whose entry is not the one the tree recorded, and why."""
    by_index: dict[int, list[bytes]] = {}
    for index, h in rows:
        by_index.setdefault(index, []).append(h)
    present = {h for hashes in by_index.values() for h in hashes}
    signed = set(tree)
    for i, expected in enumerate(tree):
        got = by_index.get(i, [])
        if got == [expected]:
            continue
        if len(got) > 1:
            return i, "inserted"
        moved = expected in present  # the right entry still exists, somewhere else
        if not got:
            return i, "reordered" if moved else "deleted"
        known = got[0] in signed  # what sits here is some other signed entry
        if known:
            return i, "reordered" if moved else "deleted"
        return i, "inserted" if moved else "edited"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yaosu audit verify", description=__doc__.split("\n")[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--key", required=True, help="the log's verifier key, or a file holding it")
    parser.add_argument(
        "--witness", action="append", default=[], help="a witness verifier key (repeatable)"
    )
    parser.add_argument("--since", type=Path, help="a checkpoint note you kept from before")
    args = parser.parse_args(argv)

    def key(text: str) -> Verifier:
        path = Path(text)
        return Verifier.parse(path.read_text() if path.is_file() else text)

    try:
        since = Checkpoint.parse(args.since.read_text(encoding="utf-8")) if args.since else None
        with args.export.open("rb") as fh:
            report = verify_export(
                iter(fh), key(args.key), witnesses=[key(w) for w in args.witness], since=since
            )
    except VerificationError as exc:
        where = f" (first bad entry: {exc.index}, {exc.kind})" if exc.index is not None else ""
        print(f"FAILED: {exc}{where}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, StopIteration) as exc:  # unreadable or not an export
        print(f"FAILED: cannot read the export: {exc!r}", file=sys.stderr)
        return 1
    print(
        f"OK: {report.entries} entries; checkpoints {report.checkpoints} verify; "
        f"the log up to size {report.signed_size} is intact"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
