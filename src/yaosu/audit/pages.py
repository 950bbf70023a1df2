"""Console pages of the audit log, for regulators above all: search entries in words, open an
entry and check its inclusion proof in the browser (static/verify.js recomputes every hash and
signature from the data the page carries), the checkpoints and who cosigned them, the export
download, and a page that checks an uploaded export with the offline verifier."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from yaosu.audit import entries, files, log, transparency, words
from yaosu.audit.labels import ACTION
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, decide, enforce
from yaosu.console.render import render
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, YaosuError
from yaosu.kernel.i18n import _, label, labels, translations
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale
from yaosu.web.params import MAX_INT, PathIndex

router = APIRouter(include_in_schema=False)
PAGE = 50
BEIJING = ZoneInfo("Asia/Shanghai")
LOG = Resource("audit", "log", None)
# The export holds every entry: only who may see every entry (oversight) may take it.
EXPORT = Resource("audit", "export", None)


@router.get("/audit")
def audit_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    org: Annotated[str, Query(max_length=40)] = "",
    object_type: Annotated[str, Query(max_length=40)] = "",
    object_id: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    actor_id: Annotated[str, Query(max_length=64)] = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    enforce(actor, "audit.view", LOG)
    # The form's datetime-local fields carry no zone: they are the user's (Beijing) time.
    since, until = (
        t.replace(tzinfo=BEIJING) if t is not None and t.tzinfo is None else t
        for t in (since, until)
    )
    found = (
        words.object_ids(session, actor, object_type=object_type, text=object_id)
        if object_id.strip()
        else None
    )
    items, total = entries.list_entries(
        session,
        actor,
        limit=PAGE,
        offset=(page - 1) * PAGE,
        actor_id=actor_id or None,
        org_id=org or None,
        object_type=object_type or None,
        object_ids=found,
        action=action or None,
        since=since,
        until=until,
    )
    latest = log.latest_checkpoint(session)
    lang = locale(request)
    return render(
        request,
        actor,
        "audit.html",
        items=items,
        names=words.names_for(session, actor, entries=items),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        signed=latest.size if latest else 0,
        checkpoint=latest,
        orgs=words.org_names(session),
        types=sorted(
            {e.object_type for e in items} | set(words.NAMED_TYPES) | {object_type} - {""}
        ),
        actions=sorted(labels(ACTION), key=lambda code: label(ACTION, code).render(lang)),
        query={
            "org": org,
            "object_type": object_type,
            "object_id": object_id,
            "action": action,
            "actor_id": actor_id,
            "since": since.isoformat()[:16] if since else "",
            "until": until.isoformat()[:16] if until else "",
        },
        can={"audit.export": decide(actor, "audit.view", EXPORT).allowed},
    )


@router.get("/audit/entries/{index}")
def entry_page(
    index: PathIndex,
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    size: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Response:
    entry = entries.find_entry(session, actor, index=index)
    covering = [c for c in transparency.list_checkpoints(session, limit=50)[0] if c.size > index]
    proof = None
    if size is not None or covering:
        proof = transparency.prove_inclusion(session, actor, index=index, size=size)
    names = words.names_for(session, actor, entries=[entry])
    witnesses = transparency.list_witnesses(session)
    data: dict[str, Any] | None = None
    if proof is not None:
        data = {
            "index": proof.index,
            "size": proof.size,
            "leaf": log.canonical(entry).decode(),
            "proof": [h.hex() for h in proof.proof],
            "note": proof.checkpoint.note,
            "log_key": transparency.log_signer(ctx.settings).verifier_key(),
            "witness_keys": [
                {"name": w.name, "key": w.vkey, "org": names.orgs.get(w.org_id, w.org_id)}
                for w in witnesses
            ],
        }
    return render(
        request,
        actor,
        "audit_entry.html",
        entry=entry,
        names=names,
        proof=proof,
        data=data,
        covering=covering,
        canonical=log.canonical(entry).decode(),
        reason=_reason(entry.reason, locale(request)),
    )


def _reason(text: str, lang: str) -> str | None:
    """A reason is stored in English (the log is a record); a reason that was a message
    without parameters is its message id, so it reads in the user's language too."""
    translated = str(translations(lang).gettext(text)) if text else ""
    return translated if translated and (translated != text or lang == "en") else None


@router.get("/audit/checkpoints")
def checkpoints_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    enforce(actor, "audit.view", LOG)
    items, total = transparency.list_checkpoints(session, limit=PAGE, offset=(page - 1) * PAGE)
    return render(
        request,
        actor,
        "audit_checkpoints.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        witnesses=transparency.list_witnesses(session),
        cosigned=transparency.cosigners(session, sizes=[c.size for c in items]),
        orgs=words.org_names(session),
    )


@router.post("/audit/export")
def export(actor: PageActor, session: SessionDep, ctx: ContextDep) -> Response:
    """The file ``yaosu audit export`` writes, for who may see the whole log; the download is
    an access, audited with it. Written to a temp file inside the transaction (one snapshot;
    SQLite's write lock is not held while a slow client downloads)."""
    enforce(actor, "audit.view", EXPORT)
    size = log.size(session)
    record(
        session,
        actor,
        action="audit.export",
        object_type="audit",
        object_id="log",
        detail={"size": size},
    )
    path = ctx.store.temp_path(".ndjson")
    with path.open("wb") as fh:
        for line in transparency.export_lines(session, origin=ctx.settings.audit_origin):
            fh.write(line)
    return FileResponse(
        path,
        media_type="application/x-ndjson",
        filename=f"yaosu-audit-{size}.ndjson",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/audit/verify")
def verify_page(
    request: Request, actor: PageActor, session: SessionDep, ctx: ContextDep
) -> Response:
    enforce(actor, "audit.view", LOG)
    return _verify_form(request, actor, _known(session, ctx))


@router.post("/audit/verify")
async def verify_upload(request: Request, actor: PageActor, ctx: ContextDep) -> Response:
    """Checks an uploaded export with the offline verifier. The file is read in the thread
    pool, off the event loop; nothing is written."""
    enforce(actor, "audit.view", LOG)
    known = await run_in_threadpool(_with_session, ctx, _known, ctx)
    declared = int(request.headers.get("content-length") or 0)
    if declared > files.MAX_BYTES + 1024 * 1024:  # multipart framing adds a little
        return _verify_form(request, actor, known, error=files.too_large(), status=413)
    async with request.form(max_files=1, max_fields=20) as form:
        upload = form.get("file")
        key = str(form.get("key") or known["log_key"])
        required = [str(v) for v in form.getlist("witness")]
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput(problem=_("choose an export file to verify"))
            verdict = await run_in_threadpool(
                files.check_file,
                upload.file,
                log_key=files.parse_key(key),
                required=[files.parse_key(v, witness=True) for v in required],
                known=[files.parse_key(w.vkey, witness=True) for w in known["registered"]],
            )
        except YaosuError as exc:
            return _verify_form(request, actor, known, error=exc, status=exc.status, key=key)
    return _verify_form(
        request, actor, known, verdict=verdict, key=key, filename=upload.filename or ""
    )


def _with_session(ctx: Context, fn: Any, *args: Any) -> Any:
    with ctx.db.transaction() as session:
        return fn(session, *args)


def _known(session: Session, ctx: Context) -> dict[str, Any]:
    return {
        "log_key": transparency.log_signer(ctx.settings).verifier_key(),
        "registered": transparency.list_witnesses(session),
        "orgs": words.org_names(session),
    }


def _verify_form(
    request: Request,
    actor: Actor,
    known: dict[str, Any],
    *,
    verdict: files.Verdict | None = None,
    error: YaosuError | None = None,
    status: int = 200,
    key: str | None = None,
    filename: str = "",
) -> Response:
    return render(
        request,
        actor,
        "audit_verify.html",
        status=status,
        verdict=verdict,
        error=error.message(locale(request)) if error else None,
        key=key or known["log_key"],
        server_key=known["log_key"],
        witnesses=known["registered"],
        orgs=known["orgs"],
        filename=filename,
    )
