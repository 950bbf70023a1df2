"""Market ledger benchmark: 100,000 orders with fees through Yaosu's ledger, on SQLite and on
PostgreSQL, then the day's settlement; beancount loading and balance-checking the same
postings, in one run.

Each order is five transfers, as the market writes them:

1. the buyer's payment: the platform's bank account to the buyer's escrow (``bank_receipt``);
2. the hold: a *pending* transfer from the escrow to the seller's revenue, with a 7-day
   acceptance timeout (the escrow, in TigerBeetle's two-phase model);
3. the release: the *post* of that pending transfer, on acceptance;
4. the operator's fee (8 %) and 5. the platform's service fee (2 %), from the escrow.

Payments and holds go in one linked ``post_batch`` per ``--batch`` orders, releases and fees
in a second (a post names its pending transfer by the id the first batch returned, so the
two phases cannot share a batch), each batch committed in its own transaction, backdated
across yesterday (China Standard Time) from 09:00 to 21:00; then ``settle()`` clears that day
(T+1). Both databases are durable: SQLite with ``synchronous=FULL``, PostgreSQL as installed.

The posted movements (1, 3, 4, 5: eight postings per order, the hold moves no balance) are
then written out from Yaosu's own database as a beancount file, with an ``open`` directive
and a ``balance`` assertion per account, and beancount 3 (``bench/.peers``, installed by
``make peers``, never a project dependency) loads it: parse, booking, validation, balance
checks. Postings per second compare the same eight postings per order on both sides. The
figures are printed only if both sides agree (``check``): beancount without errors, the
same postings on every side, the same balances on both backends.

PostgreSQL: ``YAOSU_TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test`` (as the
tests use); a throwaway database is created beside it and dropped afterwards.

    python bench/market.py [--orders 100000] [--batch 1000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from common import HERE, machine, measure, stamp

PEERS = HERE / ".peers"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

YAOSU = r"""
import hashlib, json, math, os, random, statistics, time
from datetime import timedelta
os.environ["USER"] = "bench"
p = json.loads(os.environ["MARKET_BENCH"])
from sqlalchemy import event, func, select
from yaosu.accounts import service as accounts
from yaosu.kernel.actor import system_actor
from yaosu.kernel.db import Database
from yaosu.kernel.settings import Settings
from yaosu.market import ledger, settlement
from yaosu.market.models import LedgerTransfer
from yaosu.market.ledger import Spec

db = Database(Settings(home=p["home"], database_url=p["url"], env="development"))
db.upgrade()
actor = system_actor()
rng = random.Random(20261203)
with db.transaction() as s:  # the participants and their accounts (not timed)
    def org(name, kind):
        return accounts.create_org(s, actor, name=name, kinds=[kind]).id
    platform = org("要素数据交易平台运营中心", "platform")
    buyers = [org(f"数据使用方{i:04d}", "consumer") for i in range(p["buyers"])]
    sellers = [org(f"数据提供方{i:04d}", "provider") for i in range(p["sellers"])]
    operators = [org(f"授权运营方{i:03d}", "operator") for i in range(p["operators"])]
    bank = ledger.open_account(s, org_id=platform, code="bank")
    service = ledger.open_account(s, org_id=platform, code="service_fee")
    escrow = [ledger.open_account(s, org_id=o, code="escrow") for o in buyers]
    revenue = [ledger.open_account(s, org_id=o, code="revenue") for o in sellers]
    opfee = [ledger.open_account(s, org_id=o, code="operator_fee") for o in operators]
names = {bank: "Assets:Bank:Platform", service: "Income:Platform:ServiceFee"}
names.update({a: f"Liabilities:Escrow:B{i:04d}" for i, a in enumerate(escrow)})
names.update({a: f"Liabilities:Revenue:S{i:04d}" for i, a in enumerate(revenue)})
names.update({a: f"Liabilities:OperatorFee:P{i:03d}" for i, a in enumerate(opfee)})

# The orders: a data product's price, lognormal around ¥1,200 (¥1 to ¥500,000), in fen.
orders = []
for n in range(p["orders"]):
    price = min(max(int(math.exp(rng.gauss(11.7, 1.1))), 100), 50_000_000)
    orders.append((f"ORD{n:08d}", rng.randrange(len(escrow)), rng.randrange(len(revenue)),
                   rng.randrange(len(opfee)), price, price * 8 // 100, price * 2 // 100))

queries = [0]
event.listen(db.engine, "before_cursor_execute", lambda *a: queries.__setitem__(0, queries[0] + 1))
day = settlement.last_clearable(lag_days=1)  # yesterday, China Standard Time
start = settlement.period_bounds(day)[0] + timedelta(hours=9)
size = p["batch"]
chunks = [orders[i:i + size] for i in range(0, len(orders), size)]
step = timedelta(hours=12) / len(chunks)
hold_times, release_times = [], []
queries[0] = 0
t0 = time.perf_counter()
for k, chunk in enumerate(chunks):
    at = start + step * k
    first = []
    for ref, b, sl, op, price, of, sf in chunk:
        first.append(Spec(key=f"{ref}:pay", code="bank_receipt", amount=price, debit=bank,
                          credit=escrow[b], ref=ref))
        first.append(Spec(key=f"{ref}:hold", code="order", amount=price - of - sf, kind="pending",
                          debit=escrow[b], credit=revenue[sl], ref=ref,
                          timeout_seconds=7 * 86400))
    t = time.perf_counter()
    with db.transaction() as s:
        held = ledger.post_batch(s, actor, transfers=first, at=at)
    hold_times.append(time.perf_counter() - t)
    second = []
    for (ref, b, sl, op, price, of, sf), hold in zip(chunk, held[1::2]):
        second.append(Spec(key=f"{ref}:release", code="order", kind="post", pending_id=hold.id))
        second.append(Spec(key=f"{ref}:operator-fee", code="operator_fee", amount=of,
                           debit=escrow[b], credit=opfee[op], ref=ref))
        second.append(Spec(key=f"{ref}:service-fee", code="service_fee", amount=sf,
                           debit=escrow[b], credit=service, ref=ref))
    t = time.perf_counter()
    with db.transaction() as s:
        ledger.post_batch(s, actor, transfers=second, at=at + step / 2)
    release_times.append(time.perf_counter() - t)
post_s = time.perf_counter() - t0
post_queries = queries[0]

queries[0] = 0
t = time.perf_counter()
with db.transaction() as s:
    made = settlement.settle(s, actor, lag_days=1, period=day)
    stats = {"statements": len(made), "settled_postings": sum(m.postings for m in made)}
settle_s = time.perf_counter() - t
settle_queries = queries[0]

with db.transaction() as s:  # checks, and the same postings for beancount (not timed)
    accts = {a.id: a for a in ledger.accounts_of(s)}
    assert all(a.debits_pending == 0 and a.credits_pending == 0 for a in accts.values())
    assert sum(a.debits_posted for a in accts.values()) == sum(a.credits_posted for a in accts.values())
    assert all(ledger.balance(accts[a]) == 0 for a in escrow)  # every escrow released
    # Every account's posted counters equal the sums of its transfers, every hold was resolved
    # once, and the statements equal the day's transfers, recomputed. (Not with
    # settlement.reconciliation(): on PostgreSQL its open-pendings query, NOT IN over every
    # pending id, did not finish in minutes at 100,000 orders.)
    sums = {a: [0, 0] for a in accts}
    for i, side in enumerate((LedgerTransfer.debit_account_id, LedgerTransfer.credit_account_id)):
        for a, total in s.execute(select(side, func.sum(LedgerTransfer.amount))
                                  .where(LedgerTransfer.kind.in_(settlement.POSTED)).group_by(side)):
            sums[a][i] = int(total)
    assert all(sums[a] == [x.debits_posted, x.credits_posted] for a, x in accts.items())
    kinds = dict(s.execute(select(LedgerTransfer.kind, func.count())
                           .group_by(LedgerTransfer.kind)).all())
    resolved = s.scalar(select(func.count(func.distinct(LedgerTransfer.pending_id))))
    assert kinds == {"single": 3 * len(orders), "pending": len(orders), "post": len(orders)}, kinds
    assert resolved == len(orders)
    again = settlement.positions(s, period=day)
    assert {m.org_id: (m.debits, m.credits, m.net, m.postings) for m in made} == {
        o: (x.debits, x.credits, x.net, x.postings) for o, x in again.items()}
    assert sum(m.net for m in made) == 0
    # What each backend's run leaves, by account name: the same orders give the same digest.
    stats["digest"] = hashlib.sha256(json.dumps(sorted(
        (names[a], acct.debits_posted, acct.credits_posted) for a, acct in accts.items()
    )).encode()).hexdigest()[:16]
    if p.get("export"):
        rows = s.execute(
            select(LedgerTransfer.debit_account_id, LedgerTransfer.credit_account_id,
                   LedgerTransfer.amount, LedgerTransfer.code, LedgerTransfer.ref)
            .where(LedgerTransfer.kind.in_(settlement.POSTED))
            .order_by(LedgerTransfer.created_at, LedgerTransfer.id))
        def money(fen):
            sign = "-" if fen < 0 else ""
            return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
        opened = day - timedelta(days=1)
        with open(p["export"], "w", encoding="utf-8") as fh:
            # A balance assertion written to the fen passes within 2 x multiplier fen of its
            # figure: 0.8 fen here, so one fen off fails (the default, 0.5, lets it pass).
            fh.write('option "title" "Yaosu market bench"\noption "operating_currency" "CNY"\n'
                     'option "tolerance_multiplier" "0.4"\n\n')
            for a in sorted(names.values()):
                fh.write(f"{opened} open {a} CNY\n")
            fh.write("\n")
            count = 0
            for debit, credit, amount, code, ref in rows:
                fh.write(f'{day} * "{ref}" "{code}"\n  {names[debit]}  {money(amount)} CNY\n'
                         f"  {names[credit]}  {money(-amount)} CNY\n\n")
                count += 1
            for a in sorted(names, key=names.get):
                acct = accts[a]
                fh.write(f"{day + timedelta(days=1)} balance {names[a]}  "
                         f"{money(acct.debits_posted - acct.credits_posted)} CNY\n")
        stats["exported_transfers"] = count
db.dispose()
print(json.dumps({
    "orders": len(orders), "transfers": 5 * len(orders), "postings": 8 * len(orders),
    "accounts": len(names), "batches": len(chunks), "post_s": post_s,
    "hold_batch_s": statistics.median(hold_times), "release_batch_s": statistics.median(release_times),
    "post_queries": post_queries, "settle_s": settle_s, "settle_queries": settle_queries,
    "day": day.isoformat(), **stats,
}))
"""

BEANCOUNT = r"""
import json, os, time
p = json.loads(os.environ["MARKET_BENCH"])
t = time.perf_counter()
from beancount import loader
from beancount.core import data
import_s = time.perf_counter() - t
loader.initialize(use_cache=False)  # parse every time: no pickle cache of an earlier load
timings = []
STAGES = ("parse", "booking", "beancount.ops.balance", "run_transformations", "beancount.ops.validate")
t = time.perf_counter()
entries, errors, options = loader.load_file(p["ledger"], log_timings=timings.append)
load_s = time.perf_counter() - t
txns = [e for e in entries if isinstance(e, data.Transaction)]
print(json.dumps({
    "load_s": load_s, "import_s": import_s, "errors": len(errors),
    "first_errors": [str(e.message) for e in errors[:3]],
    "transactions": len(txns), "postings": sum(len(e.postings) for e in txns),
    "balances": sum(isinstance(e, data.Balance) for e in entries),
    "opens": sum(isinstance(e, data.Open) for e in entries),
    "timings": {line.split("'")[1]: int(line.split()[-2]) for line in timings
                if line.startswith("Operation") and line.split("'")[1] in STAGES},
}))
"""


def peers_python() -> str:
    """The peers' interpreter (``make peers`` installs beancount there); exits if it is not."""
    python = PEERS / "bin" / "python"
    if (
        not python.exists()
        or subprocess.run([str(python), "-c", "import beancount"], capture_output=True).returncode
    ):
        raise SystemExit(f"beancount is not installed in {PEERS}: run `make peers` first")
    return str(python)


def pg_admin() -> str | None:
    url = os.environ.get("YAOSU_TEST_DATABASE_URL") or PG_DEFAULT
    try:
        with psycopg.connect(url, connect_timeout=2):
            return url
    except psycopg.Error:
        return None


def pg_durability(admin: str) -> str:
    with psycopg.connect(admin) as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('server_version', 'fsync', 'synchronous_commit') ORDER BY name"
        ).fetchall()
    return ", ".join(f"{name} {setting}" for name, setting in rows)


def check(results: dict[str, dict[str, float]], bean: dict[str, float]) -> None:
    """The figures count only if both sides did the same, complete, work."""
    y0 = results["sqlite"]
    problems = []
    if bean["errors"]:
        problems.append(f"beancount: {bean['errors']} errors, {bean['first_errors']}")
    if not bean["transactions"] == y0["exported_transfers"] == 4 * y0["orders"]:
        problems.append("beancount's transactions are not the exported transfers, 4 per order")
    if not bean["opens"] == bean["balances"] == y0["accounts"]:
        problems.append("beancount has not one open and one balance per account")
    for backend, r in results.items():
        if not bean["postings"] == r["settled_postings"] == r["postings"]:
            problems.append(
                f"{backend} settled {r['settled_postings']:,} postings,"
                f" beancount read {bean['postings']:,}"
            )
        if (r["digest"], r["statements"]) != (y0["digest"], y0["statements"]):
            problems.append(f"{backend} ends with other balances than sqlite")
    if problems:
        raise SystemExit("the runs disagree: " + "; ".join(problems))


def pg_exec(admin: str, sql: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def run_yaosu(params: dict[str, object]) -> dict[str, float]:
    return measure(YAOSU, env={"MARKET_BENCH": json.dumps(params)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="orders per post_batch")
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--sellers", type=int, default=300)
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    peers = peers_python()
    load_start = os.getloadavg()[0]
    common = {
        "orders": args.orders,
        "batch": args.batch,
        "buyers": args.buyers,
        "sellers": args.sellers,
        "operators": args.operators,
    }
    work = Path(tempfile.mkdtemp(prefix="yaosu-market-bench-"))
    beanfile = work / "market.beancount"
    results: dict[str, dict[str, float]] = {}
    admin = None if args.no_postgres else pg_admin()
    if admin is None and not args.no_postgres:
        print("PostgreSQL is not reachable: SQLite only")
    pg_settings = pg_durability(admin) if admin is not None else ""
    try:
        results["sqlite"] = run_yaosu(
            {
                **common,
                "home": str(work / "sqlite"),
                "url": f"sqlite:///{work / 'sqlite' / 'yaosu.db'}",
                "export": str(beanfile),
            }
        )
        if admin is not None:
            name = f"yaosu_bench_{secrets.token_hex(4)}"
            pg_exec(admin, f'CREATE DATABASE "{name}"')
            try:
                url = admin.rsplit("/", 1)[0] + f"/{name}"
                results["postgresql"] = run_yaosu({**common, "home": str(work / "pg"), "url": url})
            finally:
                pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        bean_mb = beanfile.stat().st_size / 2**20
        bean = measure(
            BEANCOUNT,
            env={"MARKET_BENCH": json.dumps({"ledger": str(beanfile)})},
            python=peers,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    check(results, bean)
    y0 = results["sqlite"]
    print(
        f"# market ledger benchmark, {stamp()}, {machine()}, load average {load_start:.1f}"
        f" at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    if pg_settings:
        print(f"PostgreSQL: {pg_settings}; SQLite: WAL, synchronous=FULL")
    print(
        f"{y0['orders']:,} orders, {y0['transfers']:,} transfers ({y0['postings']:,} postings of"
        f" posted movements), {y0['accounts']:,} accounts, {y0['batches']} + {y0['batches']}"
        f" batches of {args.batch:,} orders; beancount file {bean_mb:.1f} MB with"
        f" {bean['opens']:,} open and {bean['balances']:,} balance directives, 0 errors;"
        f" checked: every backend settled the {y0['postings']:,} postings beancount read, the"
        f" same balances per account (digest {y0['digest']}), counters = sums of transfers,"
        f" statements = the day's transfers"
    )
    bean_rate = bean["postings"] / bean["load_s"]
    print(
        "| run | seconds | postings/s | Yaosu / beancount (postings/s) | peak MB |\n"
        "|---|---:|---:|---:|---:|"
    )
    for backend, r in results.items():
        for label, seconds in (
            ("post_batch, all orders", r["post_s"]),
            ("settle() of the day", r["settle_s"]),
            ("post + settle", r["post_s"] + r["settle_s"]),
        ):
            rate = r["postings"] / seconds
            print(
                f"| Yaosu {backend}: {label} | {seconds:,.2f} | {rate:,.0f} |"
                f" {rate / bean_rate:.2f}x | {r['peak_mb']:.0f} |"
            )
    print(
        f"| beancount 3.2.3: load_file (parse, book, validate, balance checks) |"
        f" {bean['load_s']:,.2f} | {bean_rate:,.0f} | 1.00x | {bean['peak_mb']:.0f} |"
    )
    for backend, r in results.items():
        print(
            f"{backend}: median batch {r['hold_batch_s'] * 1000:.0f} ms (payments + holds),"
            f" {r['release_batch_s'] * 1000:.0f} ms (releases + fees);"
            f" {r['post_queries']:,} statements to post, {r['settle_queries']} to settle;"
            f" {r['statements']} statements, {r['settled_postings']:,} postings settled"
        )
    print(
        "beancount stages, ms:",
        ", ".join(f"{stage} {ms:,}" for stage, ms in bean["timings"].items()),
        "(ops.balance, the balance assertions, is part of run_transformations)",
    )
    if "postgresql" in results:
        pg = results["postgresql"]
        total = pg["post_s"] + pg["settle_s"]
        scope = "" if pg["orders"] == 100_000 else " (the target is set for 100,000)"
        print(
            f"target, {pg['orders']:,} orders on PostgreSQL in under 30 s{scope}:"
            f" settle() {pg['settle_s']:.1f} s: {'met' if pg['settle_s'] < 30 else 'NOT met'};"
            f" post + settle {total:.1f} s: {'met' if total < 30 else 'NOT met'}"
        )
    faster = [
        f"{b} {label} {r['postings'] / r[what] / bean_rate:.2f}x:"
        f" {'met' if r['postings'] / r[what] > bean_rate else 'NOT met'}"
        for b, r in results.items()
        for label, what in (("post_batch", "post_s"), ("settle()", "settle_s"))
    ]
    print("target, faster than beancount on the same postings:", "; ".join(faster))
    print(json.dumps({"yaosu": results, "beancount": bean}))


if __name__ == "__main__":
    main()
