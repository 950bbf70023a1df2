"""The audit pages a regulator uses: the search in words, an entry with the data its browser
check needs, the checkpoints and their witnesses, the export download and the page that
verifies an uploaded export. (The browser's own check: tests/console/test_journey.py and
tests/console/test_audit_browser.py.)"""

from __future__ import annotations

import ast
import html
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.authorization.test_matrix import denials
from tests.conftest import actor, dataset_id
from tests.console.test_pages import csrf, login
from yaosu.audit import entries, files, transparency
from yaosu.audit.labels import ACTION
from yaosu.audit.models import AuditEntry
from yaosu.audit.verify import Checkpoint, Verifier, leaf_hash, verify_export, verify_inclusion
from yaosu.authorization.policy.core import SCOPE_OF
from yaosu.context import Context
from yaosu.kernel.i18n import labels

SRC = Path(__file__).resolve().parents[2] / "src" / "yaosu"
# Actions recorded under a name made at run time: f"dataset.{purpose}", f"job.{status}",
# f"contract.{action}" (catalog/versions.py, tasks/service.py, authorization/contracts.py).
MADE_AT_RUN_TIME = {
    "dataset.download",
    "dataset.preview",
    "job.done",
    "job.failed",
    "job.cancelled",
    "contract.suspend",
    "contract.resume",
    "contract.revoke",
}
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def recorded_actions() -> set[str]:
    """Every action code a ``record(...)`` call or a ``decide()`` refusal can write."""
    found = set(SCOPE_OF) | MADE_AT_RUN_TIME | {"session.csrf"}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    value = kw.value
                    if (
                        kw.arg == "action"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                        and CODE.match(value.value)
                    ):
                        found.add(value.value)
                # registration steps name theirs positionally: _step(..., "right.review", note)
                for arg in node.args:
                    if (
                        isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and re.fullmatch(r"right\.[a-z_]+", arg.value)
                    ):
                        found.add(arg.value)
    return found


def test_every_action_has_words(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        in_the_demo = set(session.scalars(select(AuditEntry.action).distinct()))
    missing = (recorded_actions() | in_the_demo) - set(labels(ACTION))
    assert missing == set(), f"add these to audit/labels.py (ACTION): {sorted(missing)}"


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_search_in_words_by_organisation_object_action_and_time(
    app_client: TestClient, ctx: Context
) -> None:
    login(app_client, "cac-inspector")
    bureau = actor(ctx, "bureau-admin").org_id
    farm = dataset_id(ctx, "农产品")
    page = app_client.get("/audit").text
    assert '<option value="' + bureau + '">江州市数据局</option>' in page  # names, not ids
    assert '<label for="f-org">涉及机构</label>' in page  # any organisation, not "本机构"
    assert 'title="session.login">登录</span>' in page  # the action in words, the code on hover
    by_org = app_client.get(f"/audit?org={bureau}&object_type=&object_id=&action=&since=&until=")
    assert by_org.status_code == 200
    cac = actor(ctx, "cac-inspector")
    with ctx.db.transaction() as session:
        expected = entries.list_entries(session, cac, org_id=bureau)[1]
    assert f'<p class="muted">记录数: {expected:,}</p>' in by_org.text
    by_name = app_client.get("/audit?object_type=dataset&object_id=农产品").text
    assert rows(by_name) and all("2024年各乡镇农产品销售数据" in r for r in rows(by_name))
    by_id = app_client.get(f"/audit?object_type=dataset&object_id={farm}").text
    assert len(rows(by_id)) == len(rows(by_name))
    logins = app_client.get("/audit?action=session.login").text
    assert rows(logins) and all('title="session.login"' in r for r in rows(logins))
    assert not rows(app_client.get("/audit?action=session.login&since=2999-01-01T00:00").text)


def test_contract_and_request_entries_are_named_by_dataset_and_data_user(
    app_client: TestClient, ctx: Context
) -> None:
    """A regulator reads 《dataset》 · data user, not ctr_… or req_… (the id on hover); a
    contract's making reads as an offer, not as coming into force (the data user accepts),
    made by the system, not by a bare login name."""
    login(app_client, "dsj-inspector")
    coop = actor(ctx, "coop-manager").org_id
    listed = rows(app_client.get(f"/audit?org={coop}&object_type=contract").text)
    assert listed
    for row in listed:  # its contracts, and those on its data it approved (the supplier's)
        assert re.search(r"《[^》]+》 · (青禾农民专业合作社|江州绿源农资有限公司)", row), row
        assert re.search(r">\s*ctr_", row) is None, row  # the id only in title=
    assert any("《江州市城乡居民社会保险参保人员信息》 · 青禾农民专业合作社" in r for r in listed)
    made = rows(app_client.get("/audit?object_type=contract&action=contract.create").text)
    assert made and all("生成授权协议，待数据使用方接受" in r for r in made)
    assert all(re.search(r">系统（[^<）]+）</span>", r) for r in made)  # who acted, in words
    requests = rows(app_client.get(f"/audit?org={coop}&object_type=request").text)
    assert requests and all(
        re.search(r"· (青禾农民专业合作社|江州绿源农资有限公司)", r) for r in requests
    )
    # ... and found by the dataset's name, as they are shown
    by_name = rows(app_client.get("/audit?object_type=contract&object_id=参保人员").text)
    assert len(by_name) == len([r for r in listed if "参保人员" in r])
    farm = rows(app_client.get("/audit?object_type=contract&object_id=农产品").text)
    assert farm and all("农产品销售数据" in r and "参保人员" not in r for r in farm)
    asked = rows(app_client.get("/audit?object_type=request&object_id=参保人员").text)
    assert len(asked) == len([r for r in requests if "参保人员" in r])


def test_a_contract_is_named_only_to_who_may_see_it(ctx: Context) -> None:
    from yaosu.audit import words

    regulator, stranger = actor(ctx, "dsj-inspector"), actor(ctx, "ai-analyst")
    with ctx.db.transaction() as session:
        contract = session.scalar(
            select(AuditEntry.object_id).where(AuditEntry.object_type == "contract")
        )
        assert contract is not None
        for who, named in ((regulator, True), (stranger, False)):
            found = words.agreement_name(session, who, kind="contract", object_id=contract)
            assert (found is not None) is named, who.username


def test_the_listing_stays_filtered_by_visible(app_client: TestClient, ctx: Context) -> None:
    login(app_client, "coop-manager")
    coop, bureau = actor(ctx, "coop-manager"), actor(ctx, "bureau-admin").org_id
    with ctx.db.transaction() as session:
        total = entries.list_entries(session, coop)[1]
        every = session.scalar(select(func.count()).select_from(AuditEntry))
        via_org = entries.list_entries(session, coop, org_id=bureau)[1]
    assert 0 < total < every
    assert f"记录数: {total:,}" in app_client.get("/audit").text
    assert f"记录数: {via_org:,}" in app_client.get(f"/audit?org={bureau}").text
    assert "下载导出文件" not in app_client.get("/audit").text  # the whole log is oversight's


def entry_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="proof-data">(.*?)</script>', page, re.S)
    assert found, page[:500]
    return json.loads(found.group(1))


def test_an_entry_page_carries_what_the_browser_checks(
    app_client: TestClient, ctx: Context
) -> None:
    farm = dataset_id(ctx, "农产品")
    with ctx.db.transaction() as session:
        index = session.scalar(
            select(AuditEntry.leaf_index).where(
                AuditEntry.object_id == farm, AuditEntry.action == "dataset.create"
            )
        )
        latest = transparency.get_checkpoint(session).size
    login(app_client, "dsj-inspector")
    got = app_client.get(f"/audit/entries/{index}")
    assert got.status_code == 200
    page = got.text
    assert "登记数据集" in page and "2024年各乡镇农产品销售数据" in page and "江州市数据局" in page
    assert '<script src="/static/verify.js" defer></script>' in page
    assert "<script>" not in page  # no inline script: the data is JSON, the code a static file
    data = entry_data(page)
    assert data["index"] == index and data["size"] == latest
    note = Checkpoint.parse(data["note"])
    verify_inclusion(
        index,
        note.size,
        leaf_hash(data["leaf"].encode()),
        [bytes.fromhex(h) for h in data["proof"]],
        note.root,
    )
    log_key = Verifier.parse(data["log_key"])
    witnesses = [Verifier.parse(w["key"]) for w in data["witness_keys"]]
    assert note.verify(log_key, witnesses)  # the demo's regulators cosigned it
    assert {w["org"] for w in data["witness_keys"]} == {"江州市委网信办", "江州省数据局"}
    # the strings the script shows come from the page, in the reader's language
    assert 'data-all-ok="全部核验通过。"' in page
    assert app_client.get("/static/verify.js").status_code == 200


def test_an_entry_after_the_last_checkpoint_waits_for_the_next(
    app_client: TestClient, ctx: Context, paused_schedule: None
) -> None:
    login(app_client, "cac-inspector")
    with ctx.db.transaction() as session:
        newest = session.scalar(select(func.max(AuditEntry.leaf_index)))
        signed = transparency.get_checkpoint(session).size
    page = app_client.get(f"/audit/entries/{newest}").text
    assert "下一个检查点将覆盖它" in page and "proof-data" not in page
    assert app_client.get(f"/audit/entries/{newest}?size={signed}").status_code == 422
    assert app_client.get(f"/audit/entries/{newest}?size=999999").status_code == 404


def test_an_entry_about_others_is_refused_and_audited_once(
    app_client: TestClient, ctx: Context
) -> None:
    bureau = actor(ctx, "bureau-admin").org_id
    with ctx.db.transaction() as session:
        index = session.scalar(
            select(AuditEntry.leaf_index).where(
                AuditEntry.object_org_id == bureau, AuditEntry.action == "dataset.create"
            )
        )
    login(app_client, "coop-manager")
    before = denials(ctx)
    got = app_client.get(f"/audit/entries/{index}")
    assert got.status_code == 403 and "proof-data" not in got.text
    assert denials(ctx) - before == 1
    assert app_client.get("/audit/entries/99999999").status_code == 404


def test_the_checkpoint_list_shows_who_cosigned(app_client: TestClient, ctx: Context) -> None:
    signer = transparency.log_signer(ctx.settings)
    with ctx.db.transaction() as session:
        cosigned = transparency.get_checkpoint(session).size
        transparency.make_checkpoint(session, signer=signer)  # a newer one, not cosigned yet
    login(app_client, "cac-inspector")
    page = app_client.get("/audit/checkpoints").text
    table = rows(page)
    assert len(table) >= 2
    newest, older = table[0], next(r for r in table if f"<td>{cosigned:,}</td>" in r)
    assert "未联署： 江州市委网信办" in newest and "未联署： 江州省数据局" in newest
    assert "✓ 已联署： 江州市委网信办" in older and "✓ 已联署： 江州省数据局" in older
    assert "cac.jiangzhou.example/witness" in page


def export_bytes(client: TestClient) -> bytes:
    got = client.post("/audit/export", data={"csrf_token": csrf(client, "/audit")})
    assert got.status_code == 200, got.text[:300]
    assert got.headers["content-disposition"].startswith("attachment;")
    return got.content


def test_the_export_download_is_the_cli_file_and_an_audited_access(
    app_client: TestClient, ctx: Context
) -> None:
    login(app_client, "dsj-inspector")
    assert "下载导出文件" in app_client.get("/audit").text
    with ctx.db.transaction() as session:
        before = session.scalar(select(func.count()).where(AuditEntry.action == "audit.export"))
    body = export_bytes(app_client)
    key = transparency.log_signer(ctx.settings).verifier()
    report = verify_export(iter(io.BytesIO(body)), key)
    assert report.signed_size > 0
    with ctx.db.transaction() as session:
        accesses = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export"))
        made = [e for e in accesses]
        lines = b"".join(transparency.export_lines(session, origin=ctx.settings.audit_origin))
    assert len(made) == before + 1 and made[-1].actor_id == actor(ctx, "dsj-inspector").id
    # the same file as `yaosu audit export`, but for the header's time and this very access
    assert body.split(b"\n")[1:] == lines.split(b"\n")[1:]
    app_client.cookies.clear()
    login(app_client, "coop-manager")
    before_denials = denials(ctx)
    refused = app_client.post("/audit/export", data={"csrf_token": csrf(app_client, "/audit")})
    assert refused.status_code == 403 and denials(ctx) - before_denials == 1


def upload(client: TestClient, content: bytes, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf(client, "/audit/verify"), **fields}
    return client.post(
        "/audit/verify",
        data=data,
        files={"file": ("audit.ndjson", content, "application/x-ndjson")},
    )


def test_verify_a_file_names_the_first_bad_entry(app_client: TestClient, ctx: Context) -> None:
    login(app_client, "cac-inspector")
    good = export_bytes(app_client)
    ok = upload(app_client, good)
    assert ok.status_code == 200 and "文件验证通过" in ok.text, ok.text[-2000:]
    assert "cac.jiangzhou.example/witness</code>: 联署了其中 1 个检查点" in ok.text
    lines = good.split(b"\n")
    first = next(i for i, line in enumerate(lines) if line.startswith(b'{"entry":'))
    edited = list(lines)
    edited[first + 3] = edited[first + 3].replace(b'"reason":"', b'"reason":"edited ')
    bad = upload(app_client, b"\n".join(edited))
    assert bad.status_code == 200 and "文件验证未通过" in bad.text
    assert "第一条有问题的记录是第 3 号：它被篡改。" in bad.text
    assert 'href="/audit/entries/3"' in bad.text
    deleted = list(lines)
    deleted.pop(first + 2)
    assert "第 2 号：它被删除。" in upload(app_client, b"\n".join(deleted)).text
    swapped = list(lines)  # entries 1 and 2 trade places (each line names its position)
    one, two = (swapped[first + i].rpartition(b',"index":') for i in (1, 2))
    swapped[first + 1], swapped[first + 2] = two[0] + b"".join(one[1:]), one[0] + b"".join(two[1:])
    assert "第 1 号：它被调换顺序。" in upload(app_client, b"\n".join(swapped)).text
    # required witnesses: a checkpoint signed after the demo's is not cosigned yet
    with ctx.db.transaction() as session:
        transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
        witness = transparency.list_witnesses(session)[0].vkey
    newer = export_bytes(app_client)
    assert "文件验证通过" in upload(app_client, newer).text
    strict = upload(app_client, newer, witness=witness)
    assert "文件验证未通过" in strict.text and "is not cosigned by" in strict.text


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "文件为空"),
        (b"name,value\n1,2\n", "不是逐行 JSON"),
        (b'{"format": "something-else"}\n', "不是可读取的要素审计导出文件"),
        (b'{"format": "yaosu-audit-export/1"}\n{"leaves": ["zz"], "start": 0}\n', "有行缺失"),
        (b"\xff\xfe\x00garbage", "不是逐行 JSON"),
    ],
)
def test_a_file_that_is_no_export_gets_a_clear_error(
    app_client: TestClient, content: bytes, says: str
) -> None:
    login(app_client, "cac-inspector")
    got = upload(app_client, content)
    assert got.status_code == 422 and 'class="error-message" role="alert"' in got.text
    assert says in html.unescape(got.text)


def test_a_wrong_key_a_missing_file_and_a_huge_file(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yaosu.audit.keys import Signer

    login(app_client, "cac-inspector")
    good = export_bytes(app_client)
    other = Signer.generate("yaosu.local/audit-log").verifier_key()
    wrong = upload(app_client, good, key=other)
    assert "文件验证未通过" in wrong.text and "is not signed by" in wrong.text
    garbled = upload(app_client, good, key="not a key")
    assert garbled.status_code == 422 and "日志公钥不是有效的验证公钥" in garbled.text
    missing = app_client.post(
        "/audit/verify", data={"csrf_token": csrf(app_client, "/audit/verify")}
    )
    assert missing.status_code == 422 and "请选择要验证的导出文件" in missing.text
    monkeypatch.setattr(files, "MAX_BYTES", 1000)
    huge = upload(app_client, good)
    assert huge.status_code in (413, 422) and "yaosu audit verify" in huge.text
