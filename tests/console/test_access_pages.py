"""The request wizard, the reviewer inbox and home reminders, the contract page, and the
rights pages (notice board, registration steps, objections, certificate verification),
driven through the console as users drive it."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import dataset_id, demo_contract_id
from tests.console.test_pages import csrf, login
from yaosu.context import Context
from yaosu.kernel.db import utcnow
from yaosu.rights.models import Registration


def as_user(client: TestClient, username: str) -> None:
    client.cookies.clear()
    login(client, username)


def test_from_request_to_contract_in_the_console(app_client: TestClient, ctx: Context) -> None:
    residents = dataset_id(ctx, "参保人员")
    as_user(app_client, "ai-analyst")
    dataset_page = app_client.get(f"/datasets/{residents}").text
    assert f"/requests/new?dataset={residents}" in dataset_page
    wizard = app_client.get(f"/requests/new?dataset={residents}")
    assert wizard.status_code == 200 and "乡村振兴" in wizard.text and "所属乡镇" in wizard.text
    token = csrf(app_client, f"/requests/new?dataset={residents}")
    form = {
        "csrf_token": token,
        "dataset": residents,
        "purpose": "rural_revitalisation",
        "fields": ["所属乡镇", "参保类型"],
        "operations": ["aggregate"],
        "days": "30",
        "max_uses": "5",
        "epsilon": "1.5",
        "justification": "测算各乡镇参保结构，支撑资源配置。",
    }
    short = app_client.post("/requests/new", data=form | {"justification": "短"})
    assert short.status_code == 422 and "justification" in short.text and "所属乡镇" in short.text
    made = app_client.post("/requests/new", data=form, follow_redirects=False)
    assert made.status_code == 303
    path, _done = made.headers["location"].split("?")  # the page then says what comes next
    page = app_client.get(path).text
    assert "审核中" in page and "含个人信息" in page and "数据提供方" in page

    # the reviewers see it in their inbox and on their home page, with its due date
    as_user(app_client, "cac-inspector")
    home = app_client.get("/home").text
    reminders = re.search(r'<section class="panel" id="reminders">.*?</section>', home, re.S)
    assert reminders and path.rsplit("/", 1)[1] in reminders.group(0)
    assert path in app_client.get("/reviews").text
    token = csrf(app_client, path)
    reviewed = app_client.post(
        f"{path}/review",
        data={
            "csrf_token": token,
            "decision": "conditional",
            "reason": "预算减半",
            "epsilon": "0.75",
            "keep": [f"{residents}:所属乡镇", f"{residents}:参保类型"],
        },
        follow_redirects=True,
    )
    assert "附条件批准" in reviewed.text and "0.75" in reviewed.text
    as_user(app_client, "bureau-reviewer")
    token = csrf(app_client, path)
    no_reason = app_client.post(
        f"{path}/review",
        data={"csrf_token": token, "decision": "approve", "reason": ""},
        follow_redirects=True,
    )
    assert 'role="alert"' in no_reason.text
    contract = app_client.post(
        f"{path}/review",
        data={"csrf_token": token, "decision": "approve", "reason": "同意"},
        follow_redirects=True,
    )
    # the approvals make the contract, offered to the data user: not in force until accepted
    assert contract.status_code == 200 and "待数据使用方接受" in contract.text
    assert "生效中" not in contract.text and "执行受控查询" not in contract.text
    assert "差分隐私总预算 ε = 0.75" in contract.text and "data-gauge" in contract.text
    assert "统计结果中少于 10 人的分组不予显示" in contract.text
    assert "自数据使用方接受本协议时起算" in contract.text
    assert "接受协议条款</button>" not in contract.text  # the provider's reviewer cannot
    contract_path = "/contracts/" + re.search(r"ctr_[0-9a-z]+", contract.text).group(0)  # type: ignore[union-attr]

    # the data user's admin accepts on the contract page: in force, both acceptances shown
    as_user(app_client, "ai-analyst")
    offered = app_client.get(contract_path).text
    assert "接受协议条款</button>" in offered and "尚未接受" in offered
    token = csrf(app_client, contract_path)
    accepted = app_client.post(
        f"{contract_path}/acceptance",
        data={"csrf_token": token, "decision": "accept"},
        follow_redirects=True,
    )
    assert "生效中" in accepted.text and "执行受控查询" in accepted.text
    assert "以批准申请的方式接受：市数据局审核员" in accepted.text
    assert "接受协议条款：智谷算法工程师" in accepted.text
    assert "接受协议条款</button>" not in accepted.text
    assert "（UTC）" not in accepted.text  # local time, like the rest of the console

    # the provider's admin suspends it; the consumer sees it suspended, in English too
    as_user(app_client, "bureau-admin")
    token = csrf(app_client, contract_path)
    app_client.post(
        f"{contract_path}/status", data={"csrf_token": token, "action": "suspend", "reason": "核查"}
    )
    as_user(app_client, "ai-analyst")
    english = app_client.get(contract_path + "?lang=en").text
    assert "suspended" in english and "A total differential-privacy budget of ε = 0.75" in english
    assert "<form" not in english.split("Terms")[1]  # the consumer cannot act on it


def test_rights_pages_from_application_to_verified_certificate(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    as_user(app_client, "bureau-admin")
    token = csrf(app_client, "/rights")
    applied = app_client.post(
        "/rights/apply",
        data={
            "csrf_token": token,
            "dataset": residents,
            "kind": "holding",
            "years": "3",
            "statement": "依法履职采集形成",
        },
        follow_redirects=False,
    )
    assert applied.status_code == 303
    reg_path = applied.headers["location"].split("?")[0]
    as_user(app_client, "platform-admin")
    token = csrf(app_client, reg_path)
    for action in ("accept", "pass"):
        app_client.post(
            f"{reg_path}/step", data={"csrf_token": token, "action": action, "note": "材料齐全"}
        )
    board = app_client.get("/notices")
    assert "公示中" in board.text or reg_path in board.text
    # anyone, signed in or not, sees the notice board
    app_client.cookies.clear()
    public = app_client.get("/notices")
    assert public.status_code == 200 and reg_path in public.text
    as_user(app_client, "coop-manager")
    token = csrf(app_client, reg_path)
    app_client.post(
        f"{reg_path}/object", data={"csrf_token": token, "reason": "部分数据由本社采集"}
    )
    assert "部分数据由本社采集" in app_client.get(reg_path).text
    with ctx.db.transaction() as session:
        reg = session.get(Registration, reg_path.rsplit("/", 1)[1])
        assert reg is not None
        reg.notice_ends_at = utcnow() - timedelta(seconds=1)
    as_user(app_client, "platform-admin")
    token = csrf(app_client, reg_path)
    blocked = app_client.post(
        f"{reg_path}/step", data={"csrf_token": token, "action": "issue"}, follow_redirects=True
    )
    assert "未处理的异议" in blocked.text
    objection = re.search(r"/objections/(obj_[0-9a-z]+)/resolve", blocked.text)
    assert objection
    app_client.post(
        f"/objections/{objection.group(1)}/resolve",
        data={"csrf_token": token, "upheld": "no", "resolution": "经核实由市数据局归集"},
    )
    issued = app_client.post(
        f"{reg_path}/step", data={"csrf_token": token, "action": "issue"}, follow_redirects=True
    )
    code = re.search(r"YS-\d{4}-\d{6}", issued.text)
    assert code and "已登记" in issued.text
    certificate = app_client.get(f"/api/v1/certificates/{code.group(0)}").json()
    app_client.cookies.clear()
    page = app_client.get(f"/certificates/{code.group(0)}")
    assert page.status_code == 200 and "数据资源持有权" in page.text
    form_token = ""  # a public page: no session, so no CSRF token to send
    good = app_client.post(
        "/certificates/verify",
        data={"csrf_token": form_token, "certificate": json.dumps(certificate, ensure_ascii=False)},
    )
    assert good.status_code == 200 and 'class="success"' in good.text and "生效中" in good.text
    certificate["document"]["holder"]["name"] = "冒名机构"
    bad = app_client.post(
        "/certificates/verify",
        data={"csrf_token": form_token, "certificate": json.dumps(certificate)},
    )
    assert 'role="alert"' in bad.text and "altered" in bad.text


def test_the_query_page_answers_with_its_cost_and_refuses_in_place(
    app_client: TestClient, ctx: Context
) -> None:

    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    residents = dataset_id(ctx, "参保人员")
    as_user(app_client, "coop-manager")
    page = app_client.get(f"/contracts/{contract}")
    assert f"/query?contract={contract}" in page.text
    form = app_client.get(f"/query?contract={contract}")
    assert form.status_code == 200 and residents in form.text and "所属乡镇" in form.text
    token = csrf(app_client, f"/query?contract={contract}")
    answered = app_client.post(
        "/query",
        data={
            "csrf_token": token,
            "contract": contract,
            "sql": f"SELECT 参保类型, COUNT(*) AS n FROM {residents} GROUP BY 参保类型",
            "epsilon": "0.2",
        },
    )
    assert answered.status_code == 200 and 'id="answer"' in answered.text
    assert (
        "已花费 ε 0.2" in answered.text
        and "95% 的回答落在此范围内" in answered.text
        and 'id="answer-data"' in answered.text
    )
    refused = app_client.post(
        "/query",
        data={
            "csrf_token": token,
            "contract": contract,
            "sql": f"SELECT 姓名 FROM {residents}",
            "epsilon": "0.2",
        },
    )
    assert refused.status_code == 422 and 'role="alert"' in refused.text and "姓名" in refused.text
    as_user(app_client, "ai-analyst")  # not a party: the contract is not even there
    assert app_client.get(f"/query?contract={contract}").status_code == 404
