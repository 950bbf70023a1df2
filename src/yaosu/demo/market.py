"""The demo world's trades (issue 14): the cooperative bought from the market through
orders, each contracted through the access request path (the bureau and the cyberspace
office approved, the cooperative accepted the terms).

Yesterday (China Standard Time) it paid two orders of the AI company's capped query service
by bank transfer, quoting their payment references; the ICBC statement with both payments
(and one the platform cannot place) was imported and matched, so their money was held in
escrow and their delivery began. It accepted the first an hour later: the escrow was
released to the AI company's revenue, with its operator fee and the platform's service fee
posted separately, and the day was settled, which issued the first order's transaction
certificate. It disputed the second today and asked the cyberspace office to decide. A free
order of the same service for public welfare paid nothing and was accepted; the negotiated forecasting model waits for its bank transfer.
The reconciliation shows ledger = statements = bank."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization import service as authorization
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.market import service as market

ICBC_HEADER = (
    "交易日期,摘要,交易场所,交易国家或地区简称,钞/汇,交易金额(收入),交易金额(支出),"
    "交易币种,记账金额(收入),记账金额(支出),记账币种,余额,对方户名"
)
QUERY_SERVICE = "农产品销售统计查询服务"
MODEL = "乡镇农产品需求预测模型"


def _actor(session: Session, username: str) -> Actor:
    user = accounts.user_named(session, username=username)
    found = accounts.active_actor(session, user_id=user.id) if user is not None else None
    assert found is not None, username
    return found


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def _contracted(ctx: Context, session: Session, order_id: str, coop: Actor) -> None:
    """Every review the order's request needs approves it; the cooperative accepts the terms."""
    reviewers = {
        a.org_id: a for a in (_actor(session, u) for u in ("bureau-reviewer", "cac-inspector"))
    }
    order = market.get_order(session, coop, order_id=order_id, settings=ctx.settings)
    done = None
    for review in authorization.reviews_of(session, request_id=order.request_id):
        done = authorization.review(
            session,
            reviewers[review.reviewer_org_id],
            settings=ctx.settings,
            request_id=order.request_id,
            decision="approve",
            reason="用途正当、字段必要，同意按产品条款使用",
        )
    assert done is not None and done.contract_id is not None
    authorization.accept(session, coop, contract_id=done.contract_id)
    market.advance_order(session, order_id=order_id, settings=ctx.settings)


def trade(ctx: Context, *, platform: Actor) -> None:
    with ctx.db.transaction() as session:
        if market.list_orders(session, platform):
            return
        coop = _actor(session, "coop-manager")
        titles = {p.title: p.id for p in market.list_products(session, platform)}
        deal = next(d for d in market.list_negotiations(session, coop) if d.status == "accepted")

        def order(title: str, purpose: str, quantity: int, why: str, **kw: object) -> str:
            made = market.place_order(
                session,
                coop,
                settings=ctx.settings,
                product_id=titles[title],
                purpose=purpose,
                quantity=quantity,
                justification=why,
                **kw,  # type: ignore[arg-type]
            )
            _contracted(ctx, session, made.id, coop)
            return made.id

        accepted = order(
            QUERY_SERVICE,
            "industry_development",
            1500,
            "按乡镇统计农产品销量，安排合作社收购计划。",
        )
        disputed = order(
            QUERY_SERVICE, "industry_development", 200, "核对各乡镇收购均价，测算下季度收购价格。"
        )
        free = order(
            QUERY_SERVICE, "public_welfare", 300, "为乡村公益助农活动统计各乡镇农产品销量。"
        )
        order(
            MODEL,
            "industry_development",
            1,
            "以需求预测模型安排合作社种植计划。",
            negotiation_id=deal.id,
        )
        yesterday = market.cst_day(utcnow()) - timedelta(days=1)
        at = market.period_bounds(yesterday)[0] + timedelta(hours=10)  # 10:00 CST
        due = {
            oid: market.get_order(session, coop, order_id=oid, settings=ctx.settings)
            for oid in (accepted, disputed)
        }
        lines = []
        balance = 0
        for oid in (accepted, disputed):
            found = due[oid]
            expectation = market.expectation_of(session, order=found)  # the reference to quote
            assert expectation is not None
            balance += found.amount_fen
            lines.append(
                f"{yesterday:%Y-%m-%d},跨行汇款 {expectation.reference},网上银行,CHN,钞,-,-,-,"
                f'"{_yuan(found.amount_fen)}",,人民币,"{_yuan(balance)}",青禾农民专业合作社'
            )
        balance += 30_000
        lines.append(
            f"{yesterday:%Y-%m-%d},他行汇入,,CHN,钞,-,-,-,300.00,,人民币,"
            f'"{_yuan(balance)}",江州某某商贸有限公司'
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
        data = ("\r\n".join(rows) + "\r\n").encode("gbk")
        folder = ctx.settings.home_dir / "demo-files"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "icbc_statement_gbk.csv").write_bytes(data)
        market.import_payments(
            session,
            platform,
            settings=ctx.settings,
            data=data,
            filename="icbc_statement_gbk.csv",
            at=at,
        )
        market.accept_order(
            session, coop, order_id=accepted, settings=ctx.settings, at=at + timedelta(hours=1)
        )
        market.settle_and_certify(session, platform, settings=ctx.settings, period=yesterday)
        market.accept_order(session, coop, order_id=free, settings=ctx.settings)
        market.dispute_order(
            session,
            coop,
            order_id=disputed,
            reason="交付的收购均价统计口径与产品说明不一致，部分乡镇数据缺失。",
            settings=ctx.settings,
        )
        market.escalate_order(
            session,
            coop,
            order_id=disputed,
            note="请网信办依据产品说明和交付记录裁决。",
            settings=ctx.settings,
        )
