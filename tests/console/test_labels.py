"""The words a new user found wrong, where they show; one English word per set of labels."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORD, dataset_id
from yaosu.context import Context
from yaosu.kernel.i18n import label


def _sign_in(client: TestClient, ctx: Context, username: str) -> None:
    from yaosu.accounts import credentials
    from yaosu.web.deps import SESSION_COOKIE

    with ctx.db.transaction() as session:
        _console, secret, _ = credentials.login(session, username=username, password=DEMO_PASSWORD)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, secret)


def test_rights_pages_name_grantor_grantee_and_the_objection(
    app_client: TestClient, ctx: Context
) -> None:
    from yaosu.rights.models import Registration

    _sign_in(app_client, ctx, "bureau-admin")
    rights = app_client.get("/rights").text
    assert "授权方" in rights and "被授权方" in rights  # were "起" and "止"
    assert ">起<" not in rights and ">止<" not in rights
    assert "申请登记" in rights  # was "执行"
    with ctx.db.transaction() as session:
        notice = session.scalar(select(Registration.id).where(Registration.status == "in_notice"))
    _sign_in(app_client, ctx, "dsj-inspector")
    page = app_client.get(f"/registrations/{notice}").text
    assert "提交异议</button>" in page  # was "对象"


def test_privacy_and_dataset_pages_say_what_source_and_apply_mean(
    app_client: TestClient, ctx: Context
) -> None:
    res = dataset_id(ctx, "参保人员")
    _sign_in(app_client, ctx, "bureau-admin")
    privacy = app_client.get(f"/datasets/{res}/privacy").text
    # the button says what it does (was "执行"): it leads to the confirmation, which runs it
    assert "检查并确认…</button>" in privacy and ">执行<" not in privacy
    assert "身份证件" in privacy and "identity_document" not in privacy
    dataset = app_client.get(f"/datasets/{res}").text
    assert "来源格式" in dataset


def test_one_english_word_reads_differently_in_two_sets() -> None:
    assert label("contract_state", "active").render("zh-CN") == "生效中"
    assert label("request_state", "rejected").render("zh-CN") == "不予批准"
    assert label("registration_state", "rejected").render("zh-CN") == "未予登记"
    assert label("grant_state", "pending").render("zh-CN") == "登记中"
