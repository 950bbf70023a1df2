"""Lineage as OpenLineage run events (https://openlineage.io/spec): every derivation says what
it read and what it made, who ran it, and which audit entries record it.

The event model is ``openlineage-python``'s: a ``RunEvent`` (START, COMPLETE, FAIL) of a job
(``catalog.ingest``, ``privacy.deidentify``, ``access.extract``, ``access.query``,
``market.product`` …) with input and output datasets and their facets. Yaosu's own facets
carry what a market needs and OpenLineage has no word for: the organisation behind each
dataset and its part (holder, processor, operator, consumer), the rights it rests on, the
audit entries of the run. Events are stored in the metadata database in the transaction of
the change they describe, exported as NDJSON, and, when ``YAOSU_LINEAGE_URL`` is set, sent to
an OpenLineage endpoint (Marquez, DataHub, …) by ``yaosu lineage send``.

Dataset names, all in the namespace ``yaosu``: ``datasets/<id>/v<n>`` (a version),
``uploads/<sha256>`` (a file as received), ``extracts/<id>``, ``answers/<query run id>``,
``products/<id>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    RunFacet,
    dataset_version_dataset,
    documentation_job,
    error_message_run,
    input_statistics_input_dataset,
    job_type_job,
    output_statistics_output_dataset,
    ownership_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)
from openlineage.client.uuid import generate_new_uuid
from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.orm import Session

from yaosu import __version__
from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.policy import Rows, visible
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.db import Database, utcnow
from yaosu.kernel.errors import InvalidInput, JobCancelled
from yaosu.kernel.i18n import _, label
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.lineage.labels import JOB
from yaosu.lineage.models import LineageDataset, LineageEvent

NAMESPACE = "yaosu"
PRODUCER = f"https://pypi.org/project/yaosu/{__version__}"
SCHEMA = "https://yaosu.local/spec/lineage/1-0-0/"
STATES = ("START", "COMPLETE", "FAIL", "ABORT")
MAX_DEPTH = 12  # hops a graph follows from where it starts

# Each job's jobType code and, for the event's documentation facet, what it does (the console
# shows the job's label, lineage.labels.JOB, in the reader's language).
JOBS: dict[str, tuple[str, str]] = {
    "catalog.ingest": ("INGEST", "collected and registered"),
    "privacy.deidentify": ("DEIDENTIFY", "de-identified"),
    "access.extract": ("EXTRACT", "a de-identified extract"),
    "access.query": ("QUERY", "a governed query's answer"),
    "market.product": ("PRODUCT", "made into a data product"),
    "compute.job": ("COMPUTE", "computed on where the data is, outputs checked"),
}


# --- Yaosu's facets (OpenLineage custom facets: a prefixed key and a schema URL) ------------


@attr.define
class YaosuDatasetFacet(DatasetFacet):
    """What a dataset is to the market: its kind, title, the organisation behind it and that
    organisation's part, the rights it rests on (grant, kind, holder, registration codes),
    and where the console shows it."""

    kind: str
    title: str
    org_id: str | None = None
    org_name: str | None = None
    part: str | None = None  # holder | processor | operator | consumer
    rights: list[dict[str, Any]] = attr.field(factory=list)
    link: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA + "YaosuDatasetFacet.json"


@attr.define
class YaosuRunFacet(RunFacet):
    """Who ran it (person and organisation), the audit entries that record it (an audit
    search: action and object), and the contract or order it ran under."""

    actor: str
    org_id: str | None = None
    org_name: str | None = None
    audit: dict[str, str] | None = None
    contract: str | None = None
    order: str | None = None
    detail: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA + "YaosuRunFacet.json"


# --- what the emitters name --------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A dataset in an event: ``name`` (see the module docstring) and what the graph shows."""

    name: str
    kind: str  # version | upload | extract | answer | product
    title: str
    org_id: str | None = None
    org_name: str | None = None
    part: str | None = None
    rows: int | None = None  # an input: rows of it used; an output: rows it holds
    # False: ``rows`` is kept for the platform's valuation but left out of the event, which
    # its reader sees (an exact count behind a differentially private answer is not released)
    rows_public: bool = True
    # True: a dataset named only to link to it (its own run describes it): no Yaosu facet
    reference: bool = False
    sha256: str | None = None
    rights: tuple[Mapping[str, Any], ...] = ()
    link: str | None = None


def version_name(dataset_id: str, number: int) -> str:
    return f"datasets/{dataset_id}/v{number}"


def product_name(product_id: str) -> str:
    return f"products/{product_id}"


def _facets(node: Node) -> dict[str, DatasetFacet]:
    if node.reference:
        return {}
    facets: dict[str, DatasetFacet] = {
        "yaosu_dataset": YaosuDatasetFacet(
            kind=node.kind,
            title=node.title,
            org_id=node.org_id,
            org_name=node.org_name,
            part=node.part,
            rights=[dict(r) for r in node.rights],
            link=node.link,
            producer=PRODUCER,
        )
    }
    if node.org_id:
        facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name=f"organisation:{node.org_id}", type=node.part)],
            producer=PRODUCER,
        )
    if node.sha256:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=f"sha256:{node.sha256}", producer=PRODUCER
        )
    return facets


def _statistics(node: Node, key: str, facet: Any) -> dict[str, Any]:
    """A dataset's row count as OpenLineage's statistics facet, unless it must not be read."""
    if node.rows is None or not node.rows_public:
        return {}
    return {key: facet(rowCount=node.rows, producer=PRODUCER)}


def _event(
    actor: Actor,
    *,
    job: str,
    state: str,
    run_id: str,
    inputs: Sequence[Node],
    outputs: Sequence[Node],
    org_name: str | None,
    audit: Mapping[str, str] | None,
    contract: str | None,
    order: str | None,
    detail: Mapping[str, Any] | None,
    error: str | None,
    at: datetime,
) -> RunEvent:
    code, words = JOBS[job]
    run_facets: dict[str, RunFacet] = {
        "yaosu_run": YaosuRunFacet(
            actor=actor.id,
            org_id=actor.org_id,
            org_name=org_name,
            audit=dict(audit) if audit else None,
            contract=contract,
            order=order,
            detail=dict(detail or {}),
            producer=PRODUCER,
        )
    }
    if error is not None:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=error[:2000], programmingLanguage="python", producer=PRODUCER
        )
    return RunEvent(
        eventTime=at.isoformat(),
        producer=PRODUCER,
        eventType=RunState(state),
        run=Run(runId=run_id, facets=run_facets),
        job=Job(
            namespace=NAMESPACE,
            name=job,
            facets={
                "jobType": job_type_job.JobTypeJobFacet(
                    processingType="BATCH", integration="YAOSU", jobType=code, producer=PRODUCER
                ),
                "documentation": documentation_job.DocumentationJobFacet(
                    description=words, producer=PRODUCER
                ),
            },
        ),
        inputs=[
            InputDataset(
                namespace=NAMESPACE,
                name=n.name,
                facets=_facets(n),
                inputFacets=_statistics(
                    n,
                    "inputStatistics",
                    input_statistics_input_dataset.InputStatisticsInputDatasetFacet,
                ),
            )
            for n in inputs
        ],
        outputs=[
            OutputDataset(
                namespace=NAMESPACE,
                name=n.name,
                facets=_facets(n),
                outputFacets=_statistics(
                    n,
                    "outputStatistics",
                    output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
                ),
            )
            for n in outputs
        ],
    )


# --- writing -------------------------------------------------------------------------------


def new_run() -> str:
    """A run id: a UUID v7 (OpenLineage's advice: runs sort by when they began)."""
    return str(generate_new_uuid())


def emit(
    session: Session,
    actor: Actor,
    *,
    job: str,
    state: str = "COMPLETE",
    run_id: str | None = None,
    inputs: Sequence[Node] = (),
    outputs: Sequence[Node] = (),
    org_name: str | None = None,
    audit: Mapping[str, str] | None = None,
    contract: str | None = None,
    order: str | None = None,
    detail: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> LineageEvent:
    """Stores one run event in the caller's transaction (the change it describes commits with
    it, or neither does). ``audit``: the audit search that finds the run's entries
    (``action``, ``object_type``, ``object_id``)."""
    if job not in JOBS:
        raise ValueError(f"unknown lineage job {job}")
    if state not in STATES:
        raise ValueError(f"unknown run state {state}")
    now = utcnow()
    run_id = run_id or new_run()
    wanted = {actor.org_id, *(n.org_id for n in (*inputs, *outputs))} - {None}
    names = accounts.org_names(session, ids=[o for o in wanted if o]) if wanted else {}
    if org_name is None and actor.org_id:
        org_name = names.get(actor.org_id)
    inputs = [_named(n, names) for n in inputs]
    outputs = [_named(n, names) for n in outputs]
    doc = Serde.to_dict(
        _event(
            actor,
            job=job,
            state=state,
            run_id=run_id,
            inputs=inputs,
            outputs=outputs,
            org_name=org_name,
            audit=audit,
            contract=contract,
            order=order,
            detail=detail,
            error=error,
            at=now,
        )
    )
    event = LineageEvent(
        id=new_id("lin"),
        run_id=run_id,
        event_type=state,
        job=job,
        actor_id=actor.id,
        actor_org_id=actor.org_id,
        contract_id=contract,
        event=doc,
        created_at=now,
    )
    session.add(event)
    session.flush()
    rows = [
        {
            "event_id": event.id,
            "side": side,
            "name": n.name,
            "org_id": n.org_id,
            "rows": n.rows,
            "sha256": n.sha256,
        }
        for side, nodes in (("in", inputs), ("out", outputs))
        for n in nodes
    ]
    if rows:
        session.execute(LineageDataset.__table__.insert(), rows)  # type: ignore[attr-defined]
    return event


def _named(node: Node, names: Mapping[str, str]) -> Node:
    if node.org_id and node.org_name is None:
        return replace(node, org_name=names.get(node.org_id))
    return node


def made_with_content(session: Session, *, sha256: str) -> list[str]:
    """The datasets a completed run made whose content is exactly these bytes (an extract a
    user received, uploaded again): how a derived dataset is linked to what it came from."""
    stmt = (
        select(LineageDataset.name)
        .join(LineageEvent, LineageDataset.event_id == LineageEvent.id)
        .where(
            LineageDataset.sha256 == sha256,
            LineageDataset.side == "out",
            LineageEvent.event_type == "COMPLETE",
            LineageEvent.job != "catalog.ingest",
        )
        .order_by(LineageEvent.created_at)
    )
    return list(dict.fromkeys(session.scalars(stmt)))


@contextmanager
def failing(
    db: Database, actor: Actor, *, job: str, run_id: str, inputs: Sequence[Node]
) -> Iterator[None]:
    """Around the work of a started run: if it raises, the run's FAIL (ABORT when it was
    cancelled) is recorded in a transaction of its own, and the error goes on."""
    try:
        yield
    except Exception as exc:
        fail(
            db,
            actor,
            job=job,
            run_id=run_id,
            inputs=inputs,
            error=str(exc) or type(exc).__name__,
            aborted=isinstance(exc, JobCancelled),
        )
        raise


def fail(
    db: Database,
    actor: Actor,
    *,
    job: str,
    run_id: str,
    inputs: Sequence[Node],
    error: str,
    aborted: bool = False,
) -> None:
    """A FAIL event (ABORT: it was cancelled) for a started run, in a transaction of its own:
    the work's own was rolled back, the record that it was tried stays."""
    with db.transaction() as session:
        emit(
            session,
            actor,
            job=job,
            state="ABORT" if aborted else "FAIL",
            run_id=run_id,
            inputs=inputs,
            error=error,
        )


# --- reading -------------------------------------------------------------------------------


def rows() -> Rows:
    """Lineage events as the policy's SQL form sees them (``authorization.policy.lineage``)."""

    def names_org(org_id: str) -> ColumnElement[bool]:
        return exists().where(
            LineageDataset.event_id == LineageEvent.id, LineageDataset.org_id == org_id
        )

    return Rows("lineage", LineageEvent.actor_org_id, {"orgs": names_org})


def readable(actor: Actor) -> ColumnElement[bool]:
    """The events ``decide(actor, "lineage.view", ·)`` allows."""
    return visible(actor, "lineage.view", rows())


def list_events(
    session: Session,
    actor: Actor,
    *,
    name: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[LineageEvent]:
    """The events the actor may read (the ones it ran, that name its data; oversight: all)."""
    return events(session, where=readable(actor), name=name, since=since, limit=limit)


def events(
    session: Session,
    *,
    where: ColumnElement[bool] | None = None,
    name: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[LineageEvent]:
    """Events in the order they were emitted; ``name``: those naming that dataset."""
    stmt = select(LineageEvent).order_by(LineageEvent.created_at, LineageEvent.id)
    if where is not None:
        stmt = stmt.where(where)
    if name is not None:
        stmt = stmt.where(
            exists().where(LineageDataset.event_id == LineageEvent.id, LineageDataset.name == name)
        )
    if since is not None:
        stmt = stmt.where(LineageEvent.created_at >= since)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def ndjson(rows: Iterable[LineageEvent]) -> Iterator[str]:
    """One OpenLineage event per line, as emitted (keys sorted, UTF-8)."""
    for e in rows:
        yield json.dumps(e.event, ensure_ascii=False, sort_keys=True) + "\n"


@dataclass
class Graph:
    """A bipartite lineage graph: datasets and runs (a COMPLETE event each), edges from
    inputs to runs and from runs to outputs."""

    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "datasets": list(self.datasets.values()),
            "runs": list(self.runs.values()),
            "edges": [list(e) for e in self.edges],
        }


def graph(
    session: Session,
    *,
    start: Sequence[str],
    up: bool = True,
    down: bool = False,
    where: ColumnElement[bool] | None = None,
    depth: int = MAX_DEPTH,
) -> Graph:
    """The lineage around the datasets named in ``start``: what they were made from (``up``)
    and what was made from them (``down``), following completed runs at most ``depth`` hops
    each way. ``where`` limits the runs followed (what the reader may see)."""
    out = Graph()
    directions = [d for d, wanted in (("up", up), ("down", down)) if wanted]
    for direction in directions:
        frontier, seen = set(start), set(start)
        for _hop in range(depth):
            if not frontier:
                break
            # up: the runs that made these datasets; down: the runs that read them
            side, other = ("out", "in") if direction == "up" else ("in", "out")
            naming = select(LineageDataset.event_id).where(
                LineageDataset.side == side, LineageDataset.name.in_(sorted(frontier))
            )
            stmt = (
                select(LineageEvent)
                .where(LineageEvent.event_type == "COMPLETE", LineageEvent.id.in_(naming))
                .order_by(LineageEvent.created_at, LineageEvent.id)
            )
            if where is not None:
                stmt = stmt.where(where)
            frontier = set()
            for event in session.scalars(stmt):
                if event.id in out.runs:
                    continue
                out.runs[event.id] = _run_view(event)
                for key in ("inputs", "outputs"):
                    for ds in event.event.get(key) or []:
                        _dataset_view(out, ds)
                        if key == "inputs":
                            out.edges.append((ds["name"], event.id))
                        else:
                            out.edges.append((event.id, ds["name"]))
                names = [ds["name"] for ds in event.event.get(f"{other}puts") or []]
                frontier |= {n for n in names if n not in seen}
                seen |= set(names)
    for name in start:
        out.datasets.setdefault(name, {"name": name, "kind": "unknown", "title": name})
    out.edges = list(dict.fromkeys(out.edges))
    return out


def _dataset_view(g: Graph, ds: Mapping[str, Any]) -> None:
    facet = (ds.get("facets") or {}).get("yaosu_dataset") or {}
    view = g.datasets.setdefault(ds["name"], {"name": ds["name"]})
    for key in ("kind", "title", "org_id", "org_name", "part", "link"):
        if facet.get(key) is not None:
            view[key] = facet[key]
    if facet.get("rights"):
        view["rights"] = facet["rights"]
    version = (ds.get("facets") or {}).get("version") or {}
    if version.get("datasetVersion"):
        view["version"] = version["datasetVersion"]


def _run_view(event: LineageEvent) -> dict[str, Any]:
    doc = event.event
    run = (doc.get("run") or {}).get("facets", {}).get("yaosu_run") or {}
    code, _words = JOBS.get(event.job, (event.job, event.job))
    return {
        "id": event.id,
        "run": event.run_id,
        "job": event.job,
        "type": code,
        "at": doc.get("eventTime"),
        "actor": run.get("actor"),
        "org_id": run.get("org_id"),
        "org_name": run.get("org_name"),
        "audit": run.get("audit"),
        "contract": run.get("contract"),
        "order": run.get("order"),
    }


def rows_used(
    session: Session, *, contract_ids: Sequence[str], names: Sequence[str] | None = None
) -> dict[str, int]:
    """Rows of each dataset actually used under these contracts: read by the answers released
    and taken into the extracts made (the ``inputStatistics`` of their runs), the measured
    volume a contributor's share may be valued by."""
    if not contract_ids:
        return {}
    stmt = (
        select(LineageDataset.name, func.coalesce(func.sum(LineageDataset.rows), 0))
        .join(LineageEvent, LineageDataset.event_id == LineageEvent.id)
        .where(
            LineageEvent.job.in_(("access.query", "access.extract")),
            LineageEvent.event_type == "COMPLETE",
            LineageEvent.contract_id.in_(sorted(set(contract_ids))),
            LineageDataset.side == "in",
        )
        .group_by(LineageDataset.name)
    )
    if names is not None:
        stmt = stmt.where(LineageDataset.name.in_(list(names)))
    return {name: int(total or 0) for name, total in session.execute(stmt)}


# --- sending -------------------------------------------------------------------------------


def pending(session: Session, *, limit: int = 500) -> list[LineageEvent]:
    return list(
        session.scalars(
            select(LineageEvent)
            .where(LineageEvent.sent_at.is_(None))
            .order_by(LineageEvent.created_at, LineageEvent.id)
            .limit(limit)
        )
    )


def mark_sent(session: Session, *, ids: Sequence[str]) -> None:
    if ids:
        session.execute(
            update(LineageEvent).where(LineageEvent.id.in_(list(ids))).values(sent_at=utcnow())
        )


@dataclass(frozen=True)
class Sent:
    sent: int
    left: int  # still waiting (an endpoint refused or could not be reached)
    error: str | None = None


def send(db: Database, settings: Settings, *, batch: int = 500) -> Sent:
    """Posts the events not yet sent to ``settings.lineage_url``, oldest first, with
    openlineage-python's HTTP transport; stops at the first the endpoint refuses. Delivery is
    at least once: an event is marked sent after its POST succeeds (a crash between the two
    sends it again; OpenLineage consumers take a repeated event as the same one). No
    database transaction is held open across the network."""
    if not settings.lineage_url:
        raise InvalidInput(problem=_("no OpenLineage endpoint is set (YAOSU_LINEAGE_URL)"))
    key = settings.lineage_api_key.get_secret_value() if settings.lineage_api_key else None
    config = HttpConfig(
        url=settings.lineage_url,
        timeout=10.0,
        auth=ApiKeyTokenProvider({"apiKey": key}) if key else TokenProvider({}),
        retry={"total": 2, "backoff_factor": 0.2, "status_forcelist": [502, 503, 504]},
    )
    transport = HttpTransport(config)
    sent, error = 0, None
    while error is None:
        with db.transaction() as session:
            todo = [(e.id, e.event) for e in pending(session, limit=batch)]
        if not todo:
            break
        done: list[str] = []
        for event_id, doc in todo:
            try:
                transport.emit(doc)  # type: ignore[arg-type]  # Serde takes the stored dict
            except Exception as exc:  # requests' errors and HTTP refusals alike
                error = f"{type(exc).__name__}: {exc}"[:500]
                break
            done.append(event_id)
        with db.transaction() as session:
            mark_sent(session, ids=done)
            record(
                session,
                system_actor(),
                action="lineage.send",
                object_type="lineage",
                object_id=settings.lineage_url[:64],
                allowed=error is None,
                reason=error or "",
                detail={"sent": len(done)},
            )
        sent += len(done)
    with db.transaction() as session:
        left = session.scalar(
            select(func.count()).select_from(LineageEvent).where(LineageEvent.sent_at.is_(None))
        )
    return Sent(sent=sent, left=int(left or 0), error=error)


def layout(g: Graph) -> dict[str, Any]:
    """The graph as the console draws it (ECharts, left to right): each node in the column of
    its longest path from a source, runs between the datasets they read and made."""
    ids = [*g.datasets, *g.runs]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in g.edges:
        if a in preds and b in preds:
            preds[b].append(a)
    depth: dict[str, int] = {}

    def level(node: str, trail: frozenset[str] = frozenset()) -> int:
        if node not in depth:
            before = [p for p in preds[node] if p not in trail]  # a cycle is cut, not followed
            depth[node] = 1 + max((level(p, trail | {node}) for p in before), default=-1)
        return depth[node]

    columns: dict[int, list[str]] = {}
    for node in ids:
        columns.setdefault(level(node), []).append(node)
    nodes = []
    for col, members in sorted(columns.items()):
        for row, node in enumerate(members):
            item = dict(g.runs.get(node) or g.datasets[node])
            item.update(id=node, is_run=node in g.runs, x=col * 220, y=row * 90)
            nodes.append(item)
    return {"nodes": nodes, "edges": [list(e) for e in g.edges]}


_LINK = re.compile(r"/[A-Za-z0-9_\-/]*(\?[A-Za-z0-9_=&\-]*)?")


def view(g: Graph, *, lang: str) -> dict[str, Any]:
    """What a lineage page shows, in the reader's language: each run (in time order) with the
    datasets it read and made, and the drawing. Links are the console's own paths or nothing."""
    for run in g.runs.values():
        run["words"] = label(JOB, run["job"]).render(lang)

    def node(name: str) -> dict[str, Any]:
        d = dict(g.datasets.get(name) or {"name": name, "title": name})
        link = d.get("link")
        d["link"] = link if isinstance(link, str) and _LINK.fullmatch(link) else None
        d.setdefault("title", name)
        return d

    runs = []
    for run in sorted(g.runs.values(), key=lambda r: (r.get("at") or "", r["id"])):
        runs.append(
            {
                **run,
                "inputs": [node(a) for a, b in g.edges if b == run["id"]],
                "outputs": [node(b) for a, b in g.edges if a == run["id"]],
            }
        )
    drawing = layout(g)
    for item in drawing["nodes"]:
        if not item.get("is_run"):
            item["link"] = node(item["id"])["link"]
    return {"runs": runs, "drawing": drawing, "datasets": [node(n) for n in g.datasets]}


def merge(*graphs: Graph) -> Graph:
    """One graph of several (a dataset's making, and what the reader may see was made of it)."""
    out = Graph()
    for g in graphs:
        for name, d in g.datasets.items():
            out.datasets.setdefault(name, {}).update(d)
        out.runs.update(g.runs)
        out.edges.extend(g.edges)
    out.edges = list(dict.fromkeys(out.edges))
    return out
