"""Every journey of the console, chained, in one real browser, as the demo users: the provider
registers a GBK file and has it screened and confirmed, and describes its columns; a data user
finds it and asks for it; every reviewer it is routed to approves, the inbox counts in the
navigation rising as work arrives and falling as it is done; the data user accepts the terms,
runs the query the page proposes (every declared group back, with the accuracy forecast before
it ran) and takes an extract; a regulator checks an entry's inclusion proof and an export in
the console. SQLite only: the journeys' backend cases are the service tests' business.
Set YAOSU_SCREENSHOTS=1 to refresh docs/screenshots/ (request-form, inbox, contract,
contract-phone, journey-query, audit-entry and audit-verify-file .png)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import serving
from tests.console.test_browser import log_in, shot
from yaosu.context import Context
from yaosu.demo import world

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

TITLE = "石桥片区居民互助金缴纳名册"
TOWNS = ["城关镇", "石桥镇", "河西乡", "龙泉镇", "清水乡"]
FEE = "年缴费(元)"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def quiet_server(ctx: Context) -> Iterator[str]:
    """No scheduled checkpoint lands mid-journey: the regulator checks an entry against the
    demo's checkpoint, the one both regulators cosigned."""
    ctx.settings = ctx.settings.model_copy(update={"audit_checkpoint_seconds": 0})
    with serving(ctx) as url:
        yield url


@pytest.fixture
def page(browser: Browser, quiet_server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=quiet_server,
        viewport=DESKTOP,
        locale="zh-CN",
        accept_downloads=True,
    )
    tab = context.new_page()
    yield tab
    context.close()


def gbk_file(folder: Path) -> Path:
    """A small roll of residents: names and identity numbers (personal), a town, a fee."""
    rng = random.Random(13)
    lines = ["姓名,身份证号,所属乡镇," + FEE]
    for i in range(200):
        born = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        person = world.person_name(rng)
        ric = world.resident_id(rng, born, rng.random() < 0.5)
        lines.append(f"{person},{ric},{TOWNS[i % len(TOWNS)]},{100 * (1 + rng.randrange(30))}")
    path = folder / "互助金名册.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))


def inbox_count(page: Page, expected: int) -> None:
    """The count beside 收件箱 in the navigation (none when nothing waits)."""
    badge = page.get_by_role("navigation", name="主导航").locator('a[href="/inbox"] .count')
    if expected:
        expect(badge).to_have_text(str(expected))
    else:
        expect(badge).to_have_count(0)


def fits(page: Page, name: str) -> None:
    """Nothing on the page is wider than a phone's screen."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at {PHONE['width']}px"
    shot(page, name)
    page.set_viewport_size(DESKTOP)


def spread(text: str) -> str:
    """The ± in a line of the forecast or the answer (e.g. "±2,900")."""
    found = re.search(r"±[\d,.]+", text)
    assert found is not None, text
    return found.group(0)


def test_every_journey_end_to_end(page: Page, tmp_path: Path) -> None:
    # --- the provider: register, upload a GBK file, screen it ---
    # the demo's waiting request, the dispute it was asked to decide, the algorithm filing
    log_in(page, "cac-inspector")
    inbox_count(page, 3)
    log_out(page)

    log_in(page, "bureau-analyst")
    page.goto("/datasets/new")
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("主题").fill("社会保障")
    page.get_by_role("button", name="登记并上传数据").click()
    expect(page.locator(".next-step")).to_contain_text("上传")
    page.get_by_label("文件", exact=True).set_input_files(str(gbk_file(tmp_path)))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_role("heading", name="字段结构与画像")).to_be_visible()
    expect(page.get_by_role("cell", name="GBK", exact=False).first).to_be_visible()
    dataset_path = urlsplit(page.url).path
    page.locator(".next-step").get_by_role("link").click()  # "screen it"
    page.get_by_role("button", name="筛查最新版本").click()
    expect(page.locator("#report")).to_contain_text("身份证号")
    expect(page.locator(".next-step")).to_contain_text("该事项已进入其收件箱")  # the reviewer's
    log_out(page)

    # --- the provider's reviewer: the screen waits in the inbox; confirm it, declare the unit ---
    log_in(page, "bureau-reviewer")
    inbox_count(page, 2)  # the demo's waiting request, and this screen
    page.goto("/inbox")
    expect(page.locator("#inbox-done")).to_contain_text("乡村振兴")  # its past decision
    shot(page, "inbox")
    page.locator("#inbox-waiting").get_by_role("link", name=re.compile(TITLE)).click()
    page.get_by_role("button", name="提交审核结论").click()
    step = page.locator(".next-step")
    expect(step).to_contain_text("该数据集含个人信息")  # so: declare what one person is
    step.get_by_role("link", name="声明隐私单位").click()
    expect(page.get_by_role("heading", name="隐私单位")).to_be_visible()
    page.get_by_role("button", name="声明", exact=True).click()
    expect(page.locator("#declared")).to_have_text("身份证号")  # the screen's proposal
    expect(
        page.locator(".next-step").get_by_role("link", name="在数据字典中说明各字段")
    ).to_be_visible()
    inbox_count(page, 1)  # the screen is done
    log_out(page)

    # --- the provider describes the columns: meaning, unit, public towns, public bounds ---
    log_in(page, "bureau-analyst")
    page.goto(dataset_path)
    page.get_by_role("link", name="编辑数据字典").click()
    town = page.locator("fieldset", has=page.locator("code", has_text="所属乡镇"))
    town.get_by_label("含义").fill("参保人所属乡镇")
    town.get_by_role("textbox", name=re.compile("公开取值")).fill("\n".join(TOWNS))
    fee = page.locator("fieldset", has=page.locator("code", has_text=FEE))
    fee.get_by_label("含义").fill("每年缴纳的互助金")
    fee.get_by_label("单位").fill("元")
    fee.get_by_label("公开下限").fill("100")
    fee.get_by_label("公开上限").fill("3000")
    page.get_by_role("button", name="保存数据字典").click()
    expect(page.locator(".next-step")).to_contain_text("数据字典已保存")
    log_out(page)

    # --- the data user finds it and asks for it ---
    log_in(page, "ai-analyst")
    page.goto("/catalog")
    page.get_by_label("搜索", exact=True).fill("互助金")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_text("参保人所属乡镇")).to_be_visible()  # the dictionary, shown
    page.get_by_role("link", name="申请使用数据").click()
    # a form that marks the personal fields, explains ε and lays section 3 out field by field
    pick = page.locator(".field-choices label", has_text="身份证号")
    expect(pick.locator(".pi-mark")).to_have_text("含敏感个人信息")
    expect(
        page.locator(".field-choices label", has_text="所属乡镇").locator(".pi-mark")
    ).to_have_count(0)
    expect(page.locator("#epsilon-help")).to_contain_text("差分隐私总预算")
    days, budget = page.get_by_label("期限（天）"), page.get_by_label(re.compile("隐私预算"))
    days_box, budget_box = days.bounding_box(), budget.bounding_box()
    assert days_box and budget_box and days_box["width"] > 150 and budget_box["width"] > 150
    label = page.locator("label[for=epsilon]").bounding_box()
    assert label and label["height"] < 40  # the ε label stays on one line
    why = page.get_by_label("为何此用途需要这些数据")
    box = why.bounding_box()
    assert box and box["height"] > 120 and box["width"] > 400  # room to explain
    fits(page, "request-form")
    page.get_by_label("用途", exact=True).select_option("public_welfare")
    for field in ("所属乡镇", FEE):
        page.get_by_label(field, exact=True).check()
    page.get_by_label("统计查询").check()
    page.get_by_label("去标识化数据获取").check()
    days.fill("30")
    page.get_by_label("使用次数（留空为不限）").fill("20")
    budget.fill("2")
    why.fill("按乡镇测算互助金缴纳水平，用于公益救助资源配置。")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".next-step")).to_contain_text("申请已提交。")
    request_path = urlsplit(page.url).path
    log_out(page)

    # --- every reviewer it is routed to: the count rises, the decision lowers it ---
    routed = (
        ("bureau-reviewer", 2, "你的审核决定已记录。"),
        ("cac-inspector", 4, "所有审核方均已批准：授权协议已提交给数据使用方。"),
    )
    for reviewer, before, said in routed:
        log_in(page, reviewer)
        inbox_count(page, before)
        page.goto("/inbox")
        page.locator("#inbox-waiting").locator(f'a[href="{request_path}"]').click()
        page.get_by_label("决定", exact=True).select_option("approve")
        page.get_by_label("理由", exact=True).fill("用途正当，字段必要")
        page.get_by_role("button", name="提交审核意见").click()
        expect(page.locator(".next-step")).to_contain_text(said)
        inbox_count(page, before - 1)
        log_out(page)

    # --- the data user accepts the terms and runs the query the page proposes ---
    log_in(page, "ai-analyst")
    page.goto("/inbox")
    page.locator("#inbox-news").get_by_role("link", name=re.compile("已获批准")).first.click()
    # offered, not yet in force: no query until the data user accepts
    expect(page.locator(".badge.offered")).to_have_text("待数据使用方接受")
    expect(page.get_by_role("link", name="执行受控查询")).to_have_count(0)
    acceptances = page.locator("#acceptances")
    expect(acceptances).to_contain_text("以批准申请的方式接受：市数据局审核员")
    expect(acceptances).to_contain_text("尚未接受")
    page.get_by_role("button", name="接受协议条款").click()
    expect(page.locator(".next-step")).to_contain_text("你已接受条款：授权协议已生效。")
    expect(page.locator(".badge.active").first).to_have_text("生效中")
    expect(acceptances).to_contain_text("接受协议条款：智谷算法工程师")
    expect(page.get_by_role("button", name="接受协议条款")).to_have_count(0)
    expect(page.get_by_text("UTC")).to_have_count(0)  # local time, like the rest
    expect(page.locator("[data-gauge] svg")).to_have_count(2)  # budget and uses left
    shot(page, "contract")
    fits(page, "contract-phone")
    contract_path = urlsplit(page.url).path
    page.locator(".next-step").get_by_role("link", name="执行受控查询").click()
    expect(page.get_by_role("heading", name="受控查询")).to_be_visible()
    expect(page.locator("#sql")).not_to_be_empty()  # the page proposes a query: run it as is
    expect(page.locator("#epsilon")).to_have_value("0.1")
    forecast = page.locator("#estimate")
    expect(forecast.get_by_text(f"所有已声明的分组都会发布（共 {len(TOWNS)} 个）")).to_be_visible()
    expect(forecast.locator("li", has_text=f"平均{FEE}：")).to_be_visible()
    predicted = {
        name: spread(forecast.locator("li", has_text=f"{name}：").inner_text())
        for name in ("n", f"平均{FEE}")
    }
    page.get_by_role("button", name="执行").click()
    answer = page.locator("#answer")
    expect(page.get_by_role("heading", name="结果")).to_be_visible()
    expect(answer.get_by_text(f"所有已声明的分组均已发布（{len(TOWNS)} 个）")).to_be_visible()
    expect(answer.locator("tbody tr")).to_have_count(len(TOWNS))
    for town in TOWNS:
        expect(answer.locator("tbody").get_by_role("cell", name=town, exact=True)).to_be_visible()
    for name, spread_shown in predicted.items():  # the answer's ± is the one forecast
        stated = answer.locator("ul.accuracy li", has_text=f"{name}：")
        expect(stated).to_contain_text(spread_shown)
    shot(page, "journey-query")

    # --- the contract allows extracts: its page has the button, and it delivers ---
    page.goto(contract_path)
    with page.expect_download() as download:
        page.get_by_role("button", name="下载去标识化数据").click()
    header = download.value.path().read_text(encoding="utf-8-sig").splitlines()[0]
    assert "所属乡镇" in header and "身份证号" not in header and "姓名" not in header
    # the lists say what each contract and request is, not their ids
    page.goto("/contracts")
    expect(page.locator("tbody").get_by_text(re.compile(r"ctr_"))).to_have_count(0)
    expect(page.get_by_role("link", name=f"《{TITLE}》")).to_be_visible()
    page.goto("/requests")
    expect(page.locator("tbody").get_by_text(re.compile(r"req_"))).to_have_count(0)
    log_out(page)

    # --- a regulator finds the entries in words, and verifies one and an export in the console ---
    log_in(page, "dsj-inspector")
    page.goto("/audit")
    page.get_by_label("涉及机构").select_option(label="智谷人工智能科技有限公司")
    page.get_by_label("对象类型").select_option("contract")
    page.get_by_label("对象（编号或名称）").fill("互助金")  # a contract by its dataset's name
    page.get_by_role("button", name="搜索").click()
    fresh = page.locator("table.audit tbody tr")
    expect(fresh.first).to_contain_text(f"《{TITLE}》 · 智谷人工智能科技有限公司")
    expect(fresh.first).to_contain_text("等待下一检查点")  # this journey is not signed yet
    expect(page.locator("table.audit tbody").get_by_text(re.compile(r"ctr_"))).to_have_count(0)
    # the demo's contract is in the cosigned checkpoint: its entry's proof is checked here
    page.get_by_label("涉及机构").select_option(label="青禾农民专业合作社")
    page.get_by_label("对象（编号或名称）").fill("")
    page.get_by_role("button", name="搜索").click()
    page.locator("table.audit tbody").get_by_role("link", name=re.compile("✓")).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"审计记录 #\d+"))).to_be_visible()
    expect(page.locator("#verify-summary")).to_have_text("全部核验通过。")
    checks = page.locator("#verify-checks li")
    for org in ("江州市委网信办", "江州省数据局"):
        expect(checks.filter(has_text=f"（{org}）已于")).to_have_class("pass")
    expect(page.locator("#verify-checks li.fail")).to_have_count(0)
    shot(page, "audit-entry")

    page.goto("/audit")
    with page.expect_download() as exported:
        page.get_by_role("button", name="下载导出文件").click()
    export = tmp_path / "audit.ndjson"
    exported.value.save_as(export)
    page.goto("/audit/verify")
    page.get_by_label("导出文件").set_input_files(str(export))
    page.get_by_role("button", name="验证文件").click()
    expect(page.get_by_role("heading", name="✓ 文件验证通过")).to_be_visible()
    expect(page.get_by_text("cac.jiangzhou.example/witness: 联署了其中 1 个检查点")).to_be_visible()
    shot(page, "audit-verify-file")
