"""The demo world: organisations for every role, users, and three real datasets.

Every later capability extends this world, so ``make demo`` always shows all of Yaosu.
Seeding is idempotent: a second run finds the world and leaves it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from yaosu.accounts import service as accounts
from yaosu.audit import transparency
from yaosu.audit.keys import load_or_create
from yaosu.audit.verify import COSIGNATURE
from yaosu.authorization import service as authorization
from yaosu.authorization.schemas import Conditions, RequestCreate
from yaosu.catalog import dictionary, versions
from yaosu.catalog import service as catalog
from yaosu.catalog.schemas import DatasetCreate, DictionaryIn
from yaosu.context import Context
from yaosu.demo import compute as demo_compute
from yaosu.demo import contributions, world
from yaosu.demo import market as demo_market
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.i18n import _, say
from yaosu.market import service as market
from yaosu.market.schemas import ProductCreate
from yaosu.privacy import service as privacy
from yaosu.privacy import unit as privacy_unit
from yaosu.rights import service as rights

DEMO_PASSWORD = "yaosu-demo-2026"  # development only: refused when YAOSU_ENV=production

ORGS = [
    # key, name, kinds, department, uscc
    ("platform", "要素数据交易平台运营中心", ["platform"], None, None),
    ("bureau", "江州市数据局", ["provider"], None, None),
    ("ai", "智谷人工智能科技有限公司", ["operator", "consumer"], None, None),
    ("coop", "青禾农民专业合作社", ["consumer", "provider"], None, None),
    ("cac", "江州市委网信办", ["regulator"], "网信", None),
    ("dsj", "江州省数据局", ["regulator"], "数据局", None),
    ("assessor", "诚信数据资产评估有限公司", ["assessor"], None, None),
]

USERS = [
    # username, org key, role, display name
    ("platform-admin", "platform", "admin", "平台管理员"),
    ("bureau-admin", "bureau", "admin", "市数据局管理员"),
    ("bureau-analyst", "bureau", "member", "市数据局数据专员"),
    ("bureau-reviewer", "bureau", "reviewer", "市数据局审核员"),
    ("ai-analyst", "ai", "admin", "智谷算法工程师"),
    ("ai-ethics", "ai", "reviewer", "智谷科技伦理委员会秘书"),
    ("coop-manager", "coop", "admin", "合作社理事长"),
    ("cac-inspector", "cac", "reviewer", "网信办检查员"),
    ("dsj-inspector", "dsj", "reviewer", "省数据局监管员"),
    ("assessor", "assessor", "admin", "评估师"),
]

DATASETS: list[tuple[Callable[[Path], Path], str, DatasetCreate]] = [
    (
        world.farm_sales,
        "farm_sales_2024_gbk.csv",
        DatasetCreate(
            title="2024年各乡镇农产品销售数据",
            description="全市各乡镇、村主要农产品月度销量、销售额与收购均价，来自农业农村部门统计报表。",
            keywords=["农产品", "乡村振兴", "销售", "农业统计"],
            theme="农业农村",
            licence="CC-BY-4.0",
            update_frequency="monthly",
            openness="open",
        ),
    ),
    (
        world.insured_residents,
        "insured_residents_utf8bom.csv",
        DatasetCreate(
            title="江州市城乡居民社会保险参保人员信息",
            description="城乡居民养老与医疗保险参保人员明细，含姓名、身份证号、手机号等个人信息，须申请并经审核后在平台内受控使用。",
            keywords=["社会保障", "参保", "个人信息"],
            theme="社会保障",
            licence="有条件开放协议",
            update_frequency="quarterly",
            openness="conditional",
        ),
    ),
    (
        world.enterprise_power,
        "enterprise_power_2024.ndjson",
        DatasetCreate(
            title="江州市重点企业月度用电量",
            description="重点企业逐月用电量，涉及企业经营信息，不予开放。",
            keywords=["能源", "用电量", "企业"],
            theme="能源",
            licence="不予开放",
            update_frequency="monthly",
            openness="closed",
        ),
    ),
]


@dataclass
class DemoWorld:
    created: bool
    users: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # username, org, role, name
    datasets: list[tuple[str, str, str]] = field(default_factory=list)  # id, title, openness label


def seed(ctx: Context) -> DemoWorld:
    if ctx.settings.env == "production":
        raise RuntimeError("the demo world is for development only (YAOSU_ENV=production)")
    system = system_actor()
    with ctx.db.transaction() as session:
        created = ORGS[1][1] not in accounts.org_names(session).values()
        if created:
            orgs = {}
            for key, name, kinds, department, code in ORGS:
                orgs[key] = accounts.create_org(
                    session, system, name=name, kinds=kinds, department=department, uscc=code
                )
            for username, key, role, display in USERS:
                accounts.create_user(
                    session,
                    system,
                    org_id=orgs[key].id,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display,
                )
    with ctx.db.transaction() as session:
        bureau = _actor(session, "bureau-admin")
    folder = ctx.settings.home_dir / "demo-files"
    folder.mkdir(parents=True, exist_ok=True)
    for make, filename, meta in DATASETS:
        # Resumable: a dataset (or its version) missing after an interrupted run is made now.
        with ctx.db.transaction() as session:
            ds = _dataset(
                session, meta.title, exact=True, owner=bureau.org_id
            ) or catalog.create_dataset(session, bureau, data=meta)
        if ds.latest_version == 0:
            path = make(folder / filename)
            versions.run_ingest(ctx, bureau, dataset_id=ds.id, source=path, filename=filename)
    screen_and_review(ctx)
    write_dictionaries(ctx)
    authorise(ctx)
    register_rights(ctx)
    trade(ctx)
    with ctx.db.transaction() as session:
        platform_admin = _actor(session, "platform-admin")
    demo_market.trade(ctx, platform=platform_admin)
    contributions.contribute(ctx)
    demo_compute.compute(ctx)
    witness_the_log(ctx)
    return describe(ctx, created)


def _actor(session: Any, username: str) -> Actor:
    user = accounts.user_named(session, username=username)
    actor = accounts.active_actor(session, user_id=user.id) if user is not None else None
    assert actor is not None, username
    return actor


def _dataset(session: Any, title: str, *, exact: bool = False, owner: str | None = None) -> Any:
    """The demo dataset with this title (or one containing it); the demo world is small."""
    listing = catalog.list_datasets(session, system_actor(), provider=owner, limit=100)
    found = (d for d in listing.items if (d.title == title if exact else title in d.title))
    return next(found, None)


def authorise(ctx: Context) -> None:
    """The cooperative asks for the residents' data for rural revitalisation; the 网信 office
    narrows the budget, the bureau approves (its acceptance), the cooperative's admin accepts
    the terms, and the contract has been used twice. A second request waits in the
    reviewers' inboxes."""
    with ctx.db.transaction() as session:
        if authorization.count_requests(session):
            return
        coop, cac, reviewer = (
            _actor(session, u) for u in ("coop-manager", "cac-inspector", "bureau-reviewer")
        )
        residents = _dataset(session, "参保人员")
        assert residents is not None
        fields = ["所属乡镇", "参保类型", "缴费档次(元)"]
        req = authorization.submit_request(
            session,
            coop,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="rural_revitalisation",
                datasets={residents.id: fields},
                aliases={"参保人员": residents.id},  # the name its governed SQL uses
                operations=["aggregate"],
                days=180,
                max_uses=200,
                epsilon=4.0,
                justification="按乡镇统计参保结构与缴费档次，测算农业生产互助资金需求。",
            ),
        )
        authorization.review(
            session,
            cac,
            settings=ctx.settings,
            request_id=req.id,
            decision="conditional",
            reason="个人信息用于统计，预算减半",
            conditions=Conditions(epsilon=2.0),
        )
        done = authorization.review(
            session,
            reviewer,
            settings=ctx.settings,
            request_id=req.id,
            decision="approve",
            reason="用途正当、字段必要",
        )
        assert done.contract_id is not None
        authorization.accept(session, coop, contract_id=done.contract_id)
        for epsilon in (0.5, 0.25):
            authorization.use(
                session,
                coop,
                contract_id=done.contract_id,
                operation="aggregate",
                dataset_id=residents.id,
                fields=["所属乡镇"],
                epsilon=epsilon,
            )
        authorization.submit_request(
            session,
            coop,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={residents.id: ["所属乡镇", "参保状态"]},
                operations=["aggregate"],
                days=30,
                epsilon=1.0,
                justification="核对本社成员所在乡镇的参保状态，用于互助救济名单测算。",
            ),
        )


def register_rights(ctx: Context) -> None:
    """The bureau's holding right over the farm sales is registered (certificate issued);
    its processing-use licence to the AI company is in public notice, open to objection."""
    with ctx.db.transaction() as session:
        if rights.list_registrations(session, system_actor()):
            return
        bureau, platform, ai = (
            _actor(session, u) for u in ("bureau-admin", "platform-admin", "ai-analyst")
        )
        farm = _dataset(session, "农产品")
        assert farm is not None
        holding = rights.apply(
            session,
            bureau,
            settings=ctx.settings,
            kind="holding",
            dataset_id=farm.id,
            statement="市农业农村部门统计报表汇集形成，由本局依法归集持有。",
            purposes=[],
        )
        rights.accept(
            session, platform, settings=ctx.settings, registration_id=holding.id, note="材料齐全"
        )
        rights.formal_review(
            session,
            platform,
            settings=ctx.settings,
            registration_id=holding.id,
            passed=True,
            note="形式审查通过",
        )
        # The demo does not wait ten days: its notice window is moved into the past.
        earlier = timedelta(days=ctx.settings.notice_days + 1)
        assert holding.notice_starts_at is not None and holding.notice_ends_at is not None
        holding.notice_starts_at -= earlier
        holding.notice_ends_at -= earlier
        rights.issue(session, platform, settings=ctx.settings, registration_id=holding.id)
        licence = rights.apply(
            session,
            bureau,
            settings=ctx.settings,
            kind="processing",
            dataset_id=farm.id,
            parent_id=holding.grant_id,
            holder_org_id=ai.org_id,
            purposes=["rural_revitalisation"],
            years=2,
            statement="许可智谷科技加工使用，训练农产品需求预测模型。",
        )
        rights.accept(
            session, platform, settings=ctx.settings, registration_id=licence.id, note="材料齐全"
        )
        rights.formal_review(
            session,
            platform,
            settings=ctx.settings,
            registration_id=licence.id,
            passed=True,
            note="形式审查通过",
        )


def _registered(ctx: Context, session: Any, reg: Any) -> Any:
    """A registration taken through acceptance, formal review, a notice window moved into
    the past (the demo does not wait) and its certificate; returns its grant's id."""
    platform = _actor(session, "platform-admin")
    rights.accept(session, platform, settings=ctx.settings, registration_id=reg.id, note="材料齐全")
    rights.formal_review(
        session,
        platform,
        settings=ctx.settings,
        registration_id=reg.id,
        passed=True,
        note="形式审查通过",
    )
    earlier = timedelta(days=ctx.settings.notice_days + 1)
    reg.notice_starts_at -= earlier
    reg.notice_ends_at -= earlier
    rights.issue(session, platform, settings=ctx.settings, registration_id=reg.id)
    return reg.grant_id


def _listed(ctx: Context, session: Any, product: Any, *, reviewers: tuple[str, ...]) -> None:
    """A submitted product assessed by the platform, approved by its reviewers, and listed
    once its notice window (moved into the past) ends."""
    platform = _actor(session, "platform-admin")
    market.assess(
        session, platform, product_id=product.id, passed=True, note="权属清晰、已完成分类分级"
    )
    for username in reviewers:
        market.review(
            session,
            _actor(session, username),
            settings=ctx.settings,
            product_id=product.id,
            approve=True,
            note="同意挂牌",
        )
    product.notice_ends_at -= timedelta(days=ctx.settings.notice_days + 1)
    market.publish(session, platform, product_id=product.id)


def trade(ctx: Context) -> None:
    """The market: the bureau registers its operation right over the farm data and licenses
    one to the AI company; three products are listed, one of each pricing class (the
    bureau's open data, free; the AI company's query service over public data, capped by
    the provincial 数据局, with its revenue period; its demand-forecasting model at a
    negotiated price, which the cooperative has agreed); a fourth waits in assessment, with
    the assessor's quality report."""
    with ctx.db.transaction() as session:
        if market.list_products(session, system_actor(), limit=1):
            return
        bureau, ai, coop, dsj, assessor = (
            _actor(session, u)
            for u in ("bureau-admin", "ai-analyst", "coop-manager", "dsj-inspector", "assessor")
        )
        farm = _dataset(session, "农产品")
        assert farm is not None
        holding = next(
            g
            for g in rights.list_grants(
                session, bureau, holder_org_id=bureau.org_id, dataset_id=farm.id
            )
            if g.kind == "holding" and g.status == "active"
        )
        _registered(
            ctx,
            session,
            rights.apply(
                session,
                bureau,
                settings=ctx.settings,
                kind="operation",
                dataset_id=farm.id,
                statement="本局对所持农产品销售数据享有数据产品经营权，用于开放数据产品。",
            ),
        )
        _registered(
            ctx,
            session,
            rights.apply(
                session,
                bureau,
                settings=ctx.settings,
                kind="operation",
                dataset_id=farm.id,
                parent_id=holding.id,
                holder_org_id=ai.org_id,
                years=2,
                statement="授权智谷科技运营农产品销售数据产品（公共数据授权运营）。",
            ),
        )
        source = [{"dataset_id": farm.id}]
        free = market.create_product(
            session,
            bureau,
            data=ProductCreate(
                kind="dataset_version",
                title="各乡镇农产品销售数据（开放数据整版）",
                description="全市各乡镇农产品月度销售数据整版下载，无条件开放、免费获取。",
                sources=source,
                public_data=True,
                pricing_class="free",
                price={"model": "free", "unit": "count"},
                purposes=[
                    "public_governance",
                    "public_welfare",
                    "rural_revitalisation",
                    "industry_development",
                ],
            ),
        )
        market.submit(session, bureau, product_id=free.id)
        _listed(ctx, session, free, reviewers=("bureau-reviewer", "dsj-inspector"))
        capped = market.create_product(
            session,
            ai,
            data=ProductCreate(
                kind="query_service",
                title="农产品销售统计查询服务",
                description="按乡镇、品类统计销量与收购均价的受控查询服务（原始数据不出域），按调用次数阶梯计费。",
                sources=source,
                public_data=True,
                pricing_class="capped",
                price={
                    "model": "tiered",
                    "unit": "calls",
                    "tiers": [
                        {"up_to": 1000, "unit_fen": 50},
                        {"up_to": 10000, "unit_fen": 30},
                        {"up_to": None, "unit_fen": 20},
                    ],
                },
                purposes=[
                    "industry_development",
                    "rural_revitalisation",
                    "scientific_research",
                    "public_welfare",
                ],
                platform_fee_bp=300,
                operator_fee_bp=200,
            ),
        )
        market.set_cap(
            session, dsj, product_id=capped.id, cap_unit_fen=60, note="按成本核定上限收费标准"
        )
        market.submit(session, ai, product_id=capped.id)
        _listed(ctx, session, capped, reviewers=("bureau-reviewer", "dsj-inspector"))
        now = capped.first_listed_at
        assert now is not None
        market.open_period(
            session,
            dsj,
            operator_org_id=str(ai.org_id),
            starts_at=now - timedelta(days=30),
            ends_at=now + timedelta(days=335),
            cost_fen=8_000_000,
            profit_fen=800_000,
            tax_fen=480_000,
        )
        model = market.create_product(
            session,
            ai,
            data=ProductCreate(
                kind="release",
                title="乡镇农产品需求预测模型",
                description="以农产品销售数据训练的月度需求预测模型及其评估报告，价格面议。",
                sources=source,
                public_data=False,
                pricing_class="market",
                price={"model": "negotiated", "unit": "count"},
                purposes=["industry_development", "commercial_marketing"],
                platform_fee_bp=300,
            ),
        )
        market.submit(session, ai, product_id=model.id)
        _listed(ctx, session, model, reviewers=("bureau-reviewer",))
        deal = market.open_negotiation(
            session,
            coop,
            product_id=model.id,
            purpose="industry_development",
            quantity=1,
            amount_fen=2_000_000,
        )
        market.respond(session, ai, negotiation_id=deal.id, answer="counter", amount_fen=2_600_000)
        market.respond(session, coop, negotiation_id=deal.id, answer="accept")
        waiting = market.create_product(
            session,
            ai,
            data=ProductCreate(
                kind="extract_subscription",
                title="农产品销售月度去标识化数据订阅",
                description="每月交付去标识化的乡镇农产品销售明细，按数据量计费。",
                sources=source,
                public_data=True,
                pricing_class="capped",
                price={"model": "fixed", "unit": "megabytes", "unit_fen": 800},
                purposes=["industry_development", "scientific_research"],
                platform_fee_bp=300,
                operator_fee_bp=200,
            ),
        )
        market.set_cap(session, dsj, product_id=waiting.id, cap_unit_fen=1000)
        market.submit(session, ai, product_id=waiting.id)
        market.report(
            session,
            assessor,
            product_id=waiting.id,
            kind="quality",
            summary="字段完整率99.2%，月度更新及时，口径与统计报表一致。",
            score=92,
        )


def screen_and_review(ctx: Context) -> None:
    """Every demo dataset is screened; the bureau's reviewer confirms each screen, so the open
    farm data is readable by all and the residents' data is confirmed as personal."""
    with ctx.db.transaction() as session:
        reviewer = _actor(session, "bureau-reviewer")
        analyst = _actor(session, "bureau-analyst")
        listing = catalog.list_datasets(
            session, system_actor(), provider=reviewer.org_id, limit=100
        )
        for ds in listing.items:
            if ds.latest_version == 0 or any(
                s.status == "confirmed"
                for s in privacy.list_screens(session, reviewer, dataset_id=ds.id)
            ):
                continue
            screen = privacy.screen_version(
                session, analyst, store=ctx.store, settings=ctx.settings, dataset_id=ds.id
            )
            privacy.review(session, reviewer, screen_id=screen.id, note="演示：已人工复核")
            # The reviewer declares what one person is in each personal dataset (the screen's
            # proposal), so differential privacy is answered per person, not per row.
            proposal = privacy_unit.propose(screen.findings) if screen.personal else None
            if proposal is not None:
                privacy_unit.declare(
                    session,
                    reviewer,
                    dataset_id=ds.id,
                    columns=proposal.columns,
                    note=f"演示：采用筛查建议（{proposal.why_zh}）",
                )


def write_dictionaries(ctx: Context) -> None:
    """The bureau's analyst describes every column and declares what is public knowledge:
    the towns, the kinds of insurance, the fee schedule's range (once; an edited dictionary
    is left as it is)."""
    with ctx.db.transaction() as session:
        analyst = _actor(session, "bureau-admin")
        for title, columns in world.DICTIONARIES.items():
            ds = _dataset(session, title)
            if ds is None or any(
                e.description for e in dictionary.entries(session, analyst, dataset_id=ds.id)
            ):
                continue
            dictionary.write(
                session,
                analyst,
                store=ctx.store,
                dataset_id=ds.id,
                data=DictionaryIn.model_validate({"columns": columns}),
            )


WITNESSES = [
    ("cac-inspector", "cac.jiangzhou.example/witness"),
    ("dsj-inspector", "dsj.jiangzhou.example/witness"),
]


def witness_the_log(ctx: Context) -> None:
    """Both regulators register witness keys and co-sign a fresh checkpoint. In the demo their
    private keys sit in ``$YAOSU_HOME/witnesses``; in reality each regulator keeps its own."""
    folder = ctx.settings.demo_witness_dir
    with ctx.db.transaction() as session:
        signers = []
        for username, name in WITNESSES:
            regulator = _actor(session, username)
            signer = load_or_create(folder / f"{username}.key", name, COSIGNATURE)
            if not any(w.name == name for w in transparency.list_witnesses(session)):
                transparency.register_witness(session, regulator, vkey=signer.verifier_key())
            signers.append((regulator, signer))
    with ctx.db.transaction() as session:
        checkpoint = transparency.make_checkpoint(
            session, signer=transparency.log_signer(ctx.settings)
        )
        assert checkpoint is not None
        size, body = checkpoint.size, checkpoint.note.split("\n\n")[0] + "\n"
    for regulator, signer in signers:
        with ctx.db.transaction() as session:
            transparency.cosign(session, regulator, size=size, line=signer.sign(body))


def describe(ctx: Context, created: bool) -> DemoWorld:
    out = DemoWorld(created=created)
    with ctx.db.transaction() as session:
        orgs = accounts.org_names(session)
        for username in sorted([u[0] for u in USERS] + contributions.USERNAMES):
            user = accounts.user_named(session, username=username)
            if user is not None:
                out.users.append((user.username, orgs[user.org_id], user.role, user.display_name))
        listing = catalog.list_datasets(session, system_actor(), limit=100)
        out.datasets = [
            (d.id, d.title, catalog.public(session, ds=d).openness_label) for d in listing.items
        ]
    return out


def console_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on ``host:port``."""
    if host in ("", "0.0.0.0", "::"):  # every interface: this machine reaches it locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def print_logins(
    demo: DemoWorld, console: Console | None = None, *, url: str = "http://127.0.0.1:8000"
) -> None:
    """The demo's logins and datasets, and ``url``: where the console will be served."""
    console = console or Console()
    logins = Table(
        say(_("username")),
        say(_("organisation")),
        say(_("role")),
        say(_("name")),
        title=say(_("demo logins, password {password}", password=DEMO_PASSWORD)),
    )
    for user in demo.users:
        logins.add_row(*user)
    console.print(logins)
    datasets = Table(title=say(_("demo datasets")))
    datasets.add_column("ID", no_wrap=True)
    datasets.add_column(say(_("dataset")))
    datasets.add_column(say(_("openness")), no_wrap=True)
    for dataset in demo.datasets:
        datasets.add_row(*dataset)
    console.print(datasets)
    console.print(
        say(
            _(
                "the audit log is checkpointed and co-signed by both regulators; verify it offline with:"
            )
        )
        + "\n"
        '  yaosu audit export audit.ndjson && yaosu audit verify audit.ndjson --key "$(yaosu audit key)"'
    )
    console.print(say(_("console: {url}   API docs: {url}/docs", url=url)))
