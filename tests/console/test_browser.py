"""The console in a real browser: Debian's Chromium driven by Playwright, against the app on a
real socket. Set YAOSU_SCREENSHOTS=1 to refresh docs/screenshots/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import DEMO_PASSWORD, dataset_id, demo_contract_id
from yaosu.context import Context

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 800}, locale="zh-CN"
    )
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: Page, name: str) -> None:
    if os.environ.get("YAOSU_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home$"))


@pytest.mark.parametrize(
    ("username", "marker"),
    [
        ("bureau-admin", "我的数据集"),
        ("bureau-analyst", "我的数据集"),
        ("bureau-reviewer", "我的数据集"),
        ("ai-analyst", "我可使用的数据"),
        ("coop-manager", "我可使用的数据"),
        ("cac-inspector", "最近动态"),
        ("dsj-inspector", "最近动态"),
        ("platform-admin", "平台运行状态"),
        ("assessor", "我可使用的数据"),
    ],
)
def test_each_role_logs_in_to_its_home(page: Page, username: str, marker: str) -> None:
    log_in(page, username)
    expect(page.get_by_role("heading", name=marker)).to_be_visible()
    shot(page, f"home-{username}")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_search_in_chinese_finds_the_dataset(page: Page) -> None:
    page.goto("/catalog")
    page.get_by_label("搜索", exact=True).fill("农产品")
    link = page.get_by_role("link", name="2024年各乡镇农产品销售数据")
    expect(link).to_be_visible()
    expect(page.get_by_role("link", name="江州市城乡居民社会保险参保人员信息")).to_have_count(0)
    shot(page, "catalog-search")
    link.click()
    expect(page.get_by_role("heading", name="2024年各乡镇农产品销售数据")).to_be_visible()
    expect(page.locator("#charts svg").first).to_be_visible()  # ECharts drew the profile
    shot(page, "dataset")


def test_upload_a_gbk_csv_and_see_its_profile(page: Page, tmp_path: Path) -> None:
    log_in(page, "bureau-analyst")
    page.goto("/datasets/new")
    page.get_by_label("标题").fill("乡镇人口统计")
    page.get_by_label("主题").fill("人口")
    page.get_by_role("button", name="登记并上传数据").click()
    expect(page.get_by_role("heading", name="上传新版本")).to_be_visible()
    csv = tmp_path / "人口.csv"
    rows = "".join(f"{'城关镇' if i % 2 else '石桥镇'},{i * 10}\n" for i in range(60))
    csv.write_bytes(("乡镇,人口\n" + rows).encode("gbk"))
    page.get_by_label("文件", exact=True).set_input_files(str(csv))
    shot(page, "upload")
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_role("heading", name="字段结构与画像")).to_be_visible(timeout=30000)
    expect(page.get_by_role("cell", name="GBK", exact=False).first).to_be_visible()
    expect(
        page.locator("table.profile").get_by_role("cell", name="乡镇", exact=True)
    ).to_be_visible()
    expect(page.locator("#charts svg").first).to_be_visible()


def test_a_failed_upload_explains_itself_in_the_chosen_language(
    page: Page, tmp_path: Path, ctx: Context
) -> None:
    log_in(page, "bureau-admin")
    farm = dataset_id(ctx, "农产品")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    page.goto(f"/datasets/{farm}/upload")
    page.get_by_label("文件", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator("#upload-error")).to_have_text("第 3 行有 1 列，而表头有 2 列。")
    page.get_by_role("link", name="English").click()
    page.get_by_label("File", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#upload-error")).to_have_text("Row 3 has 1 columns but the header has 2.")


def test_switching_language_is_remembered(page: Page) -> None:
    page.goto("/catalog")
    expect(page.get_by_role("heading", name="数据目录")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Data catalog")).to_be_visible()
    page.goto("/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "login-en")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def test_a_foreign_dataset_is_not_reachable_by_url(page: Page, ctx: Context) -> None:
    log_in(page, "coop-manager")
    response = page.goto(f"/datasets/{dataset_id(ctx, '用电量')}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="出错了")).to_be_visible()
    expect(page.get_by_text("用电量")).to_have_count(0)


def test_phone_width_layout_keeps_navigation_usable(browser: Browser, server: str) -> None:
    context = browser.new_context(
        base_url=server, viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    tab = context.new_page()
    tab.goto("/catalog")
    expect(tab.get_by_role("link", name="数据目录")).to_be_visible()
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    shot(tab, "catalog-phone")
    context.close()


def test_a_recipe_is_previewed_then_applied_and_compared(page: Page, ctx: Context) -> None:
    log_in(page, "bureau-admin")
    page.goto(f"/datasets/{dataset_id(ctx, '参保人员')}/privacy")
    expect(page.get_by_role("heading", name="去标识化", exact=True)).to_be_visible()
    page.get_by_role(
        "button", name="预览效果"
    ).click()  # htmx posts the recipe with the CSRF header
    preview = page.locator("#preview")
    expect(preview.get_by_text("已在前 1,000 行上试算")).to_be_visible()
    expect(preview.locator("table.preview tbody tr")).to_have_count(10)
    shot(page, "privacy-preview")
    page.get_by_role("button", name="检查并确认…").click()  # nothing runs unconfirmed
    page.locator("#confirm").get_by_role("button", name="生成第 2 版").click()
    expect(page.get_by_role("heading", name="处理前后")).to_be_visible(timeout=30000)
    expect(page.get_by_role("cell", name="身份证号", exact=True)).to_be_visible()
    shot(page, "privacy-before-after")


def test_the_contract_page_draws_its_gauges_and_the_notice_board_is_public(
    page: Page, ctx: Context
) -> None:

    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    log_in(page, "coop-manager")
    page.goto(f"/contracts/{contract}")
    expect(page.get_by_role("heading", name="条款")).to_be_visible()
    expect(page.locator("[data-gauge] svg")).to_have_count(2)  # budget left and uses left
    expect(page.get_by_text("差分隐私总预算 ε = 2")).to_be_visible()
    shot(page, "contract-demo")  # contract.png: the journey in test_journey.py
    page.get_by_role("button", name="退出").click()
    page.goto("/notices")
    expect(page.get_by_role("heading", name="公示中（可提出异议）")).to_be_visible()
    expect(page.get_by_role("link", name="数据加工使用权")).to_be_visible()
    shot(page, "notices")


def test_a_governed_query_forecasts_then_answers_every_declared_group(
    page: Page, ctx: Context
) -> None:
    """The consumer's journey: the default query on the demo contract is forecast before it
    runs (cost, every declared group, the ± of each column), the forecast proposes an ε for
    an accuracy typed in, and the answer releases every declared town with the ± forecast,
    in readable numbers, charted, kept in the history and downloadable."""

    from yaosu.demo.world import TOWNS

    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    log_in(page, "coop-manager")
    page.goto(f"/contracts/{contract}")
    page.get_by_role("link", name="执行受控查询").click()
    expect(page.get_by_role("heading", name="受控查询")).to_be_visible()
    forecast = page.locator("#estimate")
    expect(forecast.get_by_text("所有已声明的分组都会发布（共 10 个）")).to_be_visible()
    count_line = forecast.locator("li", has_text="n：误差在")
    expect(count_line).to_be_visible()
    predicted = re.search(r"±[\d,.]+", count_line.inner_text())
    assert predicted is not None
    page.get_by_label("期望精度（±，可选）").fill("10")
    expect(forecast.get_by_role("button", name=re.compile(r"使用 ε = "))).to_be_visible()
    page.get_by_role("button", name="执行").click()  # the example query, at ε 0.1
    answer = page.locator("#answer")
    expect(page.get_by_role("heading", name="结果")).to_be_visible(timeout=30000)
    expect(answer.locator("tbody tr")).to_have_count(len(TOWNS))
    expect(answer.get_by_text("所有已声明的分组均已发布（10 个）")).to_be_visible()
    expect(answer.get_by_text(f"n：{predicted.group(0)}")).to_be_visible()  # as forecast
    assert "e+" not in answer.locator("tbody").inner_text()  # readable numbers
    expect(answer.locator("td.num .ci").first).to_be_visible()
    expect(page.locator("#answer-chart svg")).to_be_visible()
    shot(page, "query")
    history = page.locator("#history")
    expect(history.get_by_role("link", name="再次运行").first).to_be_visible()
    with page.expect_download() as download:
        answer.get_by_role("link", name="下载 CSV").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_the_query_page_fits_a_phone(browser: Browser, server: str, ctx: Context) -> None:

    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    context = browser.new_context(
        base_url=server, viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    tab = context.new_page()
    log_in(tab, "coop-manager")
    for path in (f"/query?contract={contract}", f"/datasets/{dataset_id(ctx, '农产品')}"):
        tab.goto(path)
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{path} scrolls sideways on a phone ({width}px)"
    context.close()
