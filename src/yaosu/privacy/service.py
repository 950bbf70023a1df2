"""Screening a dataset version, grading it, and the provider's review of the result."""

from __future__ import annotations

import random

import pyarrow.dataset as pads
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.service import enforce
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore
from yaosu.privacy import grading, security
from yaosu.privacy.models import Screen
from yaosu.privacy.scan import scan_table

FAST_SAMPLE = 20_000  # rows a fast screen reads, drawn at random across the whole version


def screen_version(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    actor: Actor,
    dataset_id: str,
    number: int | None = None,
    *,
    mode: str = "fast",
) -> Screen:
    if mode not in ("fast", "full"):
        raise InvalidInput(problem=f"筛查模式须为 fast 或 full / mode must be fast or full: {mode}")
    ds = catalog.get_dataset(session, actor, dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    version = catalog.get_version(session, actor, dataset_id, number)
    data = pads.dataset(store.path(version.sha256), format="parquet")
    total = version.row_count
    if mode == "fast" and total > FAST_SAMPLE:
        rows = sorted(random.Random(version.sha256).sample(range(total), FAST_SAMPLE))
        table = data.take(rows)
    else:
        table = data.to_table()
    scan = scan_table(table)
    flags = security.flags(
        table, scan, total_rows=total, keywords_file=settings.security_keywords_file
    )
    graded = grading.grade(scan, total_rows=total, domain=ds.theme, security_flags=flags)
    screen = Screen(
        id=new_id("scr"),
        dataset_id=ds.id,
        version=version.number,
        mode=mode,
        rows_scanned=table.num_rows,
        findings=scan.as_dict(),
        personal=scan.personal,
        sensitive=scan.sensitive_categories,
        security_flags=flags,
        grade=graded.grade,
        grade_rule=graded.rule,
        grade_factors=graded.factors,
        created_by=actor.id,
    )
    session.add(screen)
    session.flush()
    record(
        session,
        actor,
        "privacy.screen",
        "dataset",
        ds.id,
        object_org_id=ds.owner_org_id,
        request={"dataset_id": ds.id, "version": version.number, "mode": mode},
        detail={
            "screen": screen.id,
            "version": version.number,
            "personal": screen.personal,
            "grade": screen.grade,
            "flags": len(flags),
        },
    )
    return screen


def get_screen(session: Session, actor: Actor, screen_id: str) -> Screen:
    screen = session.get(Screen, screen_id)
    if screen is None:
        raise NotFound(kind="筛查结果 / screen", id=screen_id)
    catalog.get_dataset(session, actor, screen.dataset_id)  # who may see the dataset
    return screen


def list_screens(session: Session, actor: Actor, dataset_id: str) -> list[Screen]:
    ds = catalog.get_dataset(session, actor, dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    stmt = select(Screen).where(Screen.dataset_id == ds.id).order_by(Screen.created_at.desc())
    return list(session.scalars(stmt))


def review(
    session: Session,
    actor: Actor,
    screen_id: str,
    *,
    personal: bool | None = None,
    grade: str | None = None,
    note: str = "",
) -> Screen:
    """A reviewer of the provider confirms the proposal, or corrects it and says why."""
    screen = get_screen(session, actor, screen_id)
    ds = catalog.get_dataset(session, actor, screen.dataset_id)
    enforce(actor, "dataset.review", catalog.resource(ds))
    corrected: dict[str, list[object]] = {}
    if personal is not None and personal != screen.personal:
        corrected["personal"] = [screen.personal, personal]
        screen.personal = personal
    if grade is not None and grade != screen.grade:
        if grade not in grading.GRADES:
            raise InvalidInput(
                problem=f"分级须为 {grading.GRADES} 之一 / grade must be one of {grading.GRADES}"
            )
        corrected["grade"] = [screen.grade, grade]
        screen.grade = grade
    if corrected and not note.strip():
        raise InvalidInput(problem="更正筛查结果须说明理由 / a correction needs a reason")
    screen.status = "confirmed"
    screen.reviewed_by = actor.id
    screen.reviewed_at = utcnow()
    screen.review_note = note.strip() or None
    clean = not screen.personal and not screen.security_flags
    catalog.mark_screened(session, ds.id, screen.version, clean=clean)
    record(
        session,
        actor,
        "privacy.review",
        "dataset",
        ds.id,
        object_org_id=ds.owner_org_id,
        reason=note.strip(),
        request={"screen": screen.id, "personal": personal, "grade": grade},
        detail={
            "screen": screen.id,
            "version": screen.version,
            "corrected": sorted(corrected),
            "personal": screen.personal,
            "grade": screen.grade,
            "clean": clean,
        },
    )
    return screen
