"""``yaosu market ...``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from yaosu.accounts import service as accounts
from yaosu.audit import transparency
from yaosu.audit.verify import VerificationError
from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, label, say
from yaosu.kernel.settings import get_settings
from yaosu.market import certificates, ledger, orders, report, settlement, sharing, valuations
from yaosu.market import listing as _listing
from yaosu.market import pricing as _pricing
from yaosu.market import products as _products
from yaosu.market.labels import (
    CHARGE_UNIT,
    LISTING_REVIEW_STATE,
    LISTING_STATE,
    PRICING_CLASS,
    PRODUCT_KIND,
    SHARE_KIND,
    SHARE_STATE,
)
from yaosu.market.models import SettlementStatement
from yaosu.rights.service import certificate_signer

app = typer.Typer(help="数据交易 / the market", no_args_is_help=True)

# --- ledger --------------------------------------------------------------------------------------
# ``yaosu market settle|reconcile|statements|expire``: the ledger's batch work, run on the
# server as the local operator (audited by name).


console = Console()
err = Console(stderr=True)


@app.command("settle")
def settle(
    period: str = typer.Option(
        None,
        "--period",
        help="清算日 YYYY-MM-DD（默认最晚可清算日）/ the day (default: the latest clearable)",
    ),
) -> None:
    """清算一日，生成各参与方结算单 / Settle a day: a statement per participant (a re-run returns them)."""
    ctx = open_context()
    day = date.fromisoformat(period) if period else None
    with ctx.db.transaction() as session:
        made = certificates.settle(session, system_actor(), settings=ctx.settings, period=day)
        _print_statements(made, accounts.org_names(session))


@app.command("statements")
def statements(
    org: str = typer.Option(None, "--org", help="机构 ID / organisation id"),
    period: str = typer.Option(None, "--period", help="清算日 / the day, YYYY-MM-DD"),
) -> None:
    """列出结算单 / List settlement statements."""
    ctx = open_context()
    day = date.fromisoformat(period) if period else None
    with ctx.db.transaction() as session:
        found = settlement.list_statements(session, system_actor(), org_id=org, period=day)
        _print_statements(found, accounts.org_names(session))


@app.command("reconcile")
def reconcile(
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """对账：账本 = 结算单 = 银行 / Reconcile ledger, statements and bank (exit 1 on a difference)."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        report = settlement.reconciliation(
            session, system_actor(), lag_days=ctx.settings.settlement_lag_days
        )
    if as_json:
        console.print_json(json.dumps(report))
    else:
        verdict = (
            _("Ledger, statements and bank agree.")
            if report["ok"]
            else _("Ledger, statements and bank disagree: see the problems below.")
        )
        console.print(say(verdict))
        console.print(
            f"{say(_('All debits'))} {ledger.yuan(report['debits'])} · "
            f"{say(_('All credits'))} {ledger.yuan(report['credits'])} · "
            f"{say(_('Settled days'))} {len(report['periods'])} · "
            f"{say(_('Received at the bank, not matched'))} "
            f"{ledger.yuan(report['unmatched_amount'])}"
        )
        for key in ("account_problems", "statement_problems", "bank_problems"):
            for problem in report[key]:
                console.print(json.dumps(problem, ensure_ascii=False, default=str))
    if not report["ok"]:
        raise typer.Exit(1)


@app.command("expire")
def expire() -> None:
    """撤销超时的待定转账并推进订单 / Void timed-out holds, then take every order's due step
    (payments matched, delivery accepted after the stated days, holds lapsed)."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        voided = ledger.expire(session, system_actor())
        moved = orders.advance_all(session, settings=ctx.settings)
    console.print(say(_("{count} timed-out pending transfers voided", count=voided)))
    console.print(say(_("{count} orders moved to their next step", count=moved)))


def _print_statements(found: list[SettlementStatement], names: dict[str, str]) -> None:
    table = Table(
        say(_("Statement")),
        say(_("Day")),
        say(_("Participant")),
        say(_("Paid out")),
        say(_("Received")),
        say(_("Net")),
    )
    for s in found:
        table.add_row(
            s.number,
            s.period.isoformat(),
            names.get(s.org_id, s.org_id),
            ledger.yuan(s.debits),
            ledger.yuan(s.credits),
            ledger.yuan(s.net),
        )
    console.print(table)


# --- products ------------------------------------------------------------------------------------
PRODUCT_COMMANDS = ("products", "list", "quote")


_console = Console()


@app.command("products")
def products(
    status: str = typer.Option(None, "--status", help="挂牌状态 / listing state (listed, draft…)"),
    pricing: str = typer.Option(None, "--pricing", help="定价类别 / free, capped, market"),
) -> None:
    """列出数据产品 / List data products."""
    ctx = open_context()
    lang = ctx.settings.default_locale
    with ctx.db.transaction() as session:
        rows = [
            (
                p.id,
                p.title,
                label(PRODUCT_KIND, p.kind).render(lang),
                label(PRICING_CLASS, p.pricing_class).render(lang),
                label(LISTING_STATE, p.status).render(lang),
            )
            for p in _products.list_products(
                session, system_actor(), status=status, pricing_class=pricing
            )
        ]
    table = Table(
        "ID", say(_("product")), say(_("kind")), say(_("pricing class")), say(_("status"))
    )
    for row in rows:
        table.add_row(*row)
    _console.print(table)


@app.command("list")
def listing(product: str = typer.Argument(..., help="产品 ID / product id")) -> None:
    """产品的挂牌进程：状态、来源与经营权、评估、审核 / A product's listing: status, sources
    and their operation rights, assessment, reviews."""
    ctx = open_context()
    lang = ctx.settings.default_locale
    actor = system_actor()
    with ctx.db.transaction() as session:
        p = _products.get_product(session, actor, product_id=product)
        lines = [
            f"{p.id} · {p.title} · {label(LISTING_STATE, p.status).render(lang)}",
            say(_("pricing class")) + f": {label(PRICING_CLASS, p.pricing_class).render(lang)}",
        ]
        for s in _products.sources_of(session, product_id=p.id):
            lines.append(f"  {s.dataset_id} v{s.version} sha256 {s.sha256[:16]}… · {s.right_id}")
        for r in _listing.reviews_of(session, product_id=p.id):
            state = label(LISTING_REVIEW_STATE, r.status).render(lang)
            lines.append(f"  {r.reviewer_org_id} ({r.rule}) · {state}")
    _console.print("\n".join(lines))


@app.command("quote")
def quote(
    product: str = typer.Argument(..., help="产品 ID / product id"),
    purpose: str = typer.Option(..., "--purpose", help="用途代码 / purpose code"),
    quantity: int = typer.Option(1, "--quantity", "-n", help="数量 / units"),
    negotiation: str = typer.Option(
        None, "--negotiation", help="已接受的议价 / accepted negotiation"
    ),
) -> None:
    """询价：金额与平台服务费、运营方费用 / Quote: the amount and its fees, in yuan."""
    ctx = open_context()
    lang = ctx.settings.default_locale
    with ctx.db.transaction() as session:
        q = _products.quote(
            session,
            system_actor(),
            product_id=product,
            purpose=purpose,
            quantity=quantity,
            negotiation_id=negotiation,
        )
    table = Table(say(_("item")), say(_("amount")))
    unit = label(CHARGE_UNIT, q.unit).render(lang)
    for line in q.lines:
        table.add_row(
            f"{line.units} × {_pricing.yuan(line.unit_fen)} {unit}", _pricing.yuan(line.fen)
        )
    table.add_row(say(_("total")), _pricing.yuan(q.amount_fen))
    table.add_row(say(_("platform service fee")), _pricing.yuan(q.platform_fee_fen))
    table.add_row(say(_("operator fee")), _pricing.yuan(q.operator_fee_fen))
    table.add_row(say(_("to the seller")), _pricing.yuan(q.seller_fen))
    _console.print(table)
    if q.basis is not None:
        _console.print(q.basis.render(lang) + (" · " + say(_("trial tariff")) if q.trial else ""))


@app.command("verify")
def verify(
    certificate: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="交易凭证文件 / transaction certificate JSON"
    ),
    key: str = typer.Option(
        None,
        "--key",
        help="平台证书公钥（默认本机的）/ the certificate key (default: this server's)",
    ),
    log_key: str = typer.Option(
        None, "--log-key", help="审计日志公钥（默认本机的）/ the log's key (default: this server's)"
    ),
) -> None:
    """离线核验交易凭证 / Check a transaction certificate offline: its signature and its
    log entry's inclusion proof (no database, no server)."""
    try:
        doc = json.loads(certificate.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        err.print("[red]" + say(_("not valid JSON: {exc}", exc=exc)) + "[/]")
        raise typer.Exit(2) from exc
    settings = get_settings()
    key = key or certificate_signer(settings).verifier_key()
    log_key = log_key or transparency.log_signer(settings).verifier_key()
    try:
        document, size = certificates.check_file(doc, key=key, log_key=log_key)
    except VerificationError as exc:
        err.print("[red]" + say(_("INVALID: {exc}", exc=exc)) + "[/]")
        raise typer.Exit(1) from exc
    console.print(
        "[green]"
        + say(
            _(
                "VALID: {number} {product}, {buyer} from {seller}, {amount}",
                number=document["number"],
                product=document["product"]["title"],
                buyer=document["buyer"]["name"],
                seller=document["seller"]["name"],
                amount=ledger.yuan(int(document["amount_fen"])),
            )
        )
        + "[/]"
    )
    if size is None:
        console.print(
            say(_("Not yet in a checkpoint: its log proof is checked once one covers it."))
        )
    else:
        console.print(say(_("In the transparency log, proven in checkpoint {size}.", size=size)))


@app.command("report")
def annual_report(
    operator: str = typer.Option(..., "--operator", help="运营方机构 ID / the operator's org id"),
    year: int = typer.Option(..., "--year", help="年度 / the calendar year"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """年度经营情况报告 / An operator's annual report on public-data operation."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        found = report.annual_report(session, system_actor(), operator_org_id=operator, year=year)
    if as_json:
        console.print_json(json.dumps(found, ensure_ascii=False))
        return
    console.print(f"{found['operator']['name']} · {found['year']}")
    console.print(
        say(
            _(
                "Revenue posted in the year: {total} (product revenue {revenue}, operator fees {fees})",
                total=ledger.yuan(found["revenue"]["total_fen"]),
                revenue=ledger.yuan(found["revenue"]["revenue_fen"]),
                fees=ledger.yuan(found["revenue"]["operator_fee_fen"]),
            )
        )
    )
    table = Table(
        say(_("Period")), say(_("Allowed revenue")), say(_("Counted revenue")), say(_("Above it"))
    )
    for p in found["periods"]:
        table.add_row(
            f"{p['starts_at'][:10]} – {p['ends_at'][:10]}",
            ledger.yuan(p["allowed_fen"]),
            ledger.yuan(p["revenue_fen"]),
            ledger.yuan(p["excess_fen"]),
        )
    console.print(table)
    products = Table(
        say(_("Data product")), say(_("Cap per unit")), say(_("Within the cap")), say(_("Revenue"))
    )
    for p in found["products"]:
        products.add_row(
            p["title"],
            ledger.yuan(p["cap_unit_fen"]) if p["cap_unit_fen"] is not None else "—",
            say(_("yes")) if p["within_cap"] else say(_("no")),
            ledger.yuan(p["revenue_fen"]),
        )
    console.print(products)
    free, disputes = found["free_service"], found["disputes"]
    console.print(
        say(
            _(
                "Free service: {orders} orders, {units} units",
                orders=free["orders"],
                units=free["units"],
            )
        )
    )
    console.print(
        say(_("Disputes: {count}, {open} open", count=disputes["count"], open=disputes["open"]))
    )


# --- revenue shares ------------------------------------------------------------------------------
# ``yaosu market shares list|statement|value|pay``: read the shares, value a product's
# contributors in the platform, pay the shares whose objection window closed.

shares_app = typer.Typer(help="收益分成 / revenue shares", no_args_is_help=True)
app.add_typer(shares_app, name="shares")


@shares_app.command("list")
def shares_list(
    org: str = typer.Option(None, "--org", help="机构 ID / an organisation's shares"),
    as_json: bool = typer.Option(False, "--json", help="JSON 输出 / print JSON"),
) -> None:
    """列出收益分成 / List revenue shares, newest first."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        found = sharing.list_lines(session, system_actor(), org_id=org)
        names = accounts.org_names(session, ids=[x.org_id for x in found])
        rows = [
            {
                "id": x.id,
                "order": x.order_id,
                "party": names.get(x.org_id, x.org_id),
                "kind": x.kind,
                "role": x.task,
                "hop": x.hop,
                "amount_fen": x.amount_fen,
                "status": x.status,
                "method": x.evidence.get("method"),
            }
            for x in found
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(
        "ID",
        say(_("Order")),
        say(_("Party")),
        say(_("Kind")),
        say(_("Hop")),
        say(_("Amount")),
        say(_("Status")),
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["order"]),
            str(r["party"]),
            say(label(SHARE_KIND, str(r["kind"]))),
            str(r["hop"]),
            ledger.yuan(int(str(r["amount_fen"]))),
            say(label(SHARE_STATE, str(r["status"]))),
        )
    console.print(table)


@shares_app.command("statement")
def shares_statement(
    org: str = typer.Option(..., "--org", help="机构 ID / the contributor"),
    year: int = typer.Option(..., "--year", help="年 / year"),
    month: int = typer.Option(..., "--month", help="月 / month (1-12)"),
) -> None:
    """贡献方对账单（JSON）/ A contributor's statement for a month, with its evidence."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        found = sharing.statement(session, system_actor(), org_id=org, year=year, month=month)
        found["lines"] = [
            {
                "id": x.id,
                "order": x.order_id,
                "product": x.product_id,
                "kind": x.kind,
                "role": x.task,
                "hop": x.hop,
                "amount_fen": x.amount_fen,
                "share": x.exact,
                "status": x.status,
                "evidence": x.evidence,
                "objection_ends_at": x.objection_ends_at.isoformat(),
            }
            for x in found["lines"]
        ]
    typer.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))


@shares_app.command("value")
def shares_value(product: str = typer.Argument(..., help="产品 ID / the product")) -> None:
    """评估贡献（平台内计算）/ Value a product's contributors by its rule, in the platform."""
    ctx = open_context()
    found = valuations.run_valuation(ctx, system_actor(), product_id=product)
    with ctx.db.transaction() as session:
        names = accounts.org_names(session, ids=found.players)
    for org, value in found.values.items():
        console.print(f"{names.get(org, org)}\t{value:.6f}", highlight=False)


@shares_app.command("pay")
def shares_pay() -> None:
    """支付已过异议期的分成 / Pay the shares whose objection window has closed."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        paid = sharing.pay_due(session, system_actor())
    console.print(say(_("{count} shares paid", count=paid)))
