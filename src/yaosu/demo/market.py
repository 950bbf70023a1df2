"""The demo world's money (issue 14, the ledger's half): yesterday (China Standard Time) the
cooperative paid a data product by bank transfer, quoting its payment reference; the ICBC
statement with that payment (and one the platform cannot place) was imported and matched;
the order was accepted, so the escrow was released to the bureau with the AI company's
operator fee and the platform's service fee posted separately, and the day was settled.
Today a second order waits for its payment. The reconciliation
shows ledger = statements = bank."""

from __future__ import annotations

from datetime import timedelta

from yaosu.accounts import service as accounts
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.market import service as market

PRICE, OPERATOR_FEE, SERVICE_FEE = 100_000, 8_000, 2_000  # fen: ¥1,000.00, ¥80.00, ¥20.00

ICBC_HEADER = (
    "交易日期,摘要,交易场所,交易国家或地区简称,钞/汇,交易金额(收入),交易金额(支出),"
    "交易币种,记账金额(收入),记账金额(支出),记账币种,余额,对方户名"
)


def _org(session: object, name: str) -> str:
    return next(k for k, v in accounts.org_names(session).items() if v == name)  # type: ignore[arg-type]


def trade(ctx: Context, *, platform: Actor) -> None:
    with ctx.db.transaction() as session:
        if market.accounts_of(session):
            return
        coop = _org(session, "青禾农民专业合作社")
        bureau = _org(session, "江州市数据局")
        ai = _org(session, "智谷人工智能科技有限公司")
        yesterday = market.cst_day(utcnow()) - timedelta(days=1)
        at = market.period_bounds(yesterday)[0] + timedelta(hours=10)  # 10:00 CST
        expected = market.expect_payment(
            session, platform, org_id=coop, amount=PRICE, ref="demo-order-1"
        )
        rows = [
            "明细查询文件下载",
            "",
            "卡号: 6222****0001,户名: 要素数据交易平台运营中心",
            "",
            ICBC_HEADER,
            f"{yesterday:%Y-%m-%d},跨行汇款 {expected.reference},网上银行,CHN,钞,-,-,-,"
            f'"1,000.00",,人民币,"1,000.00",青禾农民专业合作社',
            f"{yesterday:%Y-%m-%d},他行汇入,,CHN,钞,-,-,-,300.00,,人民币,"
            '"1,300.00",江州某某商贸有限公司',
            '人民币合计,,,,,,,,"1,300.00",,',
        ]
        data = ("\r\n".join(rows) + "\r\n").encode("gbk")
        folder = ctx.settings.home_dir / "demo-files"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "icbc_statement_gbk.csv").write_bytes(data)
        market.import_statement(
            session, platform, data=data, filename="icbc_statement_gbk.csv", at=at
        )
        escrow = market.open_account(session, org_id=coop, code="escrow")
        held = market.transfer(
            session,
            platform,
            key="demo-order-1:hold",
            debit=escrow,
            credit=market.open_account(session, org_id=bureau, code="revenue"),
            amount=PRICE - OPERATOR_FEE - SERVICE_FEE,
            code="order",
            ref="demo-order-1",
            pending=True,
            at=at,
        )
        market.post_batch(
            session,
            platform,
            transfers=[
                market.Spec(
                    key="demo-order-1:release", code="order", kind="post", pending_id=held.id
                ),
                market.Spec(
                    key="demo-order-1:operator-fee",
                    code="operator_fee",
                    amount=OPERATOR_FEE,
                    debit=escrow,
                    credit=market.open_account(session, org_id=ai, code="operator_fee"),
                    ref="demo-order-1",
                ),
                market.Spec(
                    key="demo-order-1:service-fee",
                    code="service_fee",
                    amount=SERVICE_FEE,
                    debit=escrow,
                    credit=market.open_account(
                        session, org_id=market.platform_org_id(session), code="service_fee"
                    ),
                    ref="demo-order-1",
                ),
            ],
            at=at + timedelta(hours=1),
        )
        market.settle(
            session, platform, lag_days=ctx.settings.settlement_lag_days, period=yesterday
        )
        # Today: a second order waits for the cooperative's bank transfer.
        market.expect_payment(session, platform, org_id=coop, amount=50_000, ref="demo-order-2")
