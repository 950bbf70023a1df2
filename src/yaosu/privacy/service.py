"""Screening a dataset version, grading it, and the provider's review of the result."""

from __future__ import annotations

import random
from typing import Any

import pyarrow.dataset as pads
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.service import enforce
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import Database, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore
from yaosu.privacy import deidentify as deid
from yaosu.privacy import grading, security
from yaosu.privacy.models import Derivation, Screen
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


# --- de-identification ---------------------------------------------------------------------


def pseudonym_key(settings: Settings, dataset_id: str) -> bytes:
    """The dataset's pseudonymisation key: 32 random bytes in a 0600 file outside the data."""
    import os
    import secrets

    path = settings.home_dir / "keys" / "pseudonyms" / f"{dataset_id}.key"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def deidentify(
    db: Database,
    store: ObjectStore,
    settings: Settings,
    actor: Actor,
    dataset_id: str,
    number: int | None,
    recipe_doc: dict[str, Any],
) -> tuple[Derivation, Screen]:
    """Applies a recipe to a version; the result is the dataset's next version, linked to its
    source, and is screened again at once (a proposal for the reviewer, as always)."""
    import json

    import pyarrow.parquet as pq

    with db.transaction() as session:
        ds = catalog.get_dataset(session, actor, dataset_id)
        enforce(actor, "dataset.edit", catalog.resource(ds))
        source = catalog.get_version(session, actor, dataset_id, number)
        source_path, source_number = store.path(source.sha256), source.number
    table = pq.read_table(source_path)
    recipe = deid.Recipe.parse(recipe_doc, table.column_names)
    result = deid.apply(table, recipe, key=pseudonym_key(settings, dataset_id))
    if result.table.num_rows == 0:
        raise InvalidInput(problem="按此方案会删除全部记录 / the recipe suppresses every row")
    out = store.temp_path(".parquet")
    try:
        pq.write_table(result.table, out, compression="snappy")
        version = catalog.ingest_version(
            db,
            store,
            settings,
            actor,
            dataset_id,
            out,
            filename=f"{dataset_id}-v{source_number}-deidentified.parquet",
        )
    finally:
        out.unlink(missing_ok=True)
    with db.transaction() as session:
        derivation = Derivation(
            id=new_id("did"),
            dataset_id=dataset_id,
            source_version=source_number,
            result_version=version.number,
            recipe=json.loads(json.dumps(recipe_doc, ensure_ascii=False)),
            rows_in=result.rows_in,
            suppressed=result.suppressed,
            k_reached=result.k,
            l_reached=result.l,
            created_by=actor.id,
        )
        session.add(derivation)
        session.flush()
        record(
            session,
            actor,
            "privacy.deidentify",
            "dataset",
            dataset_id,
            object_org_id=ds.owner_org_id,
            request={"dataset_id": dataset_id, "source": source_number, "recipe": recipe_doc},
            detail={
                "source": source_number,
                "result": version.number,
                "k": result.k,
                "l": result.l,
                "suppressed": result.suppressed,
            },
        )
        screen = screen_version(
            session, store, settings, actor, dataset_id, version.number, mode="full"
        )
    return derivation, screen


def suggested_recipe(
    session: Session, actor: Actor, dataset_id: str, number: int
) -> dict[str, Any]:
    ds = catalog.get_dataset(session, actor, dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    screen = session.scalars(
        select(Screen)
        .where(Screen.dataset_id == ds.id, Screen.version == number)
        .order_by(Screen.created_at.desc())
        .limit(1)
    ).first()
    if screen is None:
        raise NotFound(
            kind="筛查结果（请先筛查该版本）/ screen (screen the version first)",
            id=f"{dataset_id}@{number}",
        )
    return deid.suggest(screen.findings)
