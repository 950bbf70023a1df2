"""Screening a dataset version, grading it, and the provider's review of the result."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, decide, enforce
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, StillPersonal
from yaosu.kernel.i18n import Sentences, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.queue import Run, handler
from yaosu.privacy import anonymity, grading, security
from yaosu.privacy import deidentify as deid
from yaosu.privacy.detectors import SENSITIVE_CATEGORIES
from yaosu.privacy.exposure import confirmed_screen
from yaosu.privacy.models import Derivation, Screen
from yaosu.privacy.scan import Screen as Scan
from yaosu.privacy.scan import scan_table
from yaosu.tasks import service as tasks

FAST_SAMPLE = 20_000  # rows a fast screen reads, drawn at random across the whole version
Progress = Callable[[float, str], None]


def _quiet(fraction: float, stage: str) -> None:
    """The progress callback of work nobody is watching."""


def runs_in_background(settings: Settings, rows: int, mode: str = "full") -> bool:
    """A full scan or a de-identification of a large version runs as a background job; a
    fast screen reads at most FAST_SAMPLE rows and always runs at once."""
    return mode == "full" and rows > settings.background_rows


def _read(store: ObjectStore, sha256: str, total: int, mode: str) -> pa.Table:
    data = pads.dataset(store.path(sha256), format="parquet")
    if mode == "fast" and total > FAST_SAMPLE:
        rows = sorted(random.Random(sha256).sample(range(total), FAST_SAMPLE))
        return data.take(rows)
    return data.to_table()


@dataclass(frozen=True)
class Derived:
    """What a derivation's re-screen must know to judge its result: the recipe, and the
    source's columns that held personal information or pseudonyms (with their sensitive
    categories). Only made when the source was personal information."""

    recipe: deid.Recipe
    identifying: dict[str, list[str]]


def _assess(
    table: pa.Table,
    *,
    total: int,
    theme: str,
    settings: Settings,
    progress: Progress,
    derived: Derived | None = None,
    verdict: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a screen proposes for ``table``: findings, flags and grade (no database). For a
    derivation's result, ``derived`` judges it de-identified or anonymised; a later screen
    of that version carries the judgement on as ``verdict`` (a sample cannot re-measure k)."""
    scan = scan_table(table, progress=progress)
    if derived is not None:
        verdict = anonymity.assess(
            table,
            derived.recipe,
            scan,
            source_identifying=derived.identifying,
            k_required=settings.anon_k,
            l_required=settings.anon_l,
        ).as_dict()
    still_personal = verdict is not None and verdict["status"] == "deidentified"
    flags = security.flags(
        table, scan, total_rows=total, keywords_file=settings.security_keywords_file
    )
    carried = list(verdict["sensitive_categories"]) if verdict and still_personal else []
    graded = grading.grade(
        scan,
        total_rows=total,
        domain=theme,
        security_flags=flags,
        deidentified=carried if still_personal else None,
    )
    findings = scan.as_dict()
    # Attributes that single people out in combination (GB/T 37964): a recipe for personal
    # information is proposed k-anonymity on them.
    findings["quasi_identifiers"] = [c for c in table.column_names if anonymity.quasi_header(c)]
    if verdict is not None:
        findings["deidentification"] = verdict
        findings["personal_information"] = scan.personal or still_personal
    return {
        "rows_scanned": table.num_rows,
        "findings": findings,
        "personal": scan.personal or still_personal,
        "sensitive": sorted(set(scan.sensitive_categories) | set(carried)),
        "security_flags": flags,
        "grade": graded.grade,
        "grade_rule": graded.rule,
        "grade_factors": graded.factors,
    }


def _verdict_of(session: Session, dataset_id: str, number: int) -> dict[str, Any] | None:
    """The de-identified-or-anonymised judgement made when ``number`` was derived, if it was."""
    derived = session.scalar(
        select(Derivation.id).where(
            Derivation.dataset_id == dataset_id, Derivation.result_version == number
        )
    )
    if derived is None:
        return None
    screens = session.scalars(
        select(Screen)
        .where(Screen.dataset_id == dataset_id, Screen.version == number)
        .order_by(Screen.created_at)
    )
    for screen in screens:
        if "deidentification" in screen.findings:
            return dict(screen.findings["deidentification"])
    return None


def _identifying(screen: Screen | None, scan: Scan | None) -> tuple[bool, dict[str, list[str]]]:
    """(was the version personal information?, its columns holding personal information or
    pseudonyms, each with its sensitive categories), from its screen or, without one, from a
    scan of a sample."""
    findings = screen.findings if screen is not None else scan.as_dict() if scan else {}
    columns: dict[str, list[str]] = {}
    for column in findings.get("columns", []):
        found = [e for e in column["entities"] if e["personal"]]
        if found:
            columns[column["column"]] = sorted({e["sensitive"] for e in found if e["sensitive"]})
    earlier = findings.get("deidentification") or {}
    for name in earlier.get("residual_identifiers", []):
        columns.setdefault(name, list(earlier.get("sensitive_categories", [])))
    if screen is not None and screen.status == "confirmed":
        return screen.personal, columns  # the reviewer's word on the source stands
    said = screen.personal if screen is not None else findings.get("personal_information")
    return bool(said) or bool(columns), columns


def _save(
    session: Session, actor: Actor, ds: Any, number: int, mode: str, assessed: dict[str, Any]
) -> Screen:
    screen = Screen(
        id=new_id("scr"),
        dataset_id=ds.id,
        version=number,
        mode=mode,
        created_by=actor.id,
        **assessed,
    )
    session.add(screen)
    session.flush()
    record(
        session,
        actor,
        action="privacy.screen",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        request={"dataset_id": ds.id, "version": number, "mode": mode},
        detail={
            "screen": screen.id,
            "version": number,
            "personal": screen.personal,
            "grade": screen.grade,
            "flags": len(screen.security_flags),
        },
    )
    return screen


def _check_mode(mode: str) -> None:
    if mode not in ("fast", "full"):
        raise InvalidInput(problem=_("mode must be fast or full: {mode}", mode=mode))


def screen_version(
    session: Session,
    actor: Actor,
    *,
    store: ObjectStore,
    settings: Settings,
    dataset_id: str,
    number: int | None = None,
    mode: str = "fast",
    progress: Progress = _quiet,
) -> Screen:
    """Screens a version now, in the caller's transaction."""
    ds, version = _screenable(session, actor, dataset_id, number, mode)
    return _screen_now(session, store, settings, actor, ds, version, mode, progress)


def _screenable(
    session: Session, actor: Actor, dataset_id: str, number: int | None, mode: str
) -> tuple[Any, Any]:
    _check_mode(mode)
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    return ds, versions.get_version(session, actor, dataset_id=dataset_id, number=number)


def _screen_now(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    actor: Actor,
    ds: Any,
    version: Any,
    mode: str,
    progress: Progress = _quiet,
) -> Screen:
    table = _read(store, version.sha256, version.row_count, mode)
    assessed = _assess(
        table,
        total=version.row_count,
        theme=ds.theme,
        settings=settings,
        progress=progress,
        verdict=_verdict_of(session, ds.id, version.number),
    )
    return _save(session, actor, ds, version.number, mode, assessed)


def request_screen(
    session: Session,
    actor: Actor,
    *,
    store: ObjectStore,
    settings: Settings,
    dataset_id: str,
    number: int | None = None,
    mode: str = "fast",
) -> Screen | Task:
    """Screens a version at once, or queues a background task when it is large."""
    ds, version = _screenable(session, actor, dataset_id, number, mode)
    if runs_in_background(settings, version.row_count, mode):
        return tasks.enqueue(
            session,
            actor,
            kind="privacy.screen",
            params={"dataset_id": ds.id, "version": version.number, "mode": mode},
            object_type="dataset",
            object_id=ds.id,
            object_org_id=ds.owner_org_id,
        )
    return _screen_now(session, store, settings, actor, ds, version, mode)


@handler("privacy.screen")
def _screen_job(ctx: Context, actor: Actor, params: dict[str, Any], run: Run) -> dict[str, Any]:
    """The background screen: reads and scans outside any transaction, then records the
    screen and the task's completion together."""
    dataset_id, number, mode = params["dataset_id"], params["version"], params["mode"]
    with ctx.db.transaction() as session:
        ds, version = _screenable(session, actor, dataset_id, number, mode)
        sha256, total, theme = version.sha256, version.row_count, ds.theme
        verdict = _verdict_of(session, ds.id, version.number)
    run.progress(0.01, "读取 / reading")
    table = _read(ctx.store, sha256, total, mode)
    assessed = _assess(
        table,
        total=total,
        theme=theme,
        settings=ctx.settings,
        progress=lambda f, col: run.progress(0.05 + 0.9 * f, f"扫描 / scanning {col}"),
        verdict=verdict,
    )
    with ctx.db.transaction() as session:
        ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
        enforce(actor, "dataset.screen", catalog.resource(ds))  # the right may have changed
        screen = _save(session, actor, ds, number, mode, assessed)
        result = {
            "screen": screen.id,
            "dataset_id": ds.id,
            "version": number,
            "personal": screen.personal,
            "grade": screen.grade,
        }
        run.complete(session, result)
    return result


def _newest_screen(session: Session, dataset_id: str, number: int) -> Screen | None:
    """The version's confirmed screen, or else its newest proposal."""
    return (
        confirmed_screen(session, dataset_id=dataset_id, version=number)
        or session.scalars(
            select(Screen)
            .where(Screen.dataset_id == dataset_id, Screen.version == number)
            .order_by(Screen.created_at.desc())
            .limit(1)
        ).first()
    )


def get_screen(session: Session, actor: Actor, *, screen_id: str) -> Screen:
    screen = session.get(Screen, screen_id)
    if screen is None:
        raise NotFound(kind=_("Screen"), id=screen_id)
    ds = catalog.get_dataset(session, actor, dataset_id=screen.dataset_id)
    enforce(actor, "screen.view", screen_resource(session, ds=ds))
    return screen


def shown_findings(session: Session, actor: Actor, *, screen: Screen) -> dict[str, Any]:
    """A screen's findings as ``actor`` may see them. Anyone who may see the dataset may read
    its screens (whether it is personal information, its grade); the evidence (masked
    samples, where in the text) stays with those who may screen it."""
    ds = catalog.get_dataset(session, actor, dataset_id=screen.dataset_id)
    if decide(actor, "dataset.screen", catalog.resource(ds, screen.version)).allowed:
        return screen.findings
    columns = [
        {
            **column,
            "entities": [e | {"samples": [], "positions": []} for e in column["entities"]],
        }
        for column in screen.findings.get("columns", [])
    ]
    return {**screen.findings, "columns": columns}


# Who besides the provider and oversight must read a dataset's screens: the organisations
# reviewing a request for it. The authorization domain knows them and sits above this one, so
# it tells this module at import (``reviewers_from``) rather than being asked by it; until it
# has, there are none, and the rule refuses them (it fails closed).
_REVIEWERS: list[Callable[..., list[str]]] = []


def reviewers_from(source: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """Registers ``source(session, *, dataset_id)``: organisations that may read the dataset's
    screens to judge a request for it."""
    if source not in _REVIEWERS:
        _REVIEWERS.append(source)
    return source


def screen_resource(session: Session, *, ds: Any) -> Resource:
    """The dataset as ``screen.view`` sees it: with the organisations routed a pending review
    of a request for it, who must read its screen to judge."""
    base = catalog.resource(ds)
    orgs = sorted({org for source in _REVIEWERS for org in source(session, dataset_id=ds.id)})
    return Resource(base.type, base.id, base.owner_org_id, {**base.attrs, "reviewing_orgs": orgs})


def list_screens(session: Session, actor: Actor, *, dataset_id: str) -> list[Screen]:
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "screen.view", screen_resource(session, ds=ds))
    stmt = select(Screen).where(Screen.dataset_id == ds.id).order_by(Screen.created_at.desc())
    return list(session.scalars(stmt))


# A reviewer's word on one column: "no" (not personal), "personal" (personal, not
# sensitive), or the sensitive category it falls in.
COLUMN_CHOICES = ("no", "personal", *SENSITIVE_CATEGORIES)


def _column_state(column: dict[str, Any]) -> dict[str, Any]:
    """What a screened column says now: personal or not, and its sensitive category."""
    found = [e for e in column["entities"] if e["personal"]]
    sensitive = sorted({e["sensitive"] for e in found if e.get("sensitive")})
    return {"personal": bool(found), "sensitive": sensitive[0] if sensitive else None}


def _correct_columns(
    findings: dict[str, Any], choices: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The findings with the reviewer's per-column choices applied (each entity of a corrected
    column takes the column's new flag and category, and keeps what the scan proposed), and
    the corrections made: [{column, from, to}], confirmations left out."""
    problems = []
    screened = {c["column"]: c for c in findings.get("columns", [])}
    for name, wanted in choices.items():
        if name not in screened:
            problems.append(_("the screen found nothing in a column {name}", name=repr(name)))
        elif wanted not in COLUMN_CHOICES:
            problems.append(
                _("{name}: the choice must be one of {choices}", name=name, choices=COLUMN_CHOICES)
            )
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    corrections: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    for column in findings.get("columns", []):
        choice: str | None = choices.get(column["column"])
        if choice is None:
            columns.append(column)
            continue
        was = _column_state(column)
        now = {
            "personal": choice != "no",
            "sensitive": choice if choice in SENSITIVE_CATEGORIES else None,
        }
        if now == was:
            columns.append(column)
            continue
        corrections.append({"column": column["column"], "from": was, "to": now})
        entities = [
            {
                **e,
                "personal": now["personal"],
                "sensitive": now["sensitive"],
                "proposed": e.get("proposed")
                or {"personal": e["personal"], "sensitive": e.get("sensitive")},
            }
            for e in column["entities"]
        ]
        columns.append({**column, "entities": entities, "reviewed": now})
    personal = any(e["personal"] for c in columns for e in c["entities"])
    sensitive = sorted(
        {e["sensitive"] for c in columns for e in c["entities"] if e["personal"] and e["sensitive"]}
    )
    updated = {
        **findings,
        "columns": columns,
        "personal_information": personal,
        "sensitive_categories": sensitive,
    }
    return updated, corrections


def review(
    session: Session,
    actor: Actor,
    *,
    screen_id: str,
    personal: bool | None = None,
    grade: str | None = None,
    note: str = "",
    columns: dict[str, str] | None = None,
) -> Screen:
    """A reviewer of the provider confirms the proposal, or corrects it and says why: the
    whole screen (``personal``, ``grade``) and, column by column, whether a column the scan
    found something in is personal and which sensitive category it falls in (``columns``:
    name -> one of ``COLUMN_CHOICES``). One decision, one audit entry listing every
    correction."""
    screen = get_screen(session, actor, screen_id=screen_id)
    ds = catalog.get_dataset(session, actor, dataset_id=screen.dataset_id)
    enforce(actor, "dataset.review", catalog.resource(ds))
    # Everything is checked before anything changes: a refused review leaves the screen as
    # it was, whoever catches the error.
    corrected: dict[str, list[object]] = {}
    verdict = screen.findings.get("deidentification") or {}
    still = verdict.get("status") == "deidentified"
    asked = {"screen": screen.id, "personal": personal, "grade": grade, "columns": columns}
    findings: dict[str, Any] = screen.findings
    column_corrections: list[dict[str, Any]] = []
    if columns:
        findings, column_corrections = _correct_columns(screen.findings, columns)
    if column_corrections and personal is None:  # the columns decide, unless the reviewer did
        personal = bool(findings["personal_information"]) or still
    if personal is False and still:
        reasons = verdict.get("reasons", [])
        raise StillPersonal(
            version=screen.version,
            # The verdict is stored with its texts in both languages, as the screen found it.
            reasons={
                "zh": "；".join(r["zh"] for r in reasons),
                "en": "; ".join(r["en"] for r in reasons),
            },
            standard={
                "zh": verdict.get("standard", anonymity.STANDARD_ZH),
                "en": verdict.get("standard_en", anonymity.STANDARD_EN),
            },
            k=verdict.get("k_required"),
            l=verdict.get("l_required"),
        )
    if personal is not None and personal != screen.personal:
        corrected["personal"] = [screen.personal, personal]
    if grade is not None and grade != screen.grade:
        if grade not in grading.GRADES:
            raise InvalidInput(problem=_("grade must be one of {GRADES}", GRADES=grading.GRADES))
        corrected["grade"] = [screen.grade, grade]
    if column_corrections:
        corrected["columns"] = [c["column"] for c in column_corrections]
    if corrected and not note.strip():
        raise InvalidInput(problem=_("a correction needs a reason"))
    if column_corrections:
        screen.findings = findings  # a new object: the JSON column sees the change
        carried = list(verdict.get("sensitive_categories", [])) if still else []
        screen.sensitive = sorted(set(findings["sensitive_categories"]) | set(carried))
    if "personal" in corrected:
        screen.personal = bool(personal)
    if "grade" in corrected:
        screen.grade = str(grade)
    screen.status = "confirmed"
    screen.reviewed_by = actor.id
    screen.reviewed_at = utcnow()
    screen.review_note = note.strip() or None
    clean = not screen.personal and not screen.security_flags
    catalog.mark_screened(session, dataset_id=ds.id, version=screen.version, clean=clean)
    record(
        session,
        actor,
        action="privacy.review",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        reason=note.strip(),
        request=asked,
        detail={
            "screen": screen.id,
            "version": screen.version,
            "corrected": sorted(corrected),
            "columns": column_corrections,
            "personal": screen.personal,
            "grade": screen.grade,
            "sensitive": screen.sensitive,
            "clean": clean,
        },
    )
    return screen
