"""Bank statement import: the three common Chinese online-banking layouts, GBK and UTF-8 with a
BOM, matched / partial / unmatched against payment expectations, a file imported twice, and
malformed rows refused with their row number and nothing written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import auth
from tests.market.conftest import Books
from yaosu.context import Context
from yaosu.kernel.errors import Conflict, InvalidInput
from yaosu.market import bank
from yaosu.market import service as market
from yaosu.market.models import BankImport, BankLine, LedgerTransfer

ICBC = (
    "明细查询文件下载\n\n卡号: 6222****0001,户名: 要素数据交易平台运营中心\n\n"
    "交易日期,摘要,交易场所,交易国家或地区简称,钞/汇,交易金额(收入),交易金额(支出),交易币种,"
    "记账金额(收入),记账金额(支出),记账币种,余额,对方户名\n"
    '2026-11-20     \t,跨行汇款 {paid}\t,网上银行,CHN,钞,-,-,-,"1,000.00  \t",,人民币,"9,999.00",青禾农民专业合作社\t,\n'
    '2026-11-20,他行汇入 {part},,CHN,钞,-,-,-,200.00,,人民币,"10,199.00",青禾农民专业合作社,\n'
    '2026-11-21,他行汇入,,CHN,钞,-,-,-,300.50,,人民币,"10,499.50",江州某某商贸有限公司,\n'
    '2026-11-21,手续费,,CHN,钞,-,-,-,,1.50,人民币,"10,498.00",中国工商银行,\n'
    '人民币合计,,,,,,,,"1,500.50",1.50,\n'
)
CCB = (
    "交易日期,交易时间,摘要,借方发生额（支取）,贷方发生额（收入）,余额,币种,对方户名,对方账号,备注\n"
    '20261120,101502,转账存入,,"2,500.00","12,500.00",人民币,青禾农民专业合作社,6217000011112222,货款 {paid}\n'
    '20261120,111502,转账支取,10.00,,"12,490.00",人民币,某某公司,6217000011113333,\n'
)
ABC = (
    "交易日期,交易时间,交易摘要,交易金额,本次余额,对手信息,日志号,交易渠道,交易附言\n"
    "20261120,123456,转存,+10000.00,11000.00,青禾农民专业合作社,369396693,超级网银,{paid}\n"
    "20261120,132324,财付通,-10.00,10990.00,微信支付,369333999,电子商务,\n"
)
PLAIN = "交易日期,摘要,收入金额,支出金额,对方户名\n2026/11/20,{paid},88.80,,青禾农民专业合作社\n"


def test_each_layout_is_read_exactly() -> None:
    ref = "YSP-ABCDEFGH"
    layout, encoding, lines = bank.parse(ICBC.format(paid=ref, part="x").encode("gbk"))
    assert (layout, encoding) == ("icbc", "gbk")
    assert [(x.row, x.amount, x.reference) for x in lines] == [
        (6, 100_000, ref),
        (7, 20_000, None),
        (8, 30_050, None),
    ]
    assert (
        lines[0].counterparty == "青禾农民专业合作社"
        and lines[0].booked_on.isoformat() == "2026-11-20"
    )
    layout, encoding, lines = bank.parse(b"\xef\xbb\xbf" + CCB.format(paid=ref).encode())
    assert (layout, encoding, [(x.amount, x.reference) for x in lines]) == (
        "ccb",
        "utf-8-sig",
        [(250_000, ref)],
    )
    layout, _, lines = bank.parse(ABC.format(paid=ref.lower()).encode("gbk"))
    assert (layout, [(x.amount, x.reference) for x in lines]) == ("abc", [(1_000_000, ref)])
    layout, encoding, lines = bank.parse(PLAIN.format(paid=ref).encode())
    assert (layout, encoding, lines[0].amount) == ("generic", "utf-8", 8_880)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("2026-11-20,x,1.005,,某公司\n", "1.005"),
        ("2026-11-20,x,abc,,某公司\n", "abc"),
        ("2026-11-20,x,99999999999999999,,某公司\n", "99999999999999999"),
        ("2026-13-45,x,1.00,,某公司\n", "2026-13-45"),
        ("2026-11-20,x\n", "columns"),
    ],
)
def test_a_malformed_row_refuses_the_file_with_its_row_number(row: str, problem: str) -> None:
    data = (
        "交易日期,摘要,收入金额,支出金额,对方户名\n2026-11-20,好的一行,1.00,,某公司\n" + row
    ).encode()
    with pytest.raises(InvalidInput) as refused:
        bank.parse(data)
    assert "row 3" in refused.value.message("en") and problem in refused.value.message("en")
    assert "第 3 行" in refused.value.message("zh-CN")


def test_matched_partial_unmatched_and_a_file_imported_once(ctx: Context, books: Books) -> None:
    with ctx.db.transaction() as session:
        paid = market.expect_payment(
            session, books.platform, org_id=books.orgs["coop"], amount=100_000
        )
        part = market.expect_payment(
            session, books.platform, org_id=books.orgs["coop"], amount=50_000
        )
        escrow_before = market.balance(
            next(a for a in market.accounts_of(session) if a.id == books.escrow)
        )
    data = ICBC.format(paid=paid.reference, part=part.reference).encode("gbk")
    with ctx.db.transaction() as session:
        done = market.import_statement(session, books.platform, data=data, filename="工行.csv")
        lines = bank.lines_of(session, import_id=done.id)
        assert [(x.status, x.amount) for x in lines] == [
            ("matched", 100_000),
            ("partial", 20_000),
            ("unmatched", 30_050),
        ]
        assert all(x.transfer_id for x in lines[:2]) and lines[2].transfer_id is None
        escrow = next(a for a in market.accounts_of(session) if a.id == books.escrow)
        assert market.balance(escrow) == escrow_before + 120_000
        assert {e.reference: e.status for e in bank.expectations(session)}[
            part.reference
        ] == "partial"
        report = market.reconciliation(session, books.platform, lag_days=1)
        assert report["ok"], report
        assert report["unmatched_amount"] >= 30_050
    with ctx.db.transaction() as session:
        counts = (
            session.scalar(select(func.count()).select_from(BankImport)),
            session.scalar(select(func.count()).select_from(BankLine)),
            session.scalar(select(func.count()).select_from(LedgerTransfer)),
        )
    with pytest.raises(Conflict), ctx.db.transaction() as session:
        market.import_statement(session, books.platform, data=data, filename="again.csv")
    bad = ICBC.format(paid="YSP-00000000", part="").replace("300.50", "3OO.50").encode("gbk")
    with pytest.raises(InvalidInput), ctx.db.transaction() as session:
        market.import_statement(session, books.platform, data=bad, filename="bad.csv")
    with ctx.db.transaction() as session:
        assert counts == (
            session.scalar(select(func.count()).select_from(BankImport)),
            session.scalar(select(func.count()).select_from(BankLine)),
            session.scalar(select(func.count()).select_from(LedgerTransfer)),
        )


def test_the_api_imports_for_the_platform_only(app_client: TestClient, ctx: Context) -> None:
    data = PLAIN.format(paid="nothing").encode("gbk")
    url = "/api/v1/market/bank-imports?filename=plain.csv"
    refused = app_client.post(url, content=data, headers=auth(ctx, "coop-manager"))
    assert refused.status_code == 403
    done = app_client.post(url, content=data, headers=auth(ctx, "platform-admin"))
    assert done.status_code == 201, done.text
    assert [x["status"] for x in done.json()["lines"]] == ["unmatched"]
    again = app_client.post(url, content=data, headers=auth(ctx, "platform-admin"))
    assert again.status_code == 409
    broken = app_client.post(
        url,
        content="交易日期,摘要,收入金额,对方户名\n2026-11-20,x,1.001,某\n".encode(),
        headers=auth(ctx, "platform-admin") | {"Accept-Language": "zh-CN"},
    )
    assert broken.status_code == 422 and "第 2 行" in broken.json()["error"]["message"]
