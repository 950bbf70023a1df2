"""The inbox in the console: its count in the navigation, the page, the next step each form
leaves the user on, and home pages that speak in names and sentences, not ids."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.authorization.test_matrix import BA, BN, BR, CAC, CO, USERS, P
from tests.conftest import dataset_id
from tests.console.test_pages import csrf, login
from tests.console.test_untranslated import VisibleText
from yaosu.console import steps
from yaosu.context import Context


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    login(client, username)


def nav_count(html: str) -> int:
    found = re.search(r'<a href="/inbox"[^>]*>[^<]*<span class="count" data-count="(\d+)"', html)
    return int(found.group(1)) if found else 0


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.pieces)


def test_the_navigation_counts_what_waits(app_client: TestClient) -> None:
    for username, expected in ((BR, 1), (CAC, 3), (BN, 0), (CO, 1)):
        sign_in(app_client, username)
        page = app_client.get("/catalog").text
        assert '<a href="/inbox"' in page, username
        assert nav_count(page) == expected, username
    app_client.cookies.clear()
    assert '<a href="/inbox"' not in app_client.get("/catalog").text  # no inbox for no one


def test_the_inbox_page_lists_sentences_with_links(app_client: TestClient) -> None:
    sign_in(app_client, BR)
    page = app_client.get("/inbox")
    assert page.status_code == 200
    text = visible(page.text)
    assert "待处理 (1)" in text and "需留意 (0)" in text and "已处理" in text
    assert "青禾农民专业合作社申请将《江州市城乡居民社会保险参保人员信息》用于“公益事业”" in text
    link = re.search(r'<a href="(/requests/req_[^"]+)" title="(req_[^"]+)">', page.text)
    assert link and link.group(1) == f"/requests/{link.group(2)}"
    assert not re.search(r"\b(req|ctr|usr|ds)_\w+", text)  # ids only in links and hovers
    english = app_client.get("/inbox?lang=en").text
    assert "Waiting for you" in english and "asks to use" in english


def test_a_review_in_the_console_moves_the_count_and_says_what_comes_next(
    app_client: TestClient,
) -> None:
    sign_in(app_client, BR)
    home = app_client.get("/home").text
    request_path = re.search(r'href="(/requests/req_[^"]+)"', home)
    assert request_path
    target = request_path.group(1)
    made = app_client.post(
        f"{target}/review",
        data={"decision": "approve", "reason": "同意", "csrf_token": csrf(app_client, "/home")},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == f"{target}?done=review.recorded"
    landed = app_client.get(made.headers["location"]).text
    assert "你的审核决定已记录。" in landed and "下一步：由下列其他审核方作出决定" in landed
    assert nav_count(landed) == 0
    assert "公益事业" in visible(app_client.get("/inbox").text).split("已处理")[1]
    # The 网信 office's approval is the last: the contract is made, and its page says so.
    sign_in(app_client, CAC)
    assert nav_count(app_client.get("/home").text) == 3  # the demo's dispute and filing
    last = app_client.post(
        f"{target}/review",
        data={"decision": "approve", "reason": "同意", "csrf_token": csrf(app_client, "/home")},
        follow_redirects=False,
    )
    where = last.headers["location"]
    assert re.fullmatch(r"/contracts/ctr_\w+\?done=contract\.made", where), where
    landed = app_client.get(where).text
    assert "所有审核方均已批准：授权协议已提交给数据使用方。" in landed and nav_count(landed) == 2
    # The requester finds it in its inbox, and the contract page tells it how to use it.
    sign_in(app_client, CO)
    inbox = app_client.get("/inbox").text
    assert where in inbox.replace("&amp;", "&")
    offered = app_client.get(where).text
    assert "接受协议条款" in offered  # both parties accept: the requester's admin, here
    accepted = app_client.post(
        where.split("?")[0] + "/acceptance",
        data={"decision": "accept", "csrf_token": csrf(app_client, "/home")},
        follow_redirects=False,
    )
    assert accepted.headers["location"].endswith("?done=contract.accepted")
    used = app_client.get(accepted.headers["location"]).text
    assert "你已接受条款：授权协议已生效。" in used and "执行受控查询" in used
    assert re.search(r'href="/query\?contract=ctr_\w+">执行受控查询</a>', used)


def test_each_step_of_a_providers_journey_says_what_comes_next(
    app_client: TestClient, ctx: Context
) -> None:
    sign_in(app_client, BN)
    made = app_client.post(
        "/datasets/new",
        data={"title": "收件箱测试数据", "theme": "测试", "csrf_token": csrf(app_client, "/home")},
        follow_redirects=False,
    )
    where = made.headers["location"]
    assert where.endswith("/upload?done=dataset.created")
    assert "数据集已登记。" in app_client.get(where).text
    res = dataset_id(ctx, "参保人员")
    screened = app_client.post(
        f"/datasets/{res}/privacy/screen",
        data={"csrf_token": csrf(app_client, "/home")},
        follow_redirects=False,
    )
    assert screened.headers["location"] == f"/datasets/{res}/privacy?done=screen.done"
    page = app_client.get(screened.headers["location"]).text
    assert "筛查已完成" in page and "由本机构的审核员确认或更正" in page  # the analyst waits
    assert nav_count(page) == 0
    sign_in(app_client, BR)
    page = app_client.get(screened.headers["location"]).text
    assert "核对下方的建议结果，然后确认或更正" in page  # the reviewer is the one to act
    assert nav_count(page) == 2  # the request, and this screen
    # A version stored by the upload form lands on the dataset page with its next step.
    page = app_client.get(f"/datasets/{res}?done=version.uploaded").text
    assert f'href="/datasets/{res}/privacy">去筛查</a>' in page


def test_only_registered_steps_are_shown(app_client: TestClient, ctx: Context) -> None:
    sign_in(app_client, BA)
    plain = app_client.get("/home").text
    assert 'class="panel next-step"' not in plain
    planted = app_client.get("/home?done=%3Cscript%3Ealert(1)%3C/script%3E").text
    assert 'class="panel next-step"' not in planted and "alert(1)" not in planted
    res = dataset_id(ctx, "参保人员")
    # A step needing a path parameter the page lacks says its words without a link.
    shown = app_client.get("/home?done=version.uploaded").text
    assert "文件已保存为新版本。" in shown and "去筛查</a>" not in shown
    assert all(code.count(".") <= 1 and " " not in code for code in steps.STEPS)
    assert app_client.get(f"/datasets/{res}?done=version.uploaded").status_code == 200


def test_home_pages_speak_in_names_and_sentences(app_client: TestClient) -> None:
    for username in USERS:
        sign_in(app_client, username)
        text = visible(app_client.get("/home").text)
        assert not re.search(r"\b(req|ctr|usr|rvw|reg)_\w+", text), (username, text)
        assert "session.login" not in text and "request.submit" not in text, username
    sign_in(app_client, P)
    home = app_client.get("/home").text
    text = visible(home)
    assert "平台管理员（要素数据交易平台运营中心） 登录" in text  # who did what, in words
    assert 'title="session.login"' in home  # the code stays on hover
    sign_in(app_client, CO)
    text = visible(app_client.get("/home").text)
    # its contracts, newest first, in names: the derived product it bought from the supplier
    assert "绿源农资各村需求整理数据 · 江州绿源农资有限公司 · 生效中" in text
