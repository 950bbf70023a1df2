"""The browser's own check fails where it must: a tampered inclusion proof, an edited entry or a
forged witness line fails in Chromium (WebCrypto SHA-256 and Ed25519, static/verify.js), a
tampered export is reported with its first bad entry, and every check reads in English too.
(A regulator's passing checks, of an entry and of an export downloaded from the console, are
in the journey: tests/console/test_journey.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.conftest import dataset_id, serving
from tests.console.test_browser import log_in
from yaosu.audit import transparency
from yaosu.audit.models import AuditEntry
from yaosu.context import Context

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def quiet_server(ctx: Context) -> Iterator[str]:
    """No scheduled checkpoint lands mid-test: the entry is checked against the demo's
    checkpoint, the one both regulators cosigned."""
    ctx.settings = ctx.settings.model_copy(update={"audit_checkpoint_seconds": 0})
    with serving(ctx) as url:
        yield url


@pytest.fixture
def tab(browser: Browser, quiet_server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=quiet_server, viewport={"width": 1280, "height": 800}, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


def test_a_tampered_proof_entry_witness_or_export_fails_in_the_browser(
    tab: Page, ctx: Context, tmp_path: Path
) -> None:
    farm = dataset_id(ctx, "农产品")
    with ctx.db.transaction() as session:
        index = session.scalar(
            select(AuditEntry.leaf_index).where(
                AuditEntry.object_id == farm, AuditEntry.action == "dataset.create"
            )
        )
    log_in(tab, "cac-inspector")
    tab.goto(f"/audit/entries/{index}")
    summary = tab.locator("#verify-summary")
    expect(summary).to_have_text("全部核验通过。")
    checks = tab.locator("#verify-checks li")
    expect(checks.filter(has_text=f"第 {index} 号叶子")).to_have_class("pass")

    # The browser computes: a changed proof hash, then "verify again", fails the inclusion check.
    tab.evaluate(
        """() => {
          const box = document.getElementById("proof-data");
          const data = JSON.parse(box.textContent);
          const h = data.proof[0];
          data.proof[0] = (h[0] === "0" ? "1" : "0") + h.slice(1);
          box.textContent = JSON.stringify(data);
        }"""
    )
    tab.get_by_role("button", name="重新核验").click()
    expect(summary).to_have_text("部分核验未通过。")
    expect(checks.filter(has_text="包含证明算得的根与检查点不符")).to_have_class("fail")
    expect(checks.filter(has_text="由日志公钥签名，签名有效")).to_have_class("pass")
    # ... and so does an edited entry, or a witness line that was forged
    tab.reload()
    expect(summary).to_have_text("全部核验通过。")  # the page's own data, and the pinned key
    tab.evaluate(
        """() => {
          const box = document.getElementById("proof-data");
          const data = JSON.parse(box.textContent);
          data.leaf = data.leaf.replace('"decision":"allow"', '"decision":"deny"');
          data.note = data.note.replace(/(— cac\\S+ .{40})(\\S)/, (m, p, c) => p + (c === "A" ? "B" : "A"));
          box.textContent = JSON.stringify(data);
        }"""
    )
    tab.get_by_role("button", name="重新核验").click()
    expect(summary).to_have_text("部分核验未通过。")
    expect(checks.filter(has_text="包含证明算得的根与检查点不符")).to_have_class("fail")
    expect(checks.filter(has_text="的联署签名无效")).to_have_class("fail")

    # A tampered export (the file the console's download gives) names its first bad entry.
    with ctx.db.transaction() as session:
        lines = b"".join(
            transparency.export_lines(session, origin=ctx.settings.audit_origin)
        ).split(b"\n")
    first = next(i for i, line in enumerate(lines) if line.startswith(b'{"entry":'))
    lines[first + 5] = lines[first + 5].replace(b'"reason":"', b'"reason":"tampered ')
    tampered = tmp_path / "tampered.ndjson"
    tampered.write_bytes(b"\n".join(lines))
    tab.goto("/audit/verify")
    tab.get_by_label("导出文件").set_input_files(str(tampered))
    tab.get_by_role("button", name="验证文件").click()
    expect(tab.get_by_role("heading", name="✗ 文件验证未通过")).to_be_visible()
    expect(tab.get_by_text("第一条有问题的记录是第 5 号：它被篡改。")).to_be_visible()

    # Every line in the reader's language: the same checks in English, the key still pinned.
    tab.goto(f"/audit/entries/{index}")
    tab.get_by_role("link", name="English").click()
    expect(summary).to_have_text("Every check passed.")
    expect(checks.filter(has_text="is the one this browser pinned")).to_have_class("pass")
