"""Checkpoints, witnesses, exports and in-place checks: the log's public face.

Service functions, no HTTP. The log signs with the key in ``settings.audit_key_path``
(outside the database); regulators co-sign with their own keys, which never reach
the platform: only their verifier keys are registered here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.audit import log
from yaosu.audit.keys import Signer, load_or_create
from yaosu.audit.models import AuditEntry, Checkpoint, Cosignature, Witness
from yaosu.audit.service import record
from yaosu.audit.verify import (
    COSIGNATURE,
    EXPORT_FORMAT,
    VerificationError,
    Verifier,
    first_bad_entry,
    leaf_hash,
    verify_consistency,
    verify_log,
)
from yaosu.audit.verify import (
    Checkpoint as Note,
)
from yaosu.authorization.policy import Resource, enforce
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import Conflict, InvalidInput, LogCorrupt, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings


def log_signer(settings: Settings) -> Signer:
    return load_or_create(settings.audit_key_path, settings.audit_origin)


# --- checkpoints ---------------------------------------------------------------------------


def make_checkpoint(session: Session, *, signer: Signer) -> Checkpoint | None:
    """Signs the log at its current size (None while empty). Before signing, the stored
    tree must still match the last checkpoint: a log never signs a fork of itself."""
    state = log.lock_state(session)
    if state.size == 0:
        return None
    existing = session.get(Checkpoint, state.size)
    if existing is not None:
        return existing
    edge = [bytes.fromhex(h) for h in state.frontier]
    root = edge[-1]
    for left in reversed(edge[:-1]):
        root = log.node_hash(left, root)
    if log.root(session, tree_size=state.size) != root:
        raise LogCorrupt(problem="the stored tree disagrees with its right edge")
    previous = log.latest_checkpoint(session)
    if previous is not None:
        proof = log.consistency_proof(session, old=previous.size, new=state.size)
        try:
            verify_consistency(previous.size, state.size, proof, bytes.fromhex(previous.root), root)
        except VerificationError as exc:
            raise LogCorrupt(
                problem=f"not consistent with checkpoint {previous.size}: {exc}"
            ) from exc
    body = log.checkpoint_body(signer.name, state.size, root)
    checkpoint = Checkpoint(size=state.size, root=root.hex(), note=f"{body}\n{signer.sign(body)}\n")
    session.add(checkpoint)
    session.flush()
    return checkpoint


def get_checkpoint(session: Session, *, size: int | None = None) -> Checkpoint:
    found = (
        log.latest_checkpoint(session)
        if size is None
        else log.checkpoint_at(session, tree_size=size)
    )
    if found is None:
        raise NotFound(kind=_("Checkpoint"), id=str(size if size is not None else "latest"))
    return found


def list_checkpoints(
    session: Session, *, limit: int = 50, offset: int = 0
) -> tuple[list[Checkpoint], int]:
    total = session.scalar(select(func.count()).select_from(Checkpoint)) or 0
    rows = session.scalars(
        select(Checkpoint).order_by(Checkpoint.size.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


# --- proofs at a stated checkpoint ---------------------------------------------------------


@dataclass
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: Checkpoint


def prove_inclusion(
    session: Session, actor: Actor, *, index: int, size: int | None
) -> InclusionProof:
    """Proof that entry ``index`` is in the checkpoint of ``size`` (default: the latest).
    Always against a signed checkpoint's size, never against a moving "current" size."""
    entry = session.scalar(select(AuditEntry).where(AuditEntry.leaf_index == index))
    if entry is None:
        raise NotFound(kind=_("Audit entry"), id=str(index))
    enforce(actor, "audit.view", Resource("audit", str(index), None, _about(entry)))
    checkpoint = get_checkpoint(session, size=size)
    if index >= checkpoint.size:
        raise InvalidInput(
            problem=_("entry {index} is after checkpoint {size}", index=index, size=checkpoint.size)
        )
    leaf = leaf_hash(log.canonical(entry))
    return InclusionProof(
        index,
        checkpoint.size,
        leaf,
        log.inclusion_proof(session, index=index, tree_size=checkpoint.size),
        checkpoint,
    )


def entry_proof(session: Session, *, index: int) -> tuple[bytes, list[bytes], str] | None:
    """For a document that cites its own log entry (a transaction certificate): the entry's
    canonical bytes, its inclusion proof and the latest signed checkpoint's note; None until
    a checkpoint covers it. No decision here: the caller decided who may see the document."""
    latest = log.latest_checkpoint(session)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.leaf_index == index))
    if latest is None or entry is None or latest.size <= index:
        return None
    proof = log.inclusion_proof(session, index=index, tree_size=latest.size)
    return log.canonical(entry), proof, latest.note


def prove_consistency(
    session: Session, *, old: int, new: int
) -> tuple[list[bytes], Checkpoint, Checkpoint]:
    first, second = get_checkpoint(session, size=old), get_checkpoint(session, size=new)
    if old > new:
        raise InvalidInput(
            problem=_("{old} > {new}: the old size must not exceed the new", old=old, new=new)
        )
    proof = [] if old == new else log.consistency_proof(session, old=old, new=new)
    return proof, first, second


def _about(entry: object) -> dict[str, str | None]:
    return {
        "actor_org_id": getattr(entry, "actor_org_id", None),
        "object_org_id": getattr(entry, "object_org_id", None),
    }


# --- witnesses -----------------------------------------------------------------------------


def register_witness(session: Session, actor: Actor, *, vkey: str) -> Witness:
    enforce(actor, "audit.witness", Resource("organisation", actor.org_id or "?", actor.org_id))
    try:
        verifier = Verifier.parse(vkey)
    except VerificationError as exc:
        raise InvalidInput(problem=_("invalid witness key: {exc}", exc=exc)) from exc
    if verifier.kind != COSIGNATURE:
        raise InvalidInput(problem=_("a witness key has type 0x04"))
    if session.scalar(select(Witness.id).where(Witness.name == verifier.name)):
        raise Conflict(what=_("Witness name"), value=verifier.name)
    witness = Witness(
        id=new_id("wit"), org_id=actor.org_id or "", name=verifier.name, vkey=str(verifier)
    )
    session.add(witness)
    session.flush()
    record(
        session,
        actor,
        action="audit.witness.register",
        object_type="witness",
        object_id=witness.id,
        object_org_id=actor.org_id,
        request={"vkey": witness.vkey},
    )
    return witness


def list_witnesses(session: Session) -> list[Witness]:
    return list(session.scalars(select(Witness).order_by(Witness.created_at)))


def cosigners(session: Session, *, sizes: Iterable[int]) -> dict[int, set[str]]:
    """The witnesses (ids) that cosigned each of these checkpoints."""
    out: dict[int, set[str]] = {size: set() for size in sizes}
    rows = select(Cosignature.checkpoint_size, Cosignature.witness_id).where(
        Cosignature.checkpoint_size.in_(sorted(out))
    )
    for size, witness_id in session.execute(rows):
        out[size].add(witness_id)
    return out


def cosign(session: Session, actor: Actor, *, size: int, line: str) -> Checkpoint:
    """Adds a regulator's cosignature to checkpoint ``size``, after checking it and checking
    that the log is consistent with the last checkpoint this witness signed."""
    enforce(actor, "audit.witness", Resource("organisation", actor.org_id or "?", actor.org_id))
    checkpoint = get_checkpoint(session, size=size)
    note = Note.parse(checkpoint.note)
    name = line.removeprefix("— ").split(" ")[0]
    witness = session.scalar(
        select(Witness).where(Witness.name == name, Witness.org_id == actor.org_id)
    )
    if witness is None:
        raise NotFound(kind=_("Witness"), id=name)
    try:
        stamp = Verifier.parse(witness.vkey).check(note.body, line)
    except VerificationError as exc:
        raise InvalidInput(problem=_("the cosignature does not verify: {exc}", exc=exc)) from exc
    if stamp is None:
        raise InvalidInput(problem=_("not signed by the registered witness key"))
    last = session.scalar(
        select(func.max(Cosignature.checkpoint_size)).where(Cosignature.witness_id == witness.id)
    )
    if last is not None and last > size:
        raise InvalidInput(problem=_("the witness already cosigned {last}", last=last))
    if last is not None and last < size:
        earlier = get_checkpoint(session, size=last)
        proof = log.consistency_proof(session, old=last, new=size)
        try:
            verify_consistency(
                last, size, proof, bytes.fromhex(earlier.root), bytes.fromhex(checkpoint.root)
            )
        except VerificationError as exc:
            raise LogCorrupt(problem=f"checkpoint {size} is not consistent with {last}") from exc
    if session.get(Cosignature, (size, witness.id)) is None:
        session.add(
            Cosignature(checkpoint_size=size, witness_id=witness.id, line=line, signed_at=stamp)
        )
        checkpoint.note = checkpoint.note + line + "\n"
        record(
            session,
            actor,
            action="audit.cosign",
            object_type="checkpoint",
            object_id=str(size),
            object_org_id=actor.org_id,
            request={"size": size, "witness": witness.name},
        )
    return checkpoint


# --- export and in-place check -------------------------------------------------------------


def export_lines(session: Session, *, origin: str) -> Iterator[bytes]:
    """The whole log as a self-contained file for the offline verifier."""
    size = log.size(session)
    header = {
        "format": EXPORT_FORMAT,
        "origin": origin,
        "size": size,
        "exported_at": utcnow().isoformat(),
    }
    yield json.dumps(header).encode() + b"\n"
    for checkpoint in session.scalars(select(Checkpoint).order_by(Checkpoint.size)):
        yield json.dumps({"checkpoint": checkpoint.note}, ensure_ascii=False).encode() + b"\n"
    chunk: list[str] = []
    start = 0
    for _skip, leaf in log.iter_leaves(session):
        chunk.append(leaf.hex())
        if len(chunk) == 10000:
            yield json.dumps({"leaves": chunk, "start": start}).encode() + b"\n"
            start += len(chunk)
            chunk = []
    if chunk:
        yield json.dumps({"leaves": chunk, "start": start}).encode() + b"\n"
    for entry in log.iter_entries(session):
        yield (
            b'{"entry":'
            + log.canonical(entry)
            + b',"index":'
            + str(entry.leaf_index).encode()
            + b"}\n"
        )


@dataclass
class CheckResult:
    ok: bool
    size: int
    signed_size: int
    message: str
    index: int | None = None
    kind: str | None = None


def check(session: Session, *, settings: Settings) -> CheckResult:
    """The live database against the signed checkpoints and its own tree: finds rows edited,
    deleted, reordered or inserted behind the application's back."""
    size = log.size(session)
    notes = [c.note for c in session.scalars(select(Checkpoint).order_by(Checkpoint.size))]
    tree = [leaf for _skip, leaf in log.iter_leaves(session)]
    rows = [(e.leaf_index, leaf_hash(log.canonical(e))) for e in log.iter_entries(session)]
    try:
        report = verify_log(notes, tree, rows, log_signer(settings).verifier())
        # Entries after the last checkpoint are not signed yet: check them against the tree.
        if len(tree) != size:
            raise VerificationError(
                f"the tree has {len(tree)} leaves but the log {size}",
                index=min(len(tree), size),
                kind="deleted",
            )
        bad = first_bad_entry(rows, tree)
        if bad is None and any(i >= size for i, _skip in rows):
            bad = (min(i for i, _skip in rows if i >= size), "inserted")
        if bad is not None:
            raise VerificationError(f"entry {bad[0]} was {bad[1]}", index=bad[0], kind=bad[1])
    except VerificationError as exc:
        return CheckResult(False, size, 0, str(exc), exc.index, exc.kind)
    return CheckResult(
        True, size, report.signed_size, f"{size} entries intact; signed up to {report.signed_size}"
    )
