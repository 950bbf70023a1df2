"""De-identifying a version with a recipe: the pseudonym keys, previews, the derived version
and its report beside the source."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import enforce
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, NotFound
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.keys import read_or_create
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.queue import Run, handler
from yaosu.lineage import service as lineage
from yaosu.privacy import anonymity
from yaosu.privacy import deidentify as deid
from yaosu.privacy.models import Derivation, Screen
from yaosu.privacy.scan import scan_table
from yaosu.privacy.screening import (
    FAST_SAMPLE,
    Derived,
    Progress,
    _assess,
    _identifying,
    _newest_screen,
    _quiet,
    _save,
    _verdict_of,
    runs_in_background,
)
from yaosu.tasks import service as tasks


def pseudonym_key(settings: Settings, dataset_id: str) -> bytes:
    """The dataset's pseudonymisation key: 32 random bytes in a 0600 file outside the data.
    Read once per process (every governed query needs it; the file never changes)."""
    return _key_at(settings.pseudonym_key_dir / f"{dataset_id}.key")


@lru_cache(maxsize=4096)
def _key_at(path: Path) -> bytes:
    """Created at most once, even when many requests want it at the same moment
    (``yaosu.kernel.keys``)."""
    import secrets

    return bytes.fromhex(read_or_create(path, lambda: secrets.token_bytes(32).hex()).strip())


def _source(
    session: Session,
    store: ObjectStore,
    actor: Actor,
    dataset_id: str,
    number: int | None,
    recipe_doc: dict[str, Any],
) -> tuple[Any, Any, deid.Recipe]:
    """Checks the right and the recipe against the source version's columns."""
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.edit", catalog.resource(ds))
    source = versions.get_version(session, actor, dataset_id=dataset_id, number=number)
    names = pq.read_schema(store.path(source.sha256)).names
    return ds, source, deid.Recipe.parse(recipe_doc, names)


def run_deidentify(
    ctx: Context,
    actor: Actor,
    *,
    dataset_id: str,
    number: int | None,
    recipe_doc: dict[str, Any],
    progress: Progress = _quiet,
    finish: Callable[[Session, dict[str, Any]], None] | None = None,
) -> tuple[Derivation, Screen]:
    """Applies a recipe to a version; the result is the dataset's next version, linked to its
    source, and screened in full (a proposal for the reviewer, as always). The version, the
    link, the screen and (for a job) ``finish`` commit in one transaction, or none of them."""
    db, store = ctx.db, ctx.store
    with db.transaction() as session:
        ds, source, recipe = _source(session, store, actor, dataset_id, number, recipe_doc)
        source_path, source_number, theme = store.path(source.sha256), source.number, ds.theme
        source_screen = _newest_screen(session, ds.id, source.number)
        source_node = versions.version_node(session, dataset_id=ds.id, number=source.number)
        run_id = lineage.new_run()
        lineage.emit(
            session,
            actor,
            job="privacy.deidentify",
            state="START",
            run_id=run_id,
            inputs=[source_node],
        )
    with lineage.failing(
        ctx.db, actor, job="privacy.deidentify", run_id=run_id, inputs=[source_node]
    ):
        return _deidentify(
            ctx,
            actor,
            dataset_id=dataset_id,
            source_path=source_path,
            source_number=source_number,
            theme=theme,
            source_screen=source_screen,
            recipe=recipe,
            recipe_doc=recipe_doc,
            progress=progress,
            finish=finish,
            run_id=run_id,
            source_node=source_node,
        )


def _deidentify(
    ctx: Context,
    actor: Actor,
    *,
    dataset_id: str,
    source_path: Path,
    source_number: int,
    theme: str,
    source_screen: Screen | None,
    recipe: deid.Recipe,
    recipe_doc: dict[str, Any],
    progress: Progress,
    finish: Callable[[Session, dict[str, Any]], None] | None,
    run_id: str,
    source_node: lineage.Node,
) -> tuple[Derivation, Screen]:
    store, settings = ctx.store, ctx.settings
    progress(0.02, "读取 / reading")
    table = pq.read_table(source_path)
    # Whether the source was personal information, and where: its screen says (a confirmed
    # one first), or a scan of a sample when it was never screened.
    sample = None
    if source_screen is None:
        rows = range(table.num_rows)
        picked = sorted(random.Random(source_number).sample(rows, min(len(rows), FAST_SAMPLE)))
        sample = scan_table(table.take(picked))
    personal_source, identifying = _identifying(source_screen, sample)
    progress(0.15, "去标识化 / applying the recipe")
    result = deid.apply(table, recipe, key=pseudonym_key(settings, dataset_id))
    if result.table.num_rows == 0:
        raise InvalidInput(problem=_("the recipe suppresses every row"))
    assessed = _assess(
        result.table,
        total=result.table.num_rows,
        theme=theme,
        settings=settings,
        progress=lambda f, col: progress(0.4 + 0.4 * f, f"复扫 / re-screening {col}"),
        derived=Derived(recipe, identifying) if personal_source else None,
    )
    verdict = assessed["findings"].get("deidentification")
    progress(0.85, "写入新版本 / writing the new version")
    made: list[Any] = []

    def attach(session: Session, version: Any) -> None:
        ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
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
            action="privacy.deidentify",
            object_type="dataset",
            object_id=dataset_id,
            object_org_id=ds.owner_org_id,
            request={"dataset_id": dataset_id, "source": source_number, "recipe": recipe_doc},
            detail={
                "source": source_number,
                "result": version.number,
                "k": result.k,
                "l": result.l,
                "suppressed": result.suppressed,
                "deidentification": verdict["status"] if verdict else None,
            },
        )
        screen = _save(session, actor, ds, version.number, "full", assessed)
        lineage.emit(
            session,
            actor,
            job="privacy.deidentify",
            run_id=run_id,
            inputs=[source_node],
            outputs=[
                versions.version_node(
                    session,
                    dataset_id=dataset_id,
                    number=version.number,
                    rows=result.table.num_rows,
                )
            ],
            audit={
                "action": "privacy.deidentify",
                "object_type": "dataset",
                "object_id": dataset_id,
            },
            detail={
                "derivation": derivation.id,
                "k": result.k,
                "l": result.l,
                "suppressed": result.suppressed,
            },
        )
        if finish is not None:
            finish(
                session,
                {
                    "derivation": derivation.id,
                    "dataset_id": dataset_id,
                    "source_version": source_number,
                    "result_version": version.number,
                    "k": result.k,
                    "l": result.l,
                    "suppressed": result.suppressed,
                    "screen": screen.id,
                },
            )
        made.extend([derivation, screen])

    out = store.temp_path(".parquet")
    try:
        pq.write_table(result.table, out, compression="snappy")
        versions.run_ingest(
            ctx,
            actor,
            dataset_id=dataset_id,
            source=out,
            filename=f"{dataset_id}-v{source_number}-deidentified.parquet",
            attach=attach,
        )
    finally:
        out.unlink(missing_ok=True)
    return made[0], made[1]


def run_deidentify_request(
    ctx: Context,
    actor: Actor,
    *,
    dataset_id: str,
    number: int | None,
    recipe_doc: dict[str, Any],
) -> tuple[Derivation, Screen] | Task:
    """De-identifies at once, or queues a background task when the source is large. The
    right and the recipe are checked first either way, so a bad recipe is refused now."""
    db, store, settings = ctx.db, ctx.store, ctx.settings
    with db.transaction() as session:
        ds, source, _skip = _source(session, store, actor, dataset_id, number, recipe_doc)
        if runs_in_background(settings, source.row_count):
            return tasks.enqueue(
                session,
                actor,
                kind="privacy.deidentify",
                params={"dataset_id": ds.id, "version": source.number, "recipe": recipe_doc},
                object_type="dataset",
                object_id=ds.id,
                object_org_id=ds.owner_org_id,
            )
        number = source.number
    return run_deidentify(ctx, actor, dataset_id=dataset_id, number=number, recipe_doc=recipe_doc)


@handler("privacy.deidentify")
def _deidentify_job(ctx: Context, actor: Actor, params: dict[str, Any], run: Run) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def finish(session: Session, done: dict[str, Any]) -> None:
        result.update(done)
        run.complete(session, done)

    run_deidentify(
        ctx,
        actor,
        dataset_id=params["dataset_id"],
        number=params["version"],
        recipe_doc=params["recipe"],
        progress=run.progress,
        finish=finish,
    )
    return result


PREVIEW_ROWS = 1000  # rows of the source a preview de-identifies
PREVIEW_SHOWN = 10  # rows of the result it shows


def preview(
    session: Session,
    actor: Actor,
    *,
    store: ObjectStore,
    settings: Settings,
    dataset_id: str,
    number: int | None,
    recipe_doc: dict[str, Any],
) -> dict[str, Any]:
    """What a recipe would make of the version's first PREVIEW_ROWS rows: the first rows of
    the result, each column before and after, the k (and l) reached on the sample, and what
    personal information a scan still finds in the result. Nothing is stored; the look at
    the provider's own raw rows is an access, so it is audited."""
    ds, source, recipe = _source(session, store, actor, dataset_id, number, recipe_doc)
    sample = pads.dataset(store.path(source.sha256), format="parquet").head(PREVIEW_ROWS)
    result = deid.apply(sample, recipe, key=pseudonym_key(settings, dataset_id))
    remaining = scan_table(result.table)
    found = {c.column: [e.entity for e in c.entities if e.personal] for c in remaining.columns}
    # The same judgement a derivation gets, on the sample: pseudonyms are still personal.
    source_screen = _newest_screen(session, ds.id, source.number)
    personal_source, identifying = _identifying(
        source_screen, scan_table(sample) if source_screen is None else None
    )
    verdict = (
        anonymity.assess(
            result.table,
            recipe,
            remaining,
            source_identifying=identifying,
            k_required=settings.anon_k,
            l_required=settings.anon_l,
        ).as_dict()
        if personal_source and result.table.num_rows
        else None
    )
    columns = []
    transformed = result.transformed if result.transformed is not None else result.table
    for name in sample.column_names:
        before = sample.column(name)
        step = recipe.columns.get(name)
        entry: dict[str, Any] = {
            "name": name,
            "op": step["op"] if step else "keep",
            "before": _column_summary(before),
            "after": None,
            "still_personal": [],
            "changed": 0,
            "examples": [],
        }
        if name in result.table.column_names:
            entry["after"] = _column_summary(result.table.column(name))
            entry["still_personal"] = found.get(name, [])
            entry["changed"], entry["examples"] = _changes(before, transformed.column(name))
        columns.append(entry)
    shown = result.table.slice(0, PREVIEW_SHOWN)
    record(
        session,
        actor,
        action="privacy.preview",
        object_type="dataset",
        object_id=ds.id,
        object_org_id=ds.owner_org_id,
        request={"dataset_id": ds.id, "version": source.number, "recipe": recipe_doc},
        detail={"version": source.number, "rows": sample.num_rows, "k": result.k},
    )
    return {
        "dataset_id": ds.id,
        "version": source.number,
        "sample_rows": sample.num_rows,
        "rows_kept": result.table.num_rows,
        "suppressed": result.suppressed,
        "k": result.k,
        "l": result.l,
        "personal_information_left": remaining.personal
        or (verdict is not None and verdict["status"] == "deidentified"),
        "deidentification": verdict,
        "columns": columns,
        "header": shown.column_names,
        "rows": [[versions.jsonable(v) for v in row.values()] for row in shown.to_pylist()],
    }


def _changes(before: pa.ChunkedArray, after: pa.ChunkedArray) -> tuple[int, list[str]]:
    """How many rows an operation changed, and up to three of the values it made (never the
    values it replaced: those are the personal information)."""
    old, new = pc.cast(before, pa.string()), pc.cast(after, pa.string())
    both_null = pc.and_(pc.is_null(old), pc.is_null(new))
    changed = pc.and_(pc.invert(both_null), pc.fill_null(pc.not_equal(old, new), True))
    made = pc.unique(pc.filter(new, changed).drop_null()).slice(0, 3)
    return int(pc.sum(changed).as_py() or 0), [str(v) for v in made.to_pylist()]


# Cells a de-identification and its full re-screen get through per second, rounded down from
# bench/scan.py (docs/benchmarks.md: 81,571 rows/s over 8 columns on two cores) to leave room
# for writing the new version.
CELLS_PER_SECOND = 400_000


def plan(
    session: Session,
    actor: Actor,
    *,
    store: ObjectStore,
    settings: Settings,
    dataset_id: str,
    number: int | None,
    recipe_doc: dict[str, Any],
) -> dict[str, Any]:
    """What running a recipe would do, for the confirmation before it runs: the source
    version, the version it would create, each column's operation, the k-anonymity asked for,
    and whether it runs at once or as a background task, with an estimate of how long. The
    recipe is checked exactly as the run checks it; nothing is read from the data."""
    ds, source, recipe = _source(session, store, actor, dataset_id, number, recipe_doc)
    cells = source.row_count * max(1, len(source.columns))
    return {
        "dataset": ds,
        "source": source,
        "next_version": ds.latest_version + 1,
        "steps": [
            {"name": c["name"], **recipe.columns.get(c["name"], {"op": "keep"})}
            for c in source.columns
        ],
        "quasi_identifiers": recipe.quasi_identifiers,
        "k": recipe.k,
        "sensitive": recipe.sensitive,
        "l": recipe.l,
        "background": runs_in_background(settings, source.row_count),
        "estimate_seconds": max(1, round(cells / CELLS_PER_SECOND)),
        "recipe": recipe_doc,
    }


def _column_summary(column: pa.ChunkedArray) -> dict[str, Any]:
    return {
        "type": str(column.type),
        "nulls": column.null_count,
        "distinct": pc.count_distinct(column).as_py(),
    }


def derivation_report(session: Session, actor: Actor, *, derivation_id: str) -> dict[str, Any]:
    """A de-identified version beside its source: each column's profile and findings before
    and after, and what the recipe did to it."""
    derivation = session.get(Derivation, derivation_id)
    if derivation is None:
        raise NotFound(kind=_("Derivation"), id=derivation_id)
    ds = catalog.get_dataset(session, actor, dataset_id=derivation.dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    source = versions.get_version(
        session, actor, dataset_id=ds.id, number=derivation.source_version
    )
    result = versions.get_version(
        session, actor, dataset_id=ds.id, number=derivation.result_version
    )

    def findings(number: int) -> dict[str, list[str]]:
        screen = session.scalars(
            select(Screen)
            .where(Screen.dataset_id == ds.id, Screen.version == number)
            .order_by(Screen.created_at.desc())
            .limit(1)
        ).first()
        if screen is None:
            return {}
        return {
            c["column"]: [e["entity"] for e in c["entities"] if e["personal"]]
            for c in screen.findings.get("columns", [])
        }

    before_found, after_found = findings(source.number), findings(result.number)
    # The platform may read this report too: profiles are shown as the catalog shows them.
    after_columns = {
        c["name"]: c for c in versions.shown_columns(session, actor, ds=ds, version=result)
    }
    steps = derivation.recipe.get("columns", {})
    columns = [
        {
            "name": c["name"],
            "op": (steps.get(c["name"]) or {}).get("op", "keep"),
            "before": c,
            "after": after_columns.get(c["name"]),
            "found_before": before_found.get(c["name"], []),
            "found_after": after_found.get(c["name"], []),
        }
        for c in versions.shown_columns(session, actor, ds=ds, version=source)
    ]
    return {
        "derivation": derivation,
        "source": source,
        "result": result,
        "columns": columns,
        "quasi_identifiers": derivation.recipe.get("k_anonymity", {}).get("quasi_identifiers", []),
        # de-identified (still personal) or anonymised, against which standard and levels
        "anonymisation": _verdict_of(session, ds.id, result.number),
    }


def suggested_recipe(
    session: Session, actor: Actor, *, dataset_id: str, number: int, k: int | None = None
) -> dict[str, Any]:
    """The recipe the version's newest screen suggests; with ``k`` (the anonymisation level,
    ``YAOSU_ANON_K``) it proposes k-anonymity when the screen found quasi-identifiers."""
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.screen", catalog.resource(ds))
    screen = session.scalars(
        select(Screen)
        .where(Screen.dataset_id == ds.id, Screen.version == number)
        .order_by(Screen.created_at.desc())
        .limit(1)
    ).first()
    if screen is None:
        raise NotFound(
            kind=_("Screen (screen the version first)"),
            id=f"{dataset_id}@{number}",
        )
    return deid.suggest(screen.findings, k=k)
