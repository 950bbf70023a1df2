"""The ledger's tests share the demo world's organisations and a few funded accounts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import actor
from yaosu.accounts import service as accounts
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.market import service as market


@dataclass(frozen=True)
class Books:
    platform: Actor
    orgs: dict[str, str]  # coop, bureau, ai, platform -> org id
    bank: str
    escrow: str  # the cooperative's
    revenue: str  # the bureau's
    fee: str  # the AI company's operator fee


def org_ids(ctx: Context) -> dict[str, str]:
    with ctx.db.transaction() as session:
        names = {v: k for k, v in accounts.org_names(session).items()}
    return {
        "coop": names["青禾农民专业合作社"],
        "bureau": names["江州市数据局"],
        "ai": names["智谷人工智能科技有限公司"],
        "platform": names["要素数据交易平台运营中心"],
    }


@pytest.fixture
def books(ctx: Context) -> Books:
    orgs = org_ids(ctx)
    with ctx.db.transaction() as session:
        return Books(
            platform=actor(ctx, "platform-admin"),
            orgs=orgs,
            bank=market.open_account(session, org_id=orgs["platform"], code="bank"),
            escrow=market.open_account(session, org_id=orgs["coop"], code="escrow"),
            revenue=market.open_account(session, org_id=orgs["bureau"], code="revenue"),
            fee=market.open_account(session, org_id=orgs["ai"], code="operator_fee"),
        )
