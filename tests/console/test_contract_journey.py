"""From a request to a contract in force, in a real browser, as the demo users: the consumer
asks for the residents' data, every reviewer it is routed to approves, the consumer's admin
accepts the terms on the contract page, and the page shows both parties' acceptances and the
buttons to use it. The pages hold at a phone's width. Set YAOSU_SCREENSHOTS=1 to refresh
docs/screenshots/contract.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import dataset_id
from tests.console.test_browser import log_in, shot
from yaosu.context import Context

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 800}, locale="zh-CN"
    )
    tab = context.new_page()
    yield tab
    context.close()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))


def fits(page: Page, name: str) -> None:
    """Nothing on the page is wider than the phone's screen."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at {PHONE['width']}px"
    shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_request_becomes_a_contract_both_parties_accepted(page: Page, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")

    # the consumer asks, on a form that marks the personal fields and explains ε
    log_in(page, "ai-analyst")
    page.goto(f"/datasets/{residents}")
    page.get_by_role("link", name="申请使用数据").click()
    expect(page.get_by_role("heading", name="申请使用数据")).to_be_visible()
    name_field = page.locator(".field-choices label", has_text="身份证号")
    expect(name_field.locator(".pi-mark")).to_have_text("含敏感个人信息")
    town = page.locator(".field-choices label", has_text="所属乡镇")
    expect(town.locator(".pi-mark")).to_have_count(0)
    expect(page.locator("#epsilon-help")).to_contain_text("差分隐私总预算")
    # section 3 is one field under another, its inputs as wide as a field, not a line of text
    days, budget = page.get_by_label("期限（天）"), page.get_by_label("隐私预算 ε（留空为无）")
    days_box, budget_box = days.bounding_box(), budget.bounding_box()
    assert days_box and budget_box and days_box["width"] > 150 and budget_box["width"] > 150
    label = page.locator("label[for=epsilon]").bounding_box()
    assert label and label["height"] < 40  # the ε label stays on one line
    box = page.get_by_label("为何此用途需要这些数据").bounding_box()
    assert box and box["height"] > 120 and box["width"] > 400  # room to explain
    fits(page, "request-form")
    page.get_by_label("用途", exact=True).select_option("rural_revitalisation")
    for field in ("所属乡镇", "参保类型", "缴费档次(元)"):
        page.get_by_label(field, exact=True).check()
    page.get_by_label("统计查询").check()
    page.get_by_label("去标识化数据获取").check()
    days.fill("60")
    page.get_by_label("使用次数（留空为不限）").fill("20")
    budget.fill("3")
    page.get_by_label("为何此用途需要这些数据").fill(
        "按乡镇测算参保结构，支撑乡村振兴互助资金配置。"
    )
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("heading", name=re.compile("授权申请"))).to_be_visible()
    # the request's own path (the landing page adds ?done=, what happened and what is next)
    request_path = urlsplit(page.url).path
    log_out(page)

    # every reviewer it was routed to approves: the 网信 office, then the provider's reviewer
    for reviewer in ("cac-inspector", "bureau-reviewer"):
        log_in(page, reviewer)
        page.goto("/reviews")
        page.locator(f'a[href="{request_path}"]').click()
        page.get_by_label("决定").select_option("approve")
        page.get_by_label("理由", exact=True).fill("用途正当，字段必要")
        page.get_by_role("button", name="提交审核意见").click()
        expect(page.locator(".error-message")).to_have_count(0)
        log_out(page)

    # the contract waits for the consumer: not in force, no query yet
    log_in(page, "ai-analyst")
    page.goto(request_path)
    page.get_by_role("link", name="查看授权协议").click()
    expect(page.locator(".badge.offered")).to_have_text("待数据使用方接受")
    expect(page.get_by_role("link", name="执行受控查询")).to_have_count(0)
    acceptances = page.locator("#acceptances")
    expect(acceptances).to_contain_text("以批准申请的方式接受：市数据局审核员")
    expect(acceptances).to_contain_text("尚未接受")
    page.get_by_role("button", name="接受协议条款").click()

    # in force: both acceptances, who and when, and the buttons to use it
    expect(page.locator(".badge.active").first).to_have_text("生效中")
    expect(acceptances).to_contain_text("接受协议条款：智谷算法工程师")
    expect(acceptances).to_contain_text("以批准申请的方式接受：市数据局审核员")
    expect(page.get_by_role("button", name="接受协议条款")).to_have_count(0)
    expect(page.locator(".next-step").get_by_role("link", name="执行受控查询")).to_be_visible()
    expect(page.locator("a.button", has_text="执行受控查询")).to_be_visible()
    extract = page.get_by_role("button", name="下载去标识化数据")
    expect(extract).to_be_visible()
    expect(page.get_by_text("UTC")).to_have_count(0)  # local time, like the rest
    expect(page.locator("[data-gauge] svg")).to_have_count(2)
    shot(page, "contract")
    fits(page, "contract-phone")

    # the extract button delivers the file
    with page.expect_download() as download:
        extract.click()
    assert download.value.suggested_filename.endswith(".csv")
    first = download.value.path().read_text(encoding="utf-8-sig").splitlines()[0]
    assert "所属乡镇" in first and "身份证号" not in first

    # the lists say what each contract and request is, not their ids
    page.goto("/contracts")
    expect(page.locator("tbody").get_by_text(re.compile(r"ctr_"))).to_have_count(0)
    expect(
        page.get_by_role("link", name="《江州市城乡居民社会保险参保人员信息》").first
    ).to_be_visible()
    page.goto("/requests")
    expect(page.locator("tbody").get_by_text(re.compile(r"req_"))).to_have_count(0)
