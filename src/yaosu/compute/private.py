"""Under a contract with a privacy budget, a job's aggregates over persons leave through the
platform's differential privacy and its accounting, never the algorithm's.

A statistics table the algorithm built with ``yaosu_job.summarise(..., dataset=...)`` carries
its declaration in the manifest (``summary``: the input, the group-by columns, the value
column). Only the declaration is read: the platform recomputes that aggregate itself, outside
the sandbox, from the granted input (``access.release_summary``: one row per privacy unit,
sums clamped to the data dictionary's bounds, the governed query's OpenDP mechanisms and
partition rules) and releases that table in place of the algorithm's. Whatever an algorithm
declares, what leaves is a differentially private aggregate of the granted inputs.

The job's ε (stated at submission, else ``DEFAULT_EPSILON``) is split evenly over its
differentially private tables and debited once, with the release. Every other output under a
budget (a plain table, metrics, a report, a statistics table without a declaration) is an
aggregate the platform cannot re-derive: it is held for the provider's reviewer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from yaosu.access import service as access
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.compute import checks
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message, _

DEFAULT_EPSILON = 1.0
"""The ε a job spends when its submission states none (split over its private tables)."""

MANIFEST = "manifest.json"
# The disclosure rules judge the algorithm's numbers; a table released under differential
# privacy does not carry them, so their findings on it do not hold the job.
DISCLOSURE = frozenset({"min_cell", "zeros", "dominance", "p_ratio"})
MAX_KEYS = 10  # the most group-by columns one declaration may name


def budget_left(ctx: Context, actor: Actor, *, contract_id: str) -> float | None:
    """The contract's privacy budget left (None: the contract has no budget)."""
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=contract_id)
        if contract.epsilon_budget is None:
            return None
        return float(contract.epsilon_budget - contract.epsilon_spent)


def job_epsilon(job: Any) -> float:
    """The ε the job's submission stated, else the default."""
    stated = job.epsilon
    return float(stated) if stated else DEFAULT_EPSILON


def check_budget(
    ctx: Context, actor: Actor, *, contract_id: str, dataset_id: str, epsilon: float
) -> None:
    """Refuses (``Forbidden``, naming what is left) a job whose ε the budget cannot hold,
    before the algorithm sees any data: a decision, nothing debited."""
    with ctx.db.transaction() as session:
        authorization.use(
            session,
            actor,
            contract_id=contract_id,
            operation=Operation.compute,
            dataset_id=dataset_id,
            epsilon=epsilon,
            dry_run=True,
        )


@dataclass
class Release:
    """What the platform releases in place of the algorithm's statistics tables."""

    report: checks.Report
    files: dict[str, Path] = field(default_factory=dict)  # an output's file -> the platform's
    tables: list[dict[str, Any]] = field(default_factory=list)  # each one's terms and noise
    epsilon: float = 0.0  # to debit with the release (0 when no table is released under DP)
    delta: float = 0.0


def _declarations(folder: Path) -> dict[str, Any]:
    """Each statistics file's declaration in the manifest (the algorithm wrote it: checked
    before use, and only ever used to choose what the platform computes)."""
    try:
        doc = json.loads((folder / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return {}
    outputs = doc.get("outputs") if isinstance(doc, dict) else None
    found: dict[str, Any] = {}
    for entry in outputs if isinstance(outputs, list) else []:
        if (
            isinstance(entry, dict)
            and entry.get("kind") == "statistics"
            and isinstance(entry.get("file"), str)
            and "summary" in entry
        ):
            found[entry["file"]] = entry["summary"]
    return found


def _declaration(
    doc: Any, inputs: set[str]
) -> tuple[tuple[str, list[str], str | None] | None, Message | None]:
    """A declaration as (dataset, by, value), or why it cannot be used."""
    if not isinstance(doc, dict):
        return None, _("the statistics table's declaration is not an object")
    dataset, by, value = doc.get("dataset"), doc.get("by"), doc.get("value")
    if (
        not isinstance(by, list)
        or not 1 <= len(by) <= MAX_KEYS
        or not all(isinstance(b, str) for b in by)
        or not (value is None or isinstance(value, str))
        or not isinstance(dataset, str)
    ):
        return None, _(
            "the statistics table's declaration names a dataset, 1 to {max} group-by columns and at most one value column",
            max=MAX_KEYS,
        )
    if dataset not in inputs:
        return None, _("the statistics table declares {dataset}, which is not an input of this job")
    return (dataset, list(by), value), None


def _scales(accuracy: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{name} {v['scale']:g}" for name, v in accuracy.items())


def release(
    ctx: Context,
    actor: Actor,
    *,
    contract_id: str,
    folder: Path,
    into: Path,
    report: checks.Report,
    granted: dict[str, Any],
    epsilon: float,
) -> Release:
    """The report under the contract's privacy budget: each declared statistics table
    recomputed by the platform and released under differential privacy (written to
    ``into``), every other output held for the provider's reviewer."""
    declared = _declarations(folder)
    plans: dict[str, tuple[str, list[str], str | None]] = {}
    problems: list[checks.Finding] = []
    for entry in report.outputs:
        name, kind = entry["name"], entry["kind"]
        if kind == "statistics" and entry.get("file") in declared:
            plan, problem = _declaration(declared[entry["file"]], set(granted))
            if problem is not None:
                problems.append(checks.Finding("dp", "fail", name, problem))
            elif plan is not None:
                plans[name] = plan
            continue
        if kind == "model":
            continue  # a model is held already
        problems.append(
            checks.Finding(
                "dp",
                "review",
                name,
                _(
                    "under the contract's privacy budget only aggregates the platform recomputes with differential privacy leave unreviewed: this output is held for the provider's reviewer"
                ),
            )
        )
    # The disclosure findings stay for what is not released under differential privacy.
    findings = [
        f for f in report.findings if not (f.check in DISCLOSURE and f.output in plans)
    ] + problems
    out = Release(report=report)
    each = epsilon / len(plans) if plans else 0.0
    if plans:
        problem = access.epsilon_problem(each)
        if problem is not None:
            findings.append(
                checks.Finding(
                    "dp",
                    "fail",
                    "",
                    _(
                        "the job's ε = {epsilon} over {tables} private tables leaves too little for each: {problem}",
                        epsilon=epsilon,
                        tables=len(plans),
                        problem=problem,
                    ),
                )
            )
            plans = {}
    terms: dict[str, access.SummaryTerms] = {}
    done: dict[str, dict[str, Any]] = {}
    if plans and not any(f.verdict == "fail" for f in findings):
        into.mkdir(parents=True, exist_ok=True)
        for name, (dataset, by, value) in plans.items():
            if dataset not in terms:
                terms[dataset] = access.run_summary_terms(
                    ctx, actor, contract_id=contract_id, dataset_id=dataset
                )
            table = granted[dataset].table
            problem = access.summary_problem(table, by=by, value=value, terms=terms[dataset])
            if problem is not None:
                findings.append(checks.Finding("dp", "fail", name, problem))
                continue
            result = access.release_summary(
                table, by=by, value=value, terms=terms[dataset], epsilon=each
            )
            path = into / f"{len(done)}.parquet"
            pq.write_table(result.table, path, compression="zstd")
            partitions = "public" if result.partitions is not None else "threshold"
            doc = {
                "dataset": dataset,
                "by": by,
                "value": value,
                "epsilon": each,
                "delta": result.delta,
                "mechanism": "laplace",
                "partitions": partitions,
                "threshold": result.threshold,
                "accuracy": result.accuracy,
                "rows": result.table.num_rows,
                "path": path,
            }
            done[name] = doc
            shown_epsilon, shown_delta = format(each, "g"), format(result.delta, "g")
            findings.append(
                checks.Finding(
                    "dp",
                    "pass",
                    name,
                    _(
                        "released under differential privacy: the platform recomputed it from the granted {dataset} (by {by}), and the algorithm's numbers were not used; ε = {epsilon}, δ = {delta}, OpenDP's Laplace mechanism ({partitions}), noise scale {scales}",
                        dataset=dataset,
                        by=by,
                        epsilon=shown_epsilon,
                        delta=shown_delta,
                        partitions=_("every declared group released")
                        if partitions == "public"
                        else _(
                            "groups shown above a noisy threshold of {threshold}",
                            threshold=result.threshold,
                        ),
                        scales=_scales(result.accuracy),
                    ),
                )
            )
    outputs = []
    for entry in report.outputs:
        made = done.get(entry["name"]) if entry["kind"] == "statistics" else None
        if made is not None:
            out.files[entry["file"]] = made["path"]
            public = {k: v for k, v in made.items() if k != "path"}
            out.tables.append({"name": entry["name"], **public})
            entry = {**entry, "rows": made["rows"], "bytes": made["path"].stat().st_size}
            entry["dp"] = {k: v for k, v in public.items() if k != "rows"}
        outputs.append({k: v for k, v in entry.items() if k != "verdict"})
    out.report = checks.Report.of(findings, outputs)
    if done and out.report.verdict != "fail":
        out.epsilon = each * len(done)
        out.delta = sum(float(d["delta"]) for d in done.values())
    return out
