"""The inbox in a real browser: a data user's request raises its reviewers' counts in the
navigation, each review lowers them, every step says what comes next, and the user is told
its contract is in force and how to use it. YAOSU_SCREENSHOTS=1 refreshes
docs/screenshots/inbox.png."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import dataset_id
from tests.console.test_browser import log_in, shot
from yaosu.context import Context


@pytest.fixture
def tabs(browser: Browser, server: str) -> Iterator[dict[str, Page]]:
    """One browser context (its own session cookie) per user of the journey."""
    contexts = {}
    for username in ("coop-manager", "bureau-reviewer", "cac-inspector"):
        contexts[username] = browser.new_context(
            base_url=server, viewport={"width": 1280, "height": 800}, locale="zh-CN"
        )
    pages = {u: c.new_page() for u, c in contexts.items()}
    for username, tab in pages.items():
        log_in(tab, username)
    yield pages
    for context in contexts.values():
        context.close()


def inbox_count(page: Page, expected: int) -> None:
    """The count beside 收件箱 in the navigation (none when nothing waits)."""
    page.reload()
    badge = page.get_by_role("navigation", name="主导航").locator('a[href="/inbox"] .count')
    if expected:
        expect(badge).to_have_text(str(expected))
    else:
        expect(badge).to_have_count(0)


def review(page: Page, reason: str) -> None:
    page.goto("/inbox")
    page.locator("#inbox-waiting").get_by_role("link", name=re.compile("用于“公益事业”")).filter(
        has_text="智谷人工智能科技有限公司"
    ).click()
    page.get_by_label("决定", exact=True).select_option("approve")
    page.get_by_label("理由", exact=True).fill(reason)
    page.get_by_role("button", name="提交审核意见").click()


def test_the_inbox_counts_go_up_as_work_arrives_and_down_as_it_is_done(
    tabs: dict[str, Page], ctx: Context, browser: Browser, server: str
) -> None:
    consumer, bureau, cac = tabs["coop-manager"], tabs["bureau-reviewer"], tabs["cac-inspector"]
    # The demo world: one request already waits for the bureau and the 网信 office.
    inbox_count(bureau, 1)
    inbox_count(cac, 1)

    # The AI company asks for the residents' data (its own browser, its own session).
    ai = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 800}, locale="zh-CN"
    )
    requester = ai.new_page()
    log_in(requester, "ai-analyst")
    requester.goto(f"/requests/new?dataset={dataset_id(ctx, '参保人员')}")
    requester.get_by_label("用途", exact=True).select_option("public_welfare")
    requester.get_by_label("所属乡镇").check()
    requester.get_by_label("统计查询").check()
    requester.get_by_label(re.compile("隐私预算")).fill("1")
    requester.get_by_label("为何此用途需要这些数据").fill(
        "按乡镇统计参保人数，用于公益救助资源测算。"
    )
    requester.get_by_role("button", name="提交申请").click()
    expect(requester.locator(".next-step")).to_contain_text("申请已提交。")
    expect(requester.locator(".next-step")).to_contain_text("下一步：由下列各审核方分别作出决定")

    inbox_count(bureau, 2)
    inbox_count(cac, 2)
    inbox_count(consumer, 0)  # another organisation's request is none of the cooperative's
    bureau.goto("/inbox")
    expect(bureau.locator("#inbox-waiting li")).to_have_count(2)
    expect(bureau.locator("#inbox-done")).to_contain_text("乡村振兴")  # its past decision
    shot(bureau, "inbox")

    review(bureau, "用途正当、字段必要")
    expect(bureau.locator(".next-step")).to_contain_text("你的审核决定已记录。")
    inbox_count(bureau, 1)
    inbox_count(cac, 2)  # the bureau's decision is not the 网信 office's

    review(cac, "用于统计，同意")
    expect(cac.locator(".next-step")).to_contain_text(
        "所有审核方均已批准：授权协议已提交给数据使用方。"
    )
    inbox_count(cac, 1)

    # The requester hears of it in its inbox, and its contract says how to use it.
    requester.goto("/inbox")
    requester.locator("#inbox-news").get_by_role("link", name=re.compile("已获批准")).click()
    expect(requester.locator(".next-step")).to_contain_text("已提交给数据使用方")
    requester.get_by_role("button", name="接受协议条款").click()  # both parties accept
    expect(requester.locator(".next-step")).to_contain_text("你已接受条款：授权协议已生效。")
    requester.locator(".next-step").get_by_role("link", name="执行受控查询").click()
    expect(requester).to_have_url(re.compile(r"/query\?contract=ctr_"))
    ai.close()
