"""The provider's de-identification journey in a real browser: screen, review the screen
correcting one column, edit the recipe in the form, watch the preview follow, confirm, and
see the de-identified version. Set YAOSU_SCREENSHOTS=1 to refresh
docs/screenshots/recipe-editor.png."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Browser, Page, expect

from tests.conftest import dataset_id
from tests.console.test_browser import log_in, page, shot  # noqa: F401  (the page fixture)
from yaosu.context import Context


def test_the_provider_reviews_edits_the_recipe_in_the_form_and_confirms(
    page: Page,  # noqa: F811
    ctx: Context,
) -> None:
    residents = dataset_id(ctx, "参保人员")
    log_in(page, "bureau-admin")
    page.goto(f"/datasets/{residents}/privacy")
    # A new screen of the latest version: a proposal waiting for the review.
    page.get_by_role("button", name="筛查最新版本").click()
    review = page.get_by_role("form", name="审核")
    expect(review).to_be_visible()
    # Correct one column: the remarks name 低保户, a specific identity.
    review.get_by_label("备注的判定").select_option("specific_identity")
    review.get_by_label("理由（更正时必填）").fill("备注中的低保户属于特定身份")
    review.get_by_role("button", name="提交审核结论").click()
    expect(page.locator("#report")).to_contain_text("特定身份")
    expect(page.get_by_role("form", name="审核")).to_have_count(0)

    # The form holds the suggested recipe: span masking for the remarks, k-anonymity on the
    # quasi-identifiers the screen found.
    editor = page.locator("#recipe-editor")
    remark = editor.get_by_label("备注的处理方式")
    expect(remark).to_have_value("mask_spans")
    expect(editor.get_by_text("建议启用，因为筛查发现了准标识符")).to_be_visible()
    recipe = json.loads(page.locator("#recipe").input_value())
    assert recipe["k_anonymity"]["quasi_identifiers"] == ["性别", "出生日期", "所属乡镇"]

    # Change one column's action in the form: the JSON follows and the preview updates.
    with page.expect_response(lambda r: r.url.endswith("/privacy/preview")):
        editor.get_by_label("手机号的处理方式").select_option("drop")
    assert json.loads(page.locator("#recipe").input_value())["columns"]["手机号"] == {"op": "drop"}
    preview = page.locator("#preview")
    expect(preview.get_by_text("已在前 1,000 行上试算")).to_be_visible()
    expect(page.locator("#after-3")).to_contain_text("已删除")
    # The remarks keep 低保户代缴 and lose the contacts' names.
    expect(page.locator("#after-9")).to_contain_text("联系人**")
    expect(preview.locator("table.preview")).to_contain_text("低保户代缴")
    expect(preview.locator("table.preview")).not_to_contain_text("手机号")
    shot(page, "recipe-editor")

    # The advanced JSON view edits the same recipe: the form follows it.
    page.get_by_text("高级：以 JSON 编辑方案").click()
    edited = json.loads(page.locator("#recipe").input_value())
    edited["columns"]["缴费档次(元)"] = {"op": "round", "to": 500}
    page.locator("#recipe").fill(json.dumps(edited, ensure_ascii=False))
    expect(editor.get_by_label("缴费档次(元)的处理方式")).to_have_value("round")
    fee = page.locator('tr.recipe-column[data-column="缴费档次(元)"]')
    expect(fee.locator('[data-for="round"] input')).to_have_value("500")
    expect(fee.locator('[data-for="round"]')).to_be_visible()
    page.locator("#recipe").fill("{not json")
    expect(page.locator("#recipe-json-error")).to_be_visible()
    page.locator("#recipe").fill(json.dumps(edited, ensure_ascii=False))
    expect(page.locator("#recipe-json-error")).to_be_hidden()

    # Confirm: what it creates, from which version, with which recipe; nothing ran yet.
    page.get_by_role("button", name="检查并确认…").click()
    confirm = page.locator("#confirm")
    expect(confirm.get_by_role("heading", name="确认去标识化")).to_be_focused()
    expect(confirm).to_contain_text("本数据集的第 2 版")
    expect(confirm).to_contain_text("立即执行")
    expect(confirm.get_by_role("cell", name="手机号", exact=True)).to_be_visible()
    expect(confirm.locator("tr", has_text="缴费档次(元)")).to_contain_text("取整到 500")
    page.keyboard.press("Enter")  # on the heading: Enter runs nothing
    expect(confirm.get_by_role("button", name="生成第 2 版")).to_be_visible()
    assert re.search(r"/privacy(\?done=screen\.confirmed)?$", page.url), page.url
    confirm.get_by_role("button", name="生成第 2 版").click()

    expect(page.get_by_role("heading", name="处理前后")).to_be_visible()
    phone = page.locator("tr", has=page.get_by_role("cell", name="手机号", exact=True))
    expect(phone).to_contain_text("删除")
    remarks = page.locator("tr", has=page.get_by_role("cell", name="备注", exact=True))
    expect(remarks).to_contain_text("遮盖文本中发现的内容")
    expect(page.get_by_text(re.compile(r"^版本 2 · "))).to_be_visible()


def test_the_preview_scrolls_sideways_on_a_phone(
    browser: Browser, server: str, ctx: Context
) -> None:
    context = browser.new_context(
        base_url=server, viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    tab = context.new_page()
    log_in(tab, "bureau-admin")
    tab.goto(f"/datasets/{dataset_id(ctx, '参保人员')}/privacy")
    tab.get_by_role("button", name="预览效果").click()
    table = tab.locator("#preview table.preview")
    expect(table).to_be_visible()
    # A cell's text stays on one line, and the table scrolls inside its box, not the page.
    heights = table.locator("tbody tr").first.evaluate(
        "(row) => row.getBoundingClientRect().height"
    )
    assert heights < 60, f"a preview row is {heights}px high: its cells wrap"
    box = table.evaluate(
        "(t) => { const s = t.closest('.scroll'); return [s.scrollWidth, s.clientWidth]; }"
    )
    assert box[0] > box[1], "the preview does not scroll inside its box"
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    context.close()
