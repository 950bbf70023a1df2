"""The demo's contributors: three townships and the cooperative each register three years of
agricultural-input demand; the AI company, licensed by each, sells a demand-forecasting
product built from all four, whose sales are shared by the Shapley value of each holder's data
(the validation score of a model trained on each coalition's data, computed in the platform);
the county bureau, which cleaned the townships' reports, takes a role share. Two sales: the
first's shares are paid; in the second, 河西乡 objects to its share and waits for a decision.
One township copied part of another's records: the valuation counts those rows once, for the
township that registered them first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from yaosu.access import service as access
from yaosu.accounts import service as accounts
from yaosu.authorization import service as authorization
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context
from yaosu.demo import world
from yaosu.demo.market import ICBC_HEADER, _yuan
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.db import utcnow
from yaosu.market import objections, sharing, valuations
from yaosu.market import service as market
from yaosu.market.schemas import ProductCreate
from yaosu.privacy import service as privacy
from yaosu.rights import service as rights

FORECAST = "乡村农资需求预测服务（多方数据）"
EXTRACTS = "乡村农资需求去标识化数据订阅（多方数据）"
DERIVED = "村级农资配送参考数据"
PASSWORD = "yaosu-demo-2026"  # development only, as every demo password

# key, organisation, its admin and reviewer, villages, seed, recording noise, file encoding
HOLDERS: list[tuple[str, str, list[str], int, float, str]] = [
    ("shiqiao", "石桥镇人民政府", ["东村", "西村", "南岗村", "北坪村"], 301, 0.04, "gbk"),
    ("hexi", "河西乡人民政府", ["河口村", "柳湾村", "上庄村"], 302, 0.35, "utf-8"),
    ("longquan", "龙泉镇人民政府", ["泉水村", "龙背村", "下洋村"], 303, 0.10, "utf-8"),
]
COOP_VILLAGES = ["青禾村", "桃花村", "杏林村"]
BUYER = "江州绿源农资有限公司"  # an input supplier: it plans its stock with the forecast
USERNAMES = [f"{key}-{role}" for key, *_r in HOLDERS for role in ("admin", "reviewer")] + [
    "supplier-admin"
]


def _actor(session: Session, username: str) -> Actor:
    user = accounts.user_named(session, username=username)
    found = accounts.active_actor(session, user_id=user.id) if user is not None else None
    assert found is not None, username
    return found


def _orgs(session: Session) -> dict[str, str]:
    """The townships (made once) and their admins and reviewers, and the buyer."""
    names = {v: k for k, v in accounts.org_names(session).items()}
    system = system_actor()
    out = {}
    if BUYER not in names:
        # it buys data, and sells what it makes of it: a data user, provider and operator
        org = accounts.create_org(
            session, system, name=BUYER, kinds=["consumer", "provider", "operator"]
        )
        accounts.create_user(
            session,
            system,
            org_id=org.id,
            username="supplier-admin",
            password=PASSWORD,
            role="admin",
            display_name="绿源农资采购经理",
        )
    for key, name, *_rest in HOLDERS:
        if name not in names:
            org = accounts.create_org(session, system, name=name, kinds=["provider"])
            for role, display in (("admin", "数据专员"), ("reviewer", "审核员")):
                accounts.create_user(
                    session,
                    system,
                    org_id=org.id,
                    username=f"{key}-{role}",
                    password=PASSWORD,
                    role=role,
                    display_name=f"{name[:3]}{display}",
                )
            names[name] = org.id
        out[key] = names[name]
    return out


def _register(ctx: Context, session: Session, reg: Any) -> str:
    from yaosu.demo.service import _registered  # the same steps as the bureau's rights

    return str(_registered(ctx, session, reg))


def _holder_data(ctx: Context) -> dict[str, str]:
    """Each holder's dataset, ingested, screened and confirmed; ``{key: dataset id}``."""
    folder = ctx.settings.home_dir / "demo-files"
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        key: world.input_demand(villages, seed=seed, noise=noise)
        for key, _name, villages, seed, noise, _enc in HOLDERS
    }
    # 龙泉镇 filed a third of 石桥镇's records as its own (a copy, slightly reformatted)
    rows["longquan"] += [
        [*r[:5], round(float(r[5]) + 0.04, 1), *r[6:]] for r in rows["shiqiao"][::3]
    ]
    rows["coop"] = world.input_demand(COOP_VILLAGES, seed=304, noise=0.6)
    encodings = {key: enc for key, *_r, enc in HOLDERS} | {"coop": "utf-8"}
    owners = {key: f"{key}-admin" for key, *_r in HOLDERS} | {"coop": "coop-manager"}
    titles = {key: f"{name}2023—2025年农资需求记录" for key, name, *_r in HOLDERS} | {
        "coop": "青禾合作社2023—2025年社员农资需求记录"
    }
    out = {}
    for key, table in rows.items():
        with ctx.db.transaction() as session:
            owner = _actor(session, owners[key])
            listing = catalog.list_datasets(session, system_actor(), provider=owner.org_id)
            ds = next((d for d in listing.items if d.title == titles[key]), None)
            if ds is None:
                ds = catalog.create_dataset(
                    session,
                    owner,
                    data=DatasetCreate(
                        title=titles[key],
                        description="各村逐月农资（化肥、种子、农药）需求量，附种植面积、降雨量与上年同期需求。",
                        keywords=["农资", "需求预测", "乡村振兴"],
                        theme="农业农村",
                        licence="有条件开放协议",
                        update_frequency="monthly",
                        openness="conditional",
                    ),
                )
            dataset_id, latest = ds.id, ds.latest_version
        if latest == 0:
            path = world.demand_file(
                folder / f"input_demand_{key}.csv", table, encoding=encodings[key]
            )
            versions.run_ingest(ctx, owner, dataset_id=dataset_id, source=path, filename=path.name)
        with ctx.db.transaction() as session:
            reviewer = _actor(session, "coop-manager" if key == "coop" else f"{key}-reviewer")
            if not any(
                s.status == "confirmed"
                for s in privacy.list_screens(session, reviewer, dataset_id=dataset_id)
            ):
                screen = privacy.screen_version(
                    session,
                    _actor(session, owners[key]),
                    store=ctx.store,
                    settings=ctx.settings,
                    dataset_id=dataset_id,
                )
                privacy.review(session, reviewer, screen_id=screen.id, note="演示：已人工复核")
        out[key] = dataset_id
    return out


def _licensed(ctx: Context, data: dict[str, str]) -> None:
    """Each holder registers its holding right and licenses the product-operation right over
    its data to the AI company."""
    with ctx.db.transaction() as session:
        ai = _actor(session, "ai-analyst")
        for key, dataset_id in data.items():
            owner = _actor(session, "coop-manager" if key == "coop" else f"{key}-admin")
            holding = _register(
                ctx,
                session,
                rights.apply(
                    session,
                    owner,
                    settings=ctx.settings,
                    kind="holding",
                    dataset_id=dataset_id,
                    statement="本单位在农资供应与农技服务中依法采集、持有的需求记录。",
                    purposes=[],
                ),
            )
            _register(
                ctx,
                session,
                rights.apply(
                    session,
                    owner,
                    settings=ctx.settings,
                    kind="operation",
                    dataset_id=dataset_id,
                    parent_id=holding,
                    holder_org_id=ai.org_id,
                    years=2,
                    statement="授权智谷科技以本单位数据与其他单位数据共同开发需求预测产品并经营。",
                ),
            )


def _reviewer_for(session: Session, org_id: str) -> Actor:
    for username in (
        "bureau-reviewer",
        "cac-inspector",
        "dsj-inspector",
        "coop-manager",
        "supplier-admin",
    ):
        found = _actor(session, username)
        if found.org_id == org_id:
            return found
    for key, *_rest in HOLDERS:
        found = _actor(session, f"{key}-reviewer")
        if found.org_id == org_id:
            return found
    raise LookupError(org_id)


def _product(ctx: Context, data: dict[str, str], orgs: dict[str, str]) -> str:
    with ctx.db.transaction() as session:
        ai, bureau = _actor(session, "ai-analyst"), _actor(session, "bureau-admin")
        product = market.create_product(
            session,
            ai,
            data=ProductCreate(
                kind="release",
                title=FORECAST,
                description="以三个乡镇与青禾合作社的农资需求记录训练的村级月度需求预测模型及评估报告；收益按各方数据对模型验证得分的 Shapley 贡献分配。",
                sources=[{"dataset_id": d} for d in data.values()],
                public_data=False,
                pricing_class="market",
                price={"model": "fixed", "unit": "count", "unit_fen": 3_000_000},
                purposes=["rural_revitalisation", "industry_development"],
                platform_fee_bp=300,
                sharing={
                    "pool_bp": 7000,
                    "method": "shapley",
                    "roles": [{"org_id": bureau.org_id, "role": "cleaning", "bp": 300}],
                    "floors_bp": {orgs[k]: 1000 for k, *_r in HOLDERS},
                    "valuation": {
                        "task": "regression",
                        "target": "需求量(吨)",
                        "features": [
                            "月份",
                            "种植面积(亩)",
                            "降雨量(mm)",
                            "上年同期需求(吨)",
                            "品类",
                        ],
                        "model": "ridge",
                        "metric": "r2",
                        "validation_fraction": 0.3,
                        "seed": 20261204,
                    },
                },
            ),
        )
        _listed(ctx, session, product)
        return product.id


def _listed(ctx: Context, session: Session, product: Any) -> None:
    platform = _actor(session, "platform-admin")
    market.submit(session, _actor_of(session, product.seller_org_id), product_id=product.id)
    market.assess(
        session, platform, product_id=product.id, passed=True, note="权属清晰、已完成分类分级"
    )
    for review in market.reviews_of(session, product_id=product.id):
        market.review(
            session,
            _reviewer_for(session, review.reviewer_org_id),
            settings=ctx.settings,
            product_id=product.id,
            approve=True,
            note="同意挂牌",
        )
    assert product.notice_ends_at is not None
    product.notice_ends_at -= timedelta(days=ctx.settings.notice_days + 1)
    market.publish(session, platform, product_id=product.id)


def _actor_of(session: Session, org_id: str) -> Actor:
    for username in ("ai-analyst", "supplier-admin"):
        found = _actor(session, username)
        if found.org_id == org_id:
            return found
    raise LookupError(org_id)


def _extracts_product(ctx: Context, data: dict[str, str]) -> str:
    """The same four sources as de-identified extracts, shared by the rows each buyer's
    extracts actually took from each holder (measured by lineage)."""
    with ctx.db.transaction() as session:
        product = market.create_product(
            session,
            _actor(session, "ai-analyst"),
            data=ProductCreate(
                kind="extract_subscription",
                title=EXTRACTS,
                description="四方农资需求记录的去标识化提取；收益按每次交付实际取用的各方行数分配。",
                sources=[{"dataset_id": d} for d in data.values()],
                public_data=False,
                pricing_class="market",
                price={"model": "fixed", "unit": "count", "unit_fen": 800_000},
                purposes=["industry_development"],
                platform_fee_bp=300,
                sharing={"pool_bp": 6000, "method": "volume"},
            ),
        )
        _listed(ctx, session, product)
        product_id = product.id
    # which of each holder's rows are its own: 龙泉镇's copies of 石桥镇's records count once
    valuations.run_valuation(ctx, _system_user(ctx, "ai-analyst"), product_id=product_id)
    return product_id


def _derived(ctx: Context, extract: Any) -> str:
    """The supplier registers what it received as its own data and sells a product of it:
    a royalty of each sale goes up the lineage to the four holders."""
    folder = ctx.settings.home_dir / "demo-files"
    path = folder / "lvyuan_village_inputs.parquet"
    path.write_bytes(ctx.store.path(extract.sha256).read_bytes())
    with ctx.db.transaction() as session:
        supplier = _actor(session, "supplier-admin")
        ds = catalog.create_dataset(
            session,
            supplier,
            data=DatasetCreate(
                title="绿源农资各村需求整理数据",
                description="本公司订阅所得四方农资需求提取数据，经整理用于配送线路规划。",
                keywords=["农资", "配送"],
                theme="农业农村",
                licence="有条件开放协议",
                update_frequency="monthly",
                openness="conditional",
            ),
        )
    versions.run_ingest(ctx, supplier, dataset_id=ds.id, source=path, filename=path.name)
    with ctx.db.transaction() as session:
        supplier = _actor(session, "supplier-admin")
        screen = privacy.screen_version(
            session, supplier, store=ctx.store, settings=ctx.settings, dataset_id=ds.id
        )
        privacy.review(session, supplier, screen_id=screen.id, note="演示：已人工复核")
        for kind in ("holding", "operation"):
            _register(
                ctx,
                session,
                rights.apply(
                    session,
                    supplier,
                    settings=ctx.settings,
                    kind=kind,
                    dataset_id=ds.id,
                    statement="本公司依订阅合同取得并整理的数据，在原用途内经营。",
                    purposes=[],
                ),
            )
        product = market.create_product(
            session,
            supplier,
            data=ProductCreate(
                kind="dataset_version",
                title=DERIVED,
                description="按村整理的农资需求与配送参考数据；每笔销售按数据血缘向上游四方支付分成。",
                sources=[{"dataset_id": ds.id}],
                public_data=False,
                pricing_class="market",
                price={"model": "fixed", "unit": "count", "unit_fen": 500_000},
                purposes=["industry_development"],
                platform_fee_bp=300,
            ),
        )
        _listed(ctx, session, product)
        return product.id


def _sell(
    ctx: Context, product_id: str, purpose: str, why: str, *, buyer: str = "supplier-admin"
) -> str:
    """A buyer orders: every source's holder approves, the buyer accepts the terms."""
    with ctx.db.transaction() as session:
        coop = _actor(session, buyer)
        made = market.place_order(
            session,
            coop,
            settings=ctx.settings,
            product_id=product_id,
            purpose=purpose,
            quantity=1,
            justification=why,
        )
        done = None
        for review in authorization.reviews_of(session, request_id=made.request_id):
            done = authorization.review(
                session,
                _reviewer_for(session, review.reviewer_org_id),
                settings=ctx.settings,
                request_id=made.request_id,
                decision="approve",
                reason="用途正当，同意按产品条款使用",
            )
        assert done is not None and done.contract_id is not None
        authorization.accept(session, coop, contract_id=done.contract_id)
        market.advance_order(session, order_id=made.id, settings=ctx.settings)
        return made.id


def _bank_file(ctx: Context, name: str, day: Any, orders: list[Any], payer: str) -> bytes:
    """An ICBC statement in which the payer paid each order, quoting its reference."""
    lines, balance = [], 0
    with ctx.db.transaction() as session:
        for found in orders:
            expectation = market.expectation_of(session, order=found)
            assert expectation is not None
            balance += found.amount_fen
            lines.append(
                f"{day:%Y-%m-%d},跨行汇款 {expectation.reference},网上银行,CHN,钞,-,-,-,"
                f'"{_yuan(found.amount_fen)}",,人民币,"{_yuan(balance)}",{payer}'
            )
    rows = [
        "明细查询文件下载",
        "",
        "卡号: 6222****0001,户名: 要素数据交易平台运营中心",
        "",
        ICBC_HEADER,
        *lines,
        f'人民币合计,,,,,,,,"{_yuan(balance)}",,',
    ]
    payload = ("\r\n".join(rows) + "\r\n").encode("gbk")
    (ctx.settings.home_dir / "demo-files" / name).write_bytes(payload)
    return payload


def _orders(ctx: Context, ids: list[str], user: str) -> list[Any]:
    with ctx.db.transaction() as session:
        buyer = _actor(session, user)
        found = [market.get_order(session, buyer, order_id=o, settings=ctx.settings) for o in ids]
        session.expunge_all()
        return found


def contribute(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        platform = _actor(session, "platform-admin")
        if any(p.title == FORECAST for p in market.list_products(session, platform, limit=500)):
            return
        orgs = _orgs(session) | {"coop": str(_actor(session, "coop-manager").org_id)}
    data = _holder_data(ctx)
    _licensed(ctx, data)
    product_id = _product(ctx, data, orgs)
    valuations.run_valuation(ctx, _system_ai(ctx), product_id=product_id)
    extracts_id = _extracts_product(ctx, data)
    first = _sell(
        ctx, product_id, "rural_revitalisation", "按村测算下季度农资需求，保障春耕农资供应。"
    )
    second = _sell(
        ctx, product_id, "industry_development", "测算各村农资需求，安排仓储与配送备货。"
    )
    third = _sell(ctx, extracts_id, "industry_development", "取得各村农资需求明细，规划配送线路。")
    day = market.cst_day(utcnow()) - timedelta(days=2)  # yesterday is already settled
    at = market.period_bounds(day)[0] + timedelta(hours=11)
    payload = _bank_file(
        ctx,
        "icbc_statement_forecast_gbk.csv",
        day,
        _orders(ctx, [first, second, third], "supplier-admin"),
        BUYER,
    )
    with ctx.db.transaction() as session:
        market.import_payments(
            session,
            _actor(session, "platform-admin"),
            settings=ctx.settings,
            data=payload,
            filename="icbc_statement_forecast_gbk.csv",
            at=at,
        )
    contract_id = _orders(ctx, [third], "supplier-admin")[0].contract_id
    supplier = _system_user(ctx, "supplier-admin")
    made = [
        access.run_extract(ctx, supplier, contract_id=str(contract_id), dataset_id=d)
        for d in data.values()
    ]
    with ctx.db.transaction() as session:
        coop, platform = _actor(session, "supplier-admin"), _actor(session, "platform-admin")
        for order_id in (first, second, third):
            market.accept_order(
                session, coop, order_id=order_id, settings=ctx.settings, at=at + timedelta(hours=1)
            )
        market.settle_and_certify(session, platform, settings=ctx.settings, period=day)
        # The first sale's objection window has passed (the demo does not wait): its shares are
        # paid. In the second, 河西乡 objects to its share, which stays frozen.
        for line in sharing.lines_of(session, order_id=first):
            line.objection_ends_at = utcnow() - timedelta(minutes=1)
        sharing.pay_due(session, platform)
        hexi = next(
            line
            for line in sharing.lines_of(session, order_id=second)
            if line.org_id == orgs["hexi"]
        )
        objections.object_to(
            session,
            _actor(session, "hexi-admin"),
            line_id=hexi.id,
            reason="我乡记录覆盖的村庄更多，模型验证得分的计算应复核，请按公示的随机种子重新计算。",
        )
    # The supplier makes a product of what it received (石桥镇's extract); the cooperative
    # buys it today, and a royalty of the sale goes up the lineage to the four holders.
    derived = _derived(ctx, made[0])
    fourth = _sell(
        ctx,
        derived,
        "industry_development",
        "按村规划农资配送，降低社员购买成本。",
        buyer="coop-manager",
    )
    now = utcnow()
    payload = _bank_file(
        ctx,
        "icbc_statement_derived_gbk.csv",
        market.cst_day(now),
        _orders(ctx, [fourth], "coop-manager"),
        "青禾农民专业合作社",
    )
    with ctx.db.transaction() as session:
        market.import_payments(
            session,
            _actor(session, "platform-admin"),
            settings=ctx.settings,
            data=payload,
            filename="icbc_statement_derived_gbk.csv",
        )
        market.accept_order(
            session, _actor(session, "coop-manager"), order_id=fourth, settings=ctx.settings
        )


def _system_user(ctx: Context, username: str) -> Actor:
    with ctx.db.transaction() as session:
        return _actor(session, username)


def _system_ai(ctx: Context) -> Actor:
    with ctx.db.transaction() as session:
        return _actor(session, "ai-analyst")
