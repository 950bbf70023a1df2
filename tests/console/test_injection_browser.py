"""The browser sweep against stored and reflected HTML injection.

Payloads (script breakers, htmx attributes, on* handlers, javascript: links, template syntax,
attribute breakers with ' and ") are planted once, through the service layer, into every
field a user can write and every spot derived from data: titles, descriptions, keywords,
organisation and user names, justifications, reasons, territory, column names, frequent and
previewed cell values, filenames, token names; then every console page is opened in Chromium
as every demo role and anonymously, and the governed query (aliases, grouped values) and the
certificate check are run there. No element may carry a payload's attributes, no dialog may
open and no request may reach a payload's target.

A console page route missing from ``pages()`` fails the test, so a new page cannot ship
unexamined. The sweep runs on SQLite only: the injection is in rendering, not in storage, and
one world per backend would double a minute of browser time.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from tests.conftest import _settings, serving
from tests.console.test_browser import log_in
from yaosu.accounts import credentials
from yaosu.accounts import service as accounts
from yaosu.accounts.models import Organisation, User
from yaosu.api import create_app
from yaosu.audit import transparency
from yaosu.audit.models import AuditEntry
from yaosu.authorization import service as authorization
from yaosu.authorization.schemas import RequestCreate
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context
from yaosu.kernel.db import Database
from yaosu.kernel.storage import ObjectStore
from yaosu.privacy import service as privacy
from yaosu.privacy import unit
from yaosu.rights import service as rights

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

ROLES = (
    "platform-admin",
    "bureau-admin",
    "bureau-analyst",
    "bureau-reviewer",
    "ai-analyst",
    "coop-manager",
    "cac-inspector",
    "dsj-inspector",
    "assessor",
    None,  # anonymous
)

# --- payloads: each carries its tag in data-pwn and in the path it would request ----------


def breaker(tag: str) -> str:
    # Unquoted attributes, as in the issue: JSON escaping leaves them intact.
    return (
        f"</script><form hx-post=/pwn/{tag} hx-trigger=load data-pwn={tag}>"
        "<input name=role value=admin></form>"
    )


def quote2(tag: str) -> str:
    return f'" hx-get="/pwn/{tag}" hx-trigger="load" data-pwn="{tag}" x="'


def quote1(tag: str) -> str:
    return f"' hx-get='/pwn/{tag}' hx-trigger='load' data-pwn='{tag}' x='"


def img(tag: str) -> str:
    return f'"\'><img src="/pwn/{tag}" data-pwn="{tag}" onerror="alert(\'{tag}\')">'


def htmx(tag: str) -> str:
    return (
        f'<div data-pwn="{tag}" hx-get="/pwn/{tag}" hx-trigger="load" '
        f"hx-on:htmx:load=\"alert('{tag}')\"></div>"
    )


def link(tag: str) -> str:
    return f'<a data-pwn="{tag}" href="javascript:alert(\'{tag}\')">{tag}</a>'


def template(tag: str) -> str:
    return f"{{{{7*7}}}}~{tag} ${{7*7}}~{tag}"


KINDS: tuple[Callable[[str], str], ...] = (breaker, quote2, quote1, img, htmx, link, template)


def fit(tag: str, limit: int) -> str:
    """As many payload kinds as fit in a field of this length, most dangerous first."""
    out = ""
    for kind in KINDS:
        piece = kind(tag)
        if len(out) + len(piece) <= limit:
            out += piece
    assert out, (tag, limit)
    return out


# The columns of the planted table: each name is one payload kind, each holds a frequent
# value of another (200 equal rows: profiled as a frequent value and shown as a group).
COLUMNS = {kind.__name__: kind for kind in (breaker, quote2, quote1, img, htmx, link)}


def column_name(kind: str) -> str:
    return COLUMNS[kind](f"col-{kind}")


def table_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*(column_name(k) for k in COLUMNS), "数量"])
    for i in range(400):
        writer.writerow([*(COLUMNS[k](f"val-{k}") if i % 2 else "普通" for k in COLUMNS), i % 7])
    return buffer.getvalue()


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    server: str
    ctx: Context
    ids: dict[str, str] = field(default_factory=dict)
    certificate: str = ""


def _actor(ctx: Context, username: str) -> Any:
    with ctx.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return accounts.actor_for(session, user=user)


def plant(ctx: Context, folder: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    with ctx.db.transaction() as session:
        for org in session.scalars(select(Organisation)):
            org.name = org.name + fit(f"org-{org.id}", 200 - len(org.name))
        for user in session.scalars(select(User)):
            user.display_name = fit(f"name-{user.username}", 100)
    users = {u: _actor(ctx, u) for u in ROLES if u}
    bureau, analyst, reviewer = (
        users["bureau-admin"],
        users["bureau-analyst"],
        users["bureau-reviewer"],
    )
    platform, ai, coop, cac = (
        users["platform-admin"],
        users["ai-analyst"],
        users["coop-manager"],
        users["cac-inspector"],
    )
    with ctx.db.transaction() as session:
        for username, who in users.items():
            credentials.create_token(
                session, who, name=fit(f"token-{username}", 100), scopes=("read",)
            )
        accounts.create_user(
            session,
            bureau,
            org_id=bureau.org_id,
            username="new-member",
            password="a-long-password-2026",
            display_name=fit("member", 100),
        )
    source = folder / "payload.csv"
    source.write_text(table_csv(), encoding="utf-8")
    # open: previewed by all; cond: requested, contracted, queried; work: de-identified and
    # screened in the background (which leaves its latest version unconfirmed).
    for key, openness in (("open", "open"), ("cond", "conditional"), ("work", "conditional")):
        with ctx.db.transaction() as session:
            ds = catalog.create_dataset(
                session,
                bureau,
                data=DatasetCreate(
                    title=fit(f"title-{key}", 300),
                    description="".join(k(f"desc-{key}") for k in KINDS),
                    keywords=[k(f"kw-{key}") for k in KINDS],
                    theme=fit(f"theme-{key}", 100),
                    licence=fit(f"licence-{key}", 200),
                    openness=openness,
                ),
            )
        ids[key] = ds.id
        versions.run_ingest(
            ctx,
            bureau,
            dataset_id=ds.id,
            source=source,
            filename=img(f"file-{key}").replace("/", "") + ".csv",
        )
        with ctx.db.transaction() as session:
            screen = privacy.screen_version(
                session, analyst, store=ctx.store, settings=ctx.settings, dataset_id=ds.id
            )
            privacy.review(
                session, reviewer, screen_id=screen.id, note=fit(f"screen-note-{key}", 2000)
            )
    with ctx.db.transaction() as session:  # the privacy-unit page shows columns and the note
        unit.declare(
            session,
            reviewer,
            dataset_id=ids["work"],  # not "cond": its governed query must not be bounded per person
            columns=[column_name("breaker")],
            each_row_is_a_person=False,
            note=fit("unit-note", 2000),
        )
    from yaosu.catalog import dictionary
    from yaosu.catalog.schemas import DictionaryIn

    for key in ("open", "cond"):  # the data dictionary: meanings, units, public values
        with ctx.db.transaction() as session:
            names = [e.column for e in dictionary.entries(session, bureau, dataset_id=ids[key])]
            dictionary.write(
                session,
                bureau,
                store=ctx.store,
                dataset_id=ids[key],
                data=DictionaryIn.model_validate(
                    {
                        "columns": [
                            {
                                "column": n,
                                "description": fit(f"dict-{key}-{i}", 2000),
                                "unit": fit(f"unit-{key}-{i}", 50),
                            }
                            for i, n in enumerate(names)
                        ]
                    }
                ),
            )
    cond, work = ids["cond"], ids["work"]
    derivation, _ = privacy.run_deidentify(
        ctx,
        analyst,
        dataset_id=work,
        number=1,
        recipe_doc={"columns": {column_name("link"): {"op": "drop"}}},
    )
    ids["derivation"] = derivation.id
    background = ctx.settings.model_copy(update={"background_rows": 1})
    with ctx.db.transaction() as session:
        privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=background,
            dataset_id=work,
            number=1,
            mode="full",
        )
    fields = [*(column_name(k) for k in COLUMNS), "数量"]
    with ctx.db.transaction() as session:
        req = authorization.submit_request(
            session,
            ai,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={cond: fields},
                operations=["aggregate"],
                days=30,
                epsilon=50.0,
                algorithm=fit("algorithm", 200),
                justification="".join(k("justification") for k in KINDS),
                territory=fit("req-territory", 100),
            ),
        )
        ids["request"] = req.id
        done = authorization.review(
            session,
            reviewer,
            settings=ctx.settings,
            request_id=req.id,
            decision="approve",
            reason="".join(k("review-reason") for k in KINDS),
        )
        assert done.contract_id
        ids["contract"] = done.contract_id
        authorization.accept(session, ai, contract_id=done.contract_id)
        authorization.change_status(
            session,
            bureau,
            contract_id=done.contract_id,
            action="suspend",
            reason=fit("suspend", 2000),
        )
        authorization.change_status(
            session,
            bureau,
            contract_id=done.contract_id,
            action="resume",
            reason=fit("resume", 2000),
        )
        pending = authorization.submit_request(
            session,
            coop,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={cond: fields[:2]},
                operations=["aggregate"],
                days=30,
                epsilon=1.0,
                justification="".join(k("pending-justification") for k in KINDS),
            ),
        )
        ids["pending"] = pending.id
    with ctx.db.transaction() as session:
        notice = rights.apply(
            session,
            bureau,
            settings=ctx.settings,
            kind="holding",
            dataset_id=ids["open"],
            statement="".join(k("statement") for k in KINDS),
            purposes=["rural_revitalisation"],
            territory=fit("territory", 100),
        )
        rights.accept(
            session,
            platform,
            settings=ctx.settings,
            registration_id=notice.id,
            note=fit("accept-note", 2000),
        )
        rights.formal_review(
            session,
            platform,
            settings=ctx.settings,
            registration_id=notice.id,
            passed=True,
            note=fit("review-note", 2000),
        )
        ids["notice"] = notice.id
    with ctx.db.transaction() as session:
        rights.object_to(
            session,
            cac,
            registration_id=ids["notice"],
            reason="".join(k("objection") for k in KINDS),
        )
    with ctx.db.transaction() as session:
        held = rights.apply(
            session,
            bureau,
            settings=ctx.settings,
            kind="holding",
            dataset_id=cond,
            statement="".join(k("cert-statement") for k in KINDS),
            purposes=["public_welfare"],
            territory=fit("cert-territory", 100),
        )
        rights.accept(session, platform, settings=ctx.settings, registration_id=held.id)
        rights.formal_review(
            session,
            platform,
            settings=ctx.settings,
            registration_id=held.id,
            passed=True,
            note="通过",
        )
        earlier = timedelta(days=ctx.settings.notice_days + 1)
        assert held.notice_starts_at is not None and held.notice_ends_at is not None
        held.notice_starts_at -= earlier
        held.notice_ends_at -= earlier
        certificate = rights.issue(
            session, platform, settings=ctx.settings, registration_id=held.id
        )
        ids["registered"] = held.id
        ids["certificate"] = certificate.code
    from yaosu.market import bank
    from yaosu.market.models import AssessmentReport, Order, Product

    with ctx.db.transaction() as session:  # the market's products and an assessor's report
        for product in session.scalars(select(Product)):
            product.title = fit(f"product-{product.id}", 200)
            product.description = "".join(k(f"product-text-{product.id}") for k in KINDS)
            product.decision_note = fit(f"product-note-{product.id}", 300)
        for report in session.scalars(select(AssessmentReport)):
            report.summary = "".join(k(f"report-{report.id}") for k in KINDS)
        disputed = session.scalar(select(Order).where(Order.status == "disputed"))
        assert disputed is not None  # the demo's dispute: its complaint and its ruling
        disputed.dispute_reason = fit("dispute", 2000)
        disputed.resolution = fit("resolution", 300)
        ids["order"] = disputed.id
        from yaosu.market.models import TransactionCertificate

        cert = session.scalar(select(TransactionCertificate))
        assert cert is not None
        cert.document = {  # what the page shows of it: planted, as a forged row would be
            **cert.document,
            "product": {**cert.document["product"], "title": fit("cert-product", 200)},
            "buyer": {**cert.document["buyer"], "name": fit("cert-buyer", 200)},
        }
        ids["tx_certificate"] = f"{cert.number}/{cert.check}"
        # a bank statement whose file name, payer and memo are payloads: an unmatched line
        statement = io.StringIO()
        csv.writer(statement).writerows(
            [
                ["交易日期", "收入金额", "对方户名", "摘要"],
                ["2026-01-13", "12.50", fit("payer", 200), fit("memo", 2000)],
            ]
        )
        data = statement.getvalue().encode("utf-8")
        bank.import_statement(session, platform, data=data, filename=fit("bank-file", 200))
        ids["product"] = str(
            session.scalar(
                select(Product.id).where(
                    Product.pricing_class == "capped", Product.status == "listed"
                )
            )
        )
        ids["negotiated"] = str(
            session.scalar(
                select(Product.id).where(Product.price["model"].as_string() == "negotiated")
            )
        )
        ids["assessing"] = str(
            session.scalar(select(Product.id).where(Product.status == "assessing"))
        )
    from yaosu.compute.models import Algorithm, AlgorithmFiling, ComputeJob, TrustedAlgorithm

    with ctx.db.transaction() as session:  # the demo's filings, trusted list and jobs
        for alg in session.scalars(select(Algorithm)):
            alg.name, alg.field = fit(f"alg-{alg.status}", 200), fit("alg-field", 200)
            alg.public_text = {
                p: "".join(k(f"alg-{p}") for k in KINDS)
                for p in ("principle", "purpose", "mechanism")
            }
            alg.responsible = {
                "name": fit("alg-person", 100),
                "title": fit("alg-title", 100),
                "contact": fit("alg-contact", 200),
            }
            alg.self_assessment = "".join(k("alg-assessment") for k in KINDS)
            ids["algorithm" if alg.status == "filed" else "pending_algorithm"] = alg.id
        for filing in session.scalars(select(AlgorithmFiling)):
            filing.summary = fit("filing-summary", 2000)
        for entry in session.scalars(select(TrustedAlgorithm)):
            entry.note, ids["trusted_dataset"] = fit("trust-note", 2000), entry.dataset_id
        for job in session.scalars(select(ComputeJob)):
            job.log = "".join(k(f"log-{job.status}") for k in KINDS)
            job.status_reason = {"zh": fit("job-reason", 300), "en": fit("job-reason", 300)}
            finding = {"zh": fit("finding", 300), "en": fit("finding", 300)}
            job.check = {
                **job.check,
                "findings": [
                    {
                        "check": "min_cell",
                        "verdict": "review",
                        "output": "demand",
                        "message": finding,
                        "cells": 1,
                    }
                ],
            }
            ids[f"{job.status}_job"], ids["compute_contract"] = job.id, job.contract_id
    ids |= _plant_ethics(ctx, ids)
    with ctx.db.transaction() as session:  # an entry naming a planted title, under a checkpoint
        entry = select(AuditEntry.leaf_index).where(
            AuditEntry.object_id == ids["open"], AuditEntry.action == "dataset.create"
        )
        ids["entry"] = str(session.scalar(entry))
        transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
    return ids


def _plant_ethics(ctx: Context, ids: dict[str, str]) -> dict[str, str]:
    """An ethics committee whose name, members and registration are payloads, and a review
    of the filed algorithm whose application, meeting minutes and conditions are too
    (returned for revision: the resubmission form shows the application again)."""
    from datetime import date, timedelta

    from yaosu.compute import ethics
    from yaosu.compute.schemas import CommitteeCreate, MeetingRecord, ReviewApply

    ai, secretary = _actor(ctx, "ai-analyst"), _actor(ctx, "ai-ethics")
    kinds = ["technical", "technical", "technical", "ethics", "legal", "other", "technical"]
    members = [
        {
            "name": fit(f"member-{i}", 100),
            "expertise": kind,
            "gender": ("male", "female")[i % 2],
            "external": i in (3, 4),
            "affiliation": fit(f"affiliation-{i}", 200),
            "chair": i == 0,
        }
        for i, kind in enumerate(kinds)
    ]
    text = {p: "".join(k(f"ethics-{p}") for k in KINDS) for p in ("plan", "risks", "measures")}
    with ctx.db.transaction() as session:
        committee = ethics.create_committee(
            session,
            ai,
            data=CommitteeCreate.model_validate(
                {
                    "name": fit("ethics-committee", 200),
                    "members": members,
                    "entrusted": True,
                    "registration": fit("ethics-registration", 100),
                    "term_ends_on": date.today() + timedelta(days=365),
                }
            ),
        )
        review = ethics.apply(
            session,
            ai,
            data=ReviewApply.model_validate(
                {
                    "committee_id": committee.id,
                    "algorithm_id": ids["algorithm"],
                    "datasets": [ids["trusted_dataset"]],
                    "application": text | {"personal_information": fit("ethics-pi", 2000)},
                }
            ),
        )
        ethics.decide(
            session,
            secretary,
            review_id=review.id,
            data=MeetingRecord.model_validate(
                {
                    "held_on": date.today(),
                    "present": list(range(7)),
                    "votes": dict.fromkeys(range(7), "revise"),
                    "conditions": fit("ethics-conditions", 4000),
                    "minutes": fit("ethics-minutes", 20_000),
                }
            ),
            settings=ctx.settings,
        )
        return {"ethics_committee": committee.id, "ethics_review": review.id}


@pytest.fixture(scope="module")
def world(template: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tpl_home, _ = template
    home = tmp_path_factory.mktemp("injection") / "home"
    shutil.copytree(tpl_home, home, ignore=shutil.ignore_patterns("yaosu.db-*"))
    # No task worker: the background screen stays queued, so the privacy page polls (an htmx
    # element of the app's own, which must keep working next to planted data).
    settings = _settings(home, f"sqlite:///{home / 'yaosu.db'}").model_copy(
        update={"task_workers": 0}
    )
    db = Database(settings)
    ctx = Context(settings, db, ObjectStore(settings.data_dir))
    ids = plant(ctx, home)
    with serving(ctx) as url:
        yield World(url, ctx, ids)
    db.dispose()


# --- the pages ----------------------------------------------------------------------------

# GET routes of the console that are not pages to look at.
NOT_PAGES = {
    "/": "redirects to /catalog or /home",
    "/lang/{code}": "sets the language cookie and redirects",
    "/favicon.ico": "redirects to the static icon",
    "/market/certificates/{number}/{check}/file": "a JSON download",
    "/market/certificates/{number}/{check}/pdf": "a PDF (drawn, not HTML)",
}


def pages(ids: dict[str, str]) -> dict[str, list[str]]:
    """Every console page route, with the URLs that show the planted payloads (and a few
    that reflect query parameters)."""
    o, c, w = ids["open"], ids["cond"], ids["work"]
    reflected = fit("reflected", 200)
    from urllib.parse import quote

    r = quote(reflected, safe="")
    return {
        "/home": ["/home"],
        "/inbox": ["/inbox", f"/inbox?done={r}"],
        "/login": ["/login", f"/login?next={r}"],
        "/org": ["/org", f"/org?error={r}"],
        "/tokens": ["/tokens"],
        "/catalog": [
            "/catalog",
            f"/catalog?q={r}",
            f"/catalog?theme={quote(fit('theme-open', 100), safe='')}",
        ],
        "/datasets/new": ["/datasets/new"],
        "/datasets/{dataset_id}": [f"/datasets/{o}", f"/datasets/{c}", f"/datasets/{w}"],
        "/datasets/{dataset_id}/upload": [f"/datasets/{o}/upload"],
        "/datasets/{dataset_id}/lineage": [f"/datasets/{o}/lineage", f"/datasets/{w}/lineage"],
        "/datasets/{dataset_id}/dictionary": [
            f"/datasets/{o}/dictionary",
            f"/datasets/{c}/dictionary",
        ],
        "/datasets/{dataset_id}/privacy": [f"/datasets/{o}/privacy", f"/datasets/{w}/privacy"],
        "/datasets/{dataset_id}/privacy/tasks": [f"/datasets/{w}/privacy/tasks"],
        "/datasets/{dataset_id}/privacy-unit": [f"/datasets/{w}/privacy-unit"],
        "/datasets/{dataset_id}/privacy/derivations/{derivation_id}": [
            f"/datasets/{w}/privacy/derivations/{ids['derivation']}"
        ],
        "/requests/new": [f"/requests/new?dataset={c}"],
        "/requests": ["/requests"],
        "/reviews": ["/reviews"],
        "/requests/{request_id}": [
            f"/requests/{ids['request']}",
            f"/requests/{ids['pending']}?done=review.recorded",
        ],
        "/contracts": ["/contracts"],
        "/contracts/{contract_id}": [f"/contracts/{ids['contract']}"],
        "/query": [f"/query?contract={ids['contract']}"],
        "/rights": ["/rights", f"/rights?error={r}"],
        "/registrations/{registration_id}": [
            f"/registrations/{ids['notice']}",
            f"/registrations/{ids['registered']}",
        ],
        "/notices": ["/notices"],
        "/certificates/verify": ["/certificates/verify"],
        "/certificates/{code}": [f"/certificates/{ids['certificate']}"],
        "/market": ["/market", f"/market?pricing_class={r[:12]}"],
        "/market/tariffs": ["/market/tariffs"],
        "/market/new": ["/market/new", f"/market/new?error={r}"],
        "/market/desk": ["/market/desk"],
        "/market/products/{product_id}": [
            f"/market/products/{ids['product']}?purpose={r[:40]}&quantity=5",
            f"/market/products/{ids['product']}?purpose=industry_development&quantity=12000",
            f"/market/products/{ids['assessing']}",
            f"/market/products/{ids['negotiated']}",
        ],
        "/market/products/{product_id}/lineage": [f"/market/products/{ids['product']}/lineage"],
        "/market/products/{product_id}/quote": [
            f"/market/products/{ids['product']}/quote?purpose={r[:40]}&quantity={r[:12]}"
        ],
        "/market/products/{product_id}/steps": [
            f"/market/products/{ids['assessing']}/steps",
            f"/market/products/{ids['assessing']}/steps?error={r}",
        ],
        "/market/statements": ["/market/statements", f"/market/statements?org={r[:40]}"],
        "/market/orders": ["/market/orders", f"/market/orders?side={r[:12]}&error={r}"],
        "/market/revenue": ["/market/revenue", f"/market/revenue?org={r[:40]}"],
        "/market/shares": [
            "/market/shares",
            f"/market/shares?org={r[:40]}&year={r[:6]}&month={r[:4]}&error={r}",
        ],
        "/market/annual-report": [
            "/market/annual-report",
            f"/market/annual-report?operator={r[:40]}&year={r[:6]}",
        ],
        "/market/certificates/{number}/{check}": [f"/market/certificates/{ids['tx_certificate']}"],
        "/market/orders/{order_id}": [
            f"/market/orders/{ids['order']}",
            f"/market/orders/{ids['order']}?error={r}",
        ],
        "/market/reconciliation": ["/market/reconciliation", f"/market/reconciliation?error={r}"],
        "/audit": ["/audit", f"/audit?action={r}&object_id={r[:64]}&object_type={r[:40]}"],
        "/audit/entries/{index}": [f"/audit/entries/{ids['entry']}"],
        "/audit/checkpoints": ["/audit/checkpoints"],
        "/audit/verify": ["/audit/verify"],
        "/algorithms": ["/algorithms"],
        "/algorithms/new": ["/algorithms/new"],
        "/algorithms/filings": ["/algorithms/filings"],
        "/algorithms/{algorithm_id}": [
            f"/algorithms/{ids['algorithm']}",
            f"/algorithms/{ids['pending_algorithm']}?error={r}",
        ],
        "/datasets/{dataset_id}/algorithms": [
            f"/datasets/{ids['trusted_dataset']}/algorithms",
            f"/datasets/{ids['trusted_dataset']}/algorithms?error={r}",
        ],
        "/compute/jobs": ["/compute/jobs", f"/compute/jobs?status={r[:20]}"],
        "/compute/jobs/new": [f"/compute/jobs/new?contract={ids['compute_contract']}"],
        "/compute/jobs/{job_id}": [
            f"/compute/jobs/{ids['released_job']}",
            f"/compute/jobs/{ids['held_job']}?error={r}",
        ],
        "/compute/jobs/{job_id}/status": [f"/compute/jobs/{ids['held_job']}/status?shown={r[:20]}"],
        "/ethics/committees": ["/ethics/committees"],
        "/ethics/committees/new": ["/ethics/committees/new"],
        "/ethics/committees/{committee_id}": [f"/ethics/committees/{ids['ethics_committee']}"],
        "/ethics/reviews": ["/ethics/reviews", f"/ethics/reviews?status={r[:20]}"],
        "/ethics/reviews/{review_id}": [
            f"/ethics/reviews/{ids['ethics_review']}",
            f"/ethics/reviews/{ids['ethics_review']}?error={r}",
        ],
        "/algorithms/{algorithm_id}/ethics": [
            f"/algorithms/{ids['algorithm']}/ethics?datasets={ids['trusted_dataset']}",
            f"/algorithms/{ids['algorithm']}/ethics?kind={r[:20]}&previous={r[:40]}",
        ],
    }


def console_routes(app: Any) -> set[str]:
    """GET routes outside the API and the static files, from the app itself."""
    found: set[str] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif (
                isinstance(route, APIRoute)
                and "GET" in route.methods
                and not route.include_in_schema
                and not route.path.startswith("/api/")
            ):
                found.add(route.path)

    walk(app.routes)
    return found


# Run in the page: every element that a payload made, or whose attributes a payload wrote.
FIND = r"""() => {
  const bad = [];
  const show = (el) => el.outerHTML.slice(0, 160);
  for (const el of document.querySelectorAll("*")) {
    if (el.hasAttribute("data-pwn")) { bad.push("element: " + show(el)); continue; }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const active = name.startsWith("hx-") || name.startsWith("data-hx-") || name.startsWith("on");
      // a payload's path (/pwn/tag) or script, never "pwn" inside a random id (ULIDs hold it)
      if (active && /\/pwn\/|alert\(/.test(attr.value)) bad.push("attribute " + name + ": " + show(el));
      if (["href", "src", "action", "formaction"].includes(name)
          && /^\s*javascript:/i.test(attr.value)) bad.push("javascript: " + show(el));
    }
  }
  // The app's own htmx elements must stay outside hx-disable regions (or they stop working),
  // and the CSRF token must not sit on <body>, where every element would inherit it.
  for (const el of document.querySelectorAll("[hx-get], [hx-post]")) {
    if (!el.hasAttribute("data-pwn") && el.closest("[hx-disable]")) {
      bad.push("the app's own htmx element is disabled: " + show(el));
    }
  }
  if (document.body.hasAttribute("hx-headers")) bad.push("hx-headers on <body>");
  for (const s of document.querySelectorAll("script")) {
    const src = s.getAttribute("src");
    if (src !== null ? !src.startsWith("/static/") : s.type !== "application/json") {
      bad.push("script: " + show(s));
    } else if (src === null) {
      try { JSON.parse(s.textContent); } catch (e) { bad.push("broken JSON block #" + s.id); }
    }
  }
  if (/49~/.test(document.documentElement.outerHTML)) bad.push("a template evaluated 7*7");
  // The payloads this page shows as text or holds in attribute values (the planting worked).
  const seen = new Set();
  const texts = [document.body.innerText];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) texts.push(attr.value);
  }
  for (const text of texts) {
    for (const m of text.matchAll(/(?:data-pwn=["']?|\/pwn\/|~)([\w:-]+)/g)) seen.add(m[1]);
  }
  return {bad, seen: [...seen]};
}"""


@dataclass
class Sweep:
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    tooltips: int = 0  # chart tooltips that showed a payload (as text)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    visited: int = 0

    def watch(self, page: Page) -> None:
        page.on("request", lambda r: self.requests.append(r.url) if "/pwn" in r.url else None)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def check(self, page: Page, who: str, url: str) -> None:
        self.visited += 1
        found = page.evaluate(FIND)
        self.problems += [f"{who} {url}: {problem}" for problem in found["bad"]]
        self.seen.update(found["seen"])


def test_no_payload_becomes_markup_on_any_page_for_any_role(world: World, browser: Browser) -> None:
    app = create_app(world.ctx.settings, migrate=False)
    listed = pages(world.ids)
    routes = console_routes(app)
    assert routes - set(listed) - set(NOT_PAGES) == set(), "console pages missing from the sweep"
    assert set(listed) - routes == set(), "the sweep lists pages that do not exist"

    sweep = Sweep()
    for username in ROLES:
        who = username or "anonymous"
        context = browser.new_context(base_url=world.server, locale="zh-CN")
        page = context.new_page()
        sweep.watch(page)
        if username:
            log_in(page, username)
            sweep.check(page, who, "/home")
        for urls in listed.values():
            for url in urls:
                page.goto(url)
                sweep.check(page, who, url)
        if username == "ai-analyst":
            run_query(page, world, sweep)
        if username == "bureau-analyst":
            # the task list still polls: its own hx-get is outside the hx-disable regions
            with page.expect_request(lambda r: r.url.endswith("/privacy/tasks")):
                page.goto(f"/datasets/{world.ids['work']}/privacy")
        if username is None:
            verify_certificate(page, world, sweep)
            hover_charts(page, f"/datasets/{world.ids['open']}", "#charts .chart-canvas", sweep)
        page.goto("/static/app.css")  # the last page's requests are reported before this
        context.close()

    assert sweep.visited > len(ROLES) * 20
    # The payloads reached the pages (as text): the sweep examined what it planted.
    shown = {
        *(f"col-{k}" for k in COLUMNS),
        *(f"val-{k}" for k in COLUMNS),
        *(
            f"{f}-{key}"
            for f in ("title", "desc", "kw", "theme", "licence")
            for key in ("open", "cond")
        ),
        *(f"name-{u}" for u in ROLES if u),
        *(f"token-{u}" for u in ROLES if u),
        "member",
        "justification",
        "pending-justification",
        "review-reason",
        "resume",
        "statement",
        "objection",
        "territory",
        "cert-statement",
        "cert-territory",
        "algorithm",
        "req-territory",
        "reflected",
        "alias",
        "bank-file",
        "payer",
        "memo",
        "dispute",
        "resolution",
        "cert-product",
        "cert-buyer",
        "alg-principle",
        "alg-purpose",
        "alg-mechanism",
        "alg-person",
        "alg-assessment",
        "filing-summary",
        "trust-note",
        "log-released",
        "log-held",
        "job-reason",
        "finding",
    }
    failures = {"elements": sweep.problems, "dialogs": sweep.dialogs, "requests": sweep.requests}
    assert failures == {"elements": [], "dialogs": [], "requests": []}
    assert shown - sweep.seen == set(), "planted payloads that no page showed"
    assert any(tag.startswith("org-") for tag in sweep.seen)
    assert any(tag.startswith("product-") for tag in sweep.seen)
    assert sweep.tooltips > 0, "no chart tooltip showed a planted value"


def run_query(page: Page, world: World, sweep: Sweep) -> None:
    """Aliases and grouped values are data: they reach the table and the chart's JSON."""
    column = column_name("breaker").replace('"', '""')
    alias = breaker("alias").replace('"', '""')
    sql = f'SELECT "{column}", COUNT(*) AS "{alias}" FROM {world.ids["cond"]} GROUP BY "{column}"'
    page.goto(f"/query?contract={world.ids['contract']}")
    page.locator("#sql").fill(sql)
    page.locator("#epsilon").fill("1")
    page.get_by_role("button", name="执行").click()
    page.get_by_role("heading", name="结果").wait_for(timeout=30000)
    assert page.locator("#answer-data").count() == 1
    sweep.check(page, "ai-analyst", "POST /query")
    grouped = page.locator("#answer table.preview tbody td").all_text_contents()
    assert breaker("val-breaker") in grouped  # shown, as text
    hover_charts(page, None, "#answer-chart", sweep)


def hover_charts(page: Page, url: str | None, selector: str, sweep: Sweep) -> None:
    """ECharts writes its tooltips as HTML: hover over every chart's bars."""
    if url:
        page.goto(url)
    charts = page.locator(selector)
    if charts.count() == 0:
        sweep.problems.append(f"{page.url} {selector}: no chart drawn (its JSON is broken?)")
    for i in range(charts.count()):
        chart = charts.nth(i)
        try:
            chart.locator("svg").first.wait_for(timeout=15000)
        except PlaywrightTimeout:
            sweep.problems.append(f"{page.url} {selector}[{i}]: not drawn (its JSON is broken?)")
            continue
        box = chart.bounding_box()
        assert box is not None
        for fraction in (0.25, 0.5, 0.75):  # across the bars
            page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * fraction)
            page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.5)
            sweep.check(page, "hover", f"{page.url} {selector}[{i}]")
            tips = chart.locator("div").filter(has_text="/pwn/")
            sweep.tooltips += tips.count()


def verify_certificate(page: Page, world: World, sweep: Sweep) -> None:
    """The verdict names the holder and the dataset, both planted."""
    document = page.request.get(f"/api/v1/certificates/{world.ids['certificate']}").text()
    page.goto("/certificates/verify")
    page.locator("#certificate").fill(document)
    page.get_by_role("button", name="核验").click()
    page.locator('[role="status"]').wait_for()
    sweep.check(page, "anonymous", "POST /certificates/verify")
