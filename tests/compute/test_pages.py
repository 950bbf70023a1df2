"""The compute console (no browser): the public register and an algorithm's page for each
kind of reader, filing an algorithm through the form and the 网信 office deciding it, a
dataset's trusted list, a job submitted from its contract, approved, followed and cancelled,
held outputs reviewed and released ones downloaded, the inbox's items, and stored payloads
shown as text. The same service functions as the API decide, so these check the pages: who
sees what, that forms work end to end, and that a bad form comes back with its problem and
changes nothing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from tests.compute.conftest import bundle_bytes, form
from tests.conftest import actor, dataset_id
from tests.console.test_pages import csrf, login
from yaosu.authorization.policy import HIDE_ON_DENY
from yaosu.compute import service
from yaosu.compute.models import Algorithm, AlgorithmFiling, ComputeJob, TrustedAlgorithm
from yaosu.context import Context
from yaosu.demo.compute import FILING as DEMO_FILING
from yaosu.inbox import service as inbox
from yaosu.kernel.i18n import label, localise

AI, CAC, SHIQIAO, COOP, BUREAU = (
    "ai-analyst",
    "cac-inspector",
    "shiqiao-reviewer",
    "coop-manager",
    "bureau-admin",
)
DATASET = "石桥镇人民政府2023"
PAYLOAD = '</script><img src=x onerror="alert(1)"><b hx-get="/pwn" hx-trigger="load">x</b>'


@pytest.fixture(autouse=True)
def _no_worker(ctx: Context) -> None:
    """Jobs stay where the test puts them: no worker thread runs a queued one meanwhile."""
    ctx.settings = ctx.settings.model_copy(update={"task_workers": 0})


def demo(ctx: Context) -> dict[str, Any]:
    """The demo's filed algorithm, its filing still waiting and its compute contract and jobs."""
    data = dataset_id(ctx, DATASET)
    with ctx.db.transaction() as session:
        filed = session.scalars(
            select(Algorithm).where(Algorithm.name == DEMO_FILING["name"])
        ).one()
        waiting = session.scalars(select(Algorithm).where(Algorithm.status == "submitted")).one()
        found = list(session.scalars(select(ComputeJob).order_by(ComputeJob.created_at)))
        return {
            "filed": filed.id,
            "number": filed.filing_number,
            "waiting": waiting.id,
            "waiting_name": waiting.name,
            "filing": session.scalar(
                select(AlgorithmFiling.id).where(AlgorithmFiling.algorithm_id == waiting.id)
            ),
            "contract": found[0].contract_id,
            "jobs": [j.id for j in found],
            "dataset": data,
        }


def as_user(client: TestClient, username: str | None) -> None:
    client.cookies.clear()
    if username:
        login(client, username)


def post(client: TestClient, path: str, form: dict[str, Any], **kw: Any) -> Any:
    token = csrf(client, "/compute/jobs")
    return client.post(path, data=form | {"csrf_token": token}, follow_redirects=False, **kw)


def error_of(answer: Any) -> str:
    assert answer.status_code == 303, answer.text[-2000:]
    found = parse_qs(urlsplit(answer.headers["location"]).query).get("error")
    assert found, answer.headers["location"]
    return found[0]


def count(ctx: Context, model: Any) -> int:
    with ctx.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def job_of(ctx: Context, job_id: str) -> ComputeJob:
    with ctx.db.transaction() as session:
        job = session.get(ComputeJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def zh(kind: str, code: str) -> str:
    """A label in Chinese, as a page writes it (escaped)."""
    return str(escape(label(kind, code).render("zh-CN")))


FORM = {
    "name": "乡镇农资需求预测（表单测试）",
    "algorithm_type": "scheduling",
    "service_form": "平台内计算（数据不出域）",
    "field": "乡村振兴·农业生产",
    "uses": ["statistics", "forecasting"],
    "subjects": ["aggregates"],
    "responsible_name": "王芳",
    "responsible_title": "算法安全负责人",
    "responsible_contact": "wangfang@zhigu.example",
    "self_assessment": "仅输出按村汇总的统计与预测，不涉及个人，不作个体决策，输出经检查后交付。",
    "principle": "按村和品类汇总月度农资需求并加权平均预测。",
    "purpose": "为乡镇农资调配提供需求参考，辅助备货。",
    "mechanism": "在平台沙箱内运行于授权数据之上，输出经检查放行。",
}


def file_through_the_form(client: TestClient, form: dict[str, Any], bundle: bytes | None) -> Any:
    files = {"bundle": ("algorithm.zip", bundle, "application/zip")} if bundle else None
    return post(client, "/algorithms/new", form, files=files)


# --- the register and an algorithm's page ---------------------------------------------------


def test_the_register_is_public_and_the_filing_materials_are_not(
    app_client: TestClient, ctx: Context
) -> None:
    w = demo(ctx)
    as_user(app_client, None)
    register = app_client.get("/algorithms")
    assert register.status_code == 200
    page = register.text
    assert "算法备案公示" in page and w["number"] in page and "村级农资需求统计与下月预测" in page
    assert "智谷人工智能科技有限公司" in page and zh("algorithm_type", "scheduling") in page
    assert "按村和品类汇总月度农资需求" in page  # the public text: principle ...
    assert "为乡镇农资调配和农资企业备货提供需求参考" in page  # ... purpose ...
    assert "原始数据不出域，输出经检查放行" in page  # ... and mechanism
    assert w["waiting_name"] not in page  # a filing being decided is not public
    assert '<a href="/algorithms"' in page  # the navigation offers it to anonymous readers
    public = app_client.get(f"/algorithms/{w['filed']}").text
    assert "村级农资需求统计与下月预测" in public and w["number"] in public
    assert "李明" not in public and "village_inputs:run" not in public  # no filing materials
    assert app_client.get(f"/algorithms/{w['waiting']}").status_code == 404
    # the provider and oversight see the whole filing, a reader of another organisation not
    for username in (AI, CAC):
        as_user(app_client, username)
        whole = app_client.get(f"/algorithms/{w['filed']}").text
        assert "李明" in whole and "liming@zhigu.example" in whole, username
        assert "village_inputs:run" in whole and "python3.11-scientific" in whole
        assert "&#34;minimum&#34;: 1" in whole  # the parameter schema, pretty-printed
        assert "village_inputs.py" in whole and zh("filing_state", "filed") in whole
        waiting = app_client.get("/algorithms").text
        assert w["waiting_name"] in waiting, username  # in "not yet public"
    as_user(app_client, COOP)
    other = app_client.get(f"/algorithms/{w['filed']}").text
    assert "按村和品类汇总月度农资需求" in other and "李明" not in other
    assert app_client.get(f"/algorithms/{w['waiting']}").status_code == 404
    assert w["waiting_name"] not in app_client.get("/algorithms").text
    english = app_client.get("/algorithms?lang=en").text
    assert "Algorithm filing register" in english and "Filing number" in english


def test_the_filing_department_decides_from_its_queue(app_client: TestClient, ctx: Context) -> None:
    w = demo(ctx)
    as_user(app_client, AI)
    assert app_client.get("/algorithms/filings").status_code == 403
    assert 'href="/algorithms/filings"' not in app_client.get("/algorithms").text
    as_user(app_client, CAC)
    queue = app_client.get("/algorithms/filings").text
    assert (
        w["waiting_name"] in queue and f"/algorithms/{w['waiting']}#filing-{w['filing']}" in queue
    )
    page = app_client.get(f"/algorithms/{w['waiting']}").text
    action = f"/algorithms/{w['waiting']}/filings/{w['filing']}/decision"
    assert f'action="{action}"' in page
    # returning needs a reason: back with the problem, nothing decided
    short = post(app_client, action, {"decision": "return", "reason": ""})
    assert error_of(short)
    with ctx.db.transaction() as session:
        assert session.get(AlgorithmFiling, w["filing"]).status == "submitted"  # type: ignore[union-attr]
    returned = post(
        app_client, action, {"decision": "return", "reason": "材料不齐全：缺少自评估附件"}
    )
    assert returned.status_code == 303 and "done=filing.decided" in returned.headers["location"]
    after = app_client.get(returned.headers["location"]).text
    assert "备案决定已作出" in after and "材料不齐全：缺少自评估附件" in after
    assert w["waiting_name"] not in app_client.get("/algorithms/filings").text
    # the provider completes and resubmits it; the department files it then
    as_user(app_client, AI)
    page = app_client.get(f"/algorithms/{w['waiting']}").text
    assert f'action="/algorithms/{w["waiting"]}/resubmit"' in page
    again = post(app_client, f"/algorithms/{w['waiting']}/resubmit", {})
    assert again.status_code == 303 and "done=algorithm.resubmitted" in again.headers["location"]
    as_user(app_client, CAC)
    with ctx.db.transaction() as session:
        second = session.scalar(
            select(AlgorithmFiling.id).where(
                AlgorithmFiling.algorithm_id == w["waiting"], AlgorithmFiling.status == "submitted"
            )
        )
    filed = post(
        app_client,
        f"/algorithms/{w['waiting']}/filings/{second}/decision",
        {"decision": "file", "reason": "材料齐全，予以备案"},
    )
    assert filed.status_code == 303
    as_user(app_client, None)
    assert w["waiting_name"] in app_client.get("/algorithms").text  # now public
    # a decision on another algorithm's filing is not found, and nothing changes
    as_user(app_client, CAC)
    wrong = post(
        app_client, f"/algorithms/{w['filed']}/filings/{second}/decision", {"decision": "file"}
    )
    assert wrong.status_code == 404


def test_an_algorithm_is_filed_through_the_form(app_client: TestClient, ctx: Context) -> None:
    as_user(app_client, AI)
    form = app_client.get("/algorithms/new").text
    assert 'enctype="multipart/form-data"' in form and 'name="bundle"' in form
    assert zh("algorithm_use", "forecasting") in form and zh("algorithm_subject", "minors") in form
    assert "对个人实行不合理的差别化定价" in form  # the red lines, before one files
    before = count(ctx, Algorithm)
    made = file_through_the_form(app_client, FORM, bundle_bytes())
    assert made.status_code == 303 and "done=algorithm.filed" in made.headers["location"]
    assert count(ctx, Algorithm) == before + 1
    page = app_client.get(made.headers["location"]).text
    assert "算法备案已提交网信部门" in page and FORM["name"] in page and "王芳" in page
    assert zh("filing_state", "submitted") in page
    with ctx.db.transaction() as session:
        alg = session.scalars(select(Algorithm).where(Algorithm.name == FORM["name"])).one()
        assert alg.uses == ["forecasting", "statistics"] and alg.responsible["name"] == "王芳"
    # the 网信 office finds it in its queue and its inbox
    as_user(app_client, CAC)
    assert FORM["name"] in app_client.get("/algorithms/filings").text
    assert FORM["name"] in app_client.get("/inbox").text
    # a reviewer does not file: refused before the upload is read, and said on the form
    as_user(app_client, SHIQIAO)
    assert 'name="bundle"' not in app_client.get("/algorithms/new").text
    refused = file_through_the_form(app_client, FORM, bundle_bytes())
    assert refused.status_code == 403 and 'role="alert"' in refused.text
    assert count(ctx, Algorithm) == before + 1


def test_a_bad_filing_form_comes_back_with_its_problems_and_files_nothing(
    app_client: TestClient, ctx: Context
) -> None:
    as_user(app_client, AI)
    before = count(ctx, Algorithm)
    short = file_through_the_form(
        app_client, FORM | {"name": "", "principle": "太短"}, bundle_bytes()
    )
    assert short.status_code == 422
    assert "名称：请填写" in short.text and "基本原理：至少 10 个字符" in short.text
    assert FORM["self_assessment"] in short.text  # what was typed is kept
    assert 'value="statistics" checked' in short.text
    no_zip = file_through_the_form(app_client, FORM, b"not a zip at all")
    assert no_zip.status_code == 422 and "zip" in no_zip.text
    missing = file_through_the_form(app_client, FORM, None)
    assert missing.status_code == 422 and "请选择算法包" in missing.text
    red = file_through_the_form(
        app_client, FORM | {"uses": ["individual_pricing"], "subjects": ["adults"]}, bundle_bytes()
    )
    assert red.status_code == 403 and "红线" in red.text
    english = file_through_the_form(app_client, FORM | {"field": ""}, bundle_bytes())
    assert english.status_code == 422  # the same problem, in the reader's language
    assert "应用领域：请填写" in english.text
    as_user(app_client, AI)
    app_client.cookies.set("yaosu_lang", "en")
    again = file_through_the_form(app_client, FORM | {"field": ""}, bundle_bytes())
    assert "Field of application: fill it in" in again.text
    assert count(ctx, Algorithm) == before


def test_a_stored_payload_in_an_algorithm_is_shown_as_text(
    app_client: TestClient, ctx: Context
) -> None:
    ai, cac = actor(ctx, AI), actor(ctx, CAC)
    text = {
        "principle": PAYLOAD + "原理",
        "purpose": PAYLOAD + "目的",
        "mechanism": PAYLOAD + "机制",
    }
    alg = service.run_file(
        ctx, ai, data=form(name=PAYLOAD[:190], public_text=text), bundle=bundle_bytes()
    )
    with ctx.db.transaction() as session:
        (filing,) = service.filings_of(session, algorithm_id=alg.id)
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=PAYLOAD
        )
    for username in (None, AI, CAC):
        as_user(app_client, username)
        for path in ("/algorithms", f"/algorithms/{alg.id}"):
            page = app_client.get(path).text
            assert "<img src=x" not in page and '<b hx-get="/pwn"' not in page, (username, path)
            assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page, (username, path)


# --- the trusted list ------------------------------------------------------------------------


def test_the_trusted_list_is_the_holders_to_keep(app_client: TestClient, ctx: Context) -> None:
    w = demo(ctx)
    path = f"/datasets/{w['dataset']}/algorithms"
    hidden = 404 if "algorithm.trusted" in HIDE_ON_DENY else 403
    for username in (AI, COOP, BUREAU):
        as_user(app_client, username)
        assert app_client.get(path).status_code == hidden, username
    as_user(app_client, CAC)  # oversight reads it, and changes nothing
    read = app_client.get(path).text
    assert "村级农资需求统计与下月预测" in read and "/revoke" not in read
    as_user(app_client, SHIQIAO)
    page = app_client.get(path).text
    with ctx.db.transaction() as session:
        entry = session.scalars(select(TrustedAlgorithm)).one()  # the demo's approval
    assert f"sha256 {entry.sha256}" in page and "石桥镇审核员" in page
    revoke = f"{path}/{entry.id}/revoke"
    assert error_of(post(app_client, revoke, {"reason": ""}))  # say why
    done = post(app_client, revoke, {"reason": "重新审阅代码"})
    assert done.status_code == 303 and "done=trust.revoked" in done.headers["location"]
    after = app_client.get(done.headers["location"]).text
    assert "批准已撤回" in after and zh("compute_approval", "approved") not in after
    with ctx.db.transaction() as session:
        assert session.get(TrustedAlgorithm, entry.id).revoked_at is not None  # type: ignore[union-attr]
    assert f'value="{w["filed"]}:1"' in after  # the approve form offers the filed version
    bad = post(app_client, path, {"version": "nonsense"})
    assert "请选择已备案算法" in error_of(bad)
    again = post(app_client, path, {"version": f"{w['filed']}:1", "note": "已复核"})
    assert again.status_code == 303 and "done=trust.added" in again.headers["location"]
    assert count(ctx, TrustedAlgorithm) == 2


# --- jobs ------------------------------------------------------------------------------------


def _untrust(ctx: Context) -> None:
    reviewer = actor(ctx, SHIQIAO)
    with ctx.db.transaction() as session:
        entry = session.scalars(select(TrustedAlgorithm)).one()
        service.distrust(session, reviewer, trusted_id=entry.id, reason="测试")


def test_a_job_is_submitted_from_its_contract_approved_followed_and_cancelled(
    app_client: TestClient, ctx: Context
) -> None:
    w = demo(ctx)
    _untrust(ctx)  # so the new job waits for 石桥镇's approval
    as_user(app_client, AI)
    listing = app_client.get("/compute/jobs").text
    new = f"/compute/jobs/new?contract={w['contract']}"
    assert f'href="{new}"' in listing and "村级农资需求统计与下月预测" in listing
    form = app_client.get(new).text
    assert w["number"] in form and "村级农资需求统计与下月预测" in form
    assert "&#34;months&#34;: 3" in form and "&#34;by_month&#34;: false" in form  # defaults
    before = count(ctx, ComputeJob)
    fields = {"contract": w["contract"], "algorithm": w["filed"], "datasets": [w["dataset"]]}
    bad_json = post(app_client, "/compute/jobs/new", fields | {"params": '{"months": '})
    assert bad_json.status_code == 422 and "不是有效的 JSON" in bad_json.text
    assert "{&#34;months&#34;: " in bad_json.text  # what was typed is kept
    off_schema = post(app_client, "/compute/jobs/new", fields | {"params": '{"months": 20}'})
    assert off_schema.status_code == 422 and "months" in off_schema.text
    assert count(ctx, ComputeJob) == before
    made = post(app_client, "/compute/jobs/new", fields | {"params": '{"months": 2}'})
    assert made.status_code == 303 and "done=compute.submitted" in made.headers["location"]
    job_id = urlsplit(made.headers["location"]).path.rsplit("/", 1)[1]
    job = job_of(ctx, job_id)
    assert job.status == "awaiting_approval" and job.params == {"months": 2}
    page = app_client.get(made.headers["location"]).text
    assert "计算任务已提交" in page and zh("job_state", "awaiting_approval") in page
    assert f'hx-get="/compute/jobs/{job_id}/status?shown=awaiting_approval"' in page
    assert 'hx-trigger="every 2s"' in page and "/approval" not in page  # not the consumer's
    # the job's page is the consumer's, its providers' and oversight's only
    for username, status in ((COOP, 404), (BUREAU, 404), (CAC, 200), (SHIQIAO, 200)):
        as_user(app_client, username)
        assert app_client.get(f"/compute/jobs/{job_id}").status_code == status, username
    # 石桥镇's reviewer approves it and trusts the hash; the page's poll sees the change
    page = app_client.get(f"/compute/jobs/{job_id}").text
    assert f'action="/compute/jobs/{job_id}/approval"' in page and 'name="trust"' in page
    refuse = post(app_client, f"/compute/jobs/{job_id}/approval", {"decision": "refuse"})
    assert error_of(refuse) and job_of(ctx, job_id).status == "awaiting_approval"
    approved = post(
        app_client,
        f"/compute/jobs/{job_id}/approval",
        {"decision": "approve", "trust": "yes", "reason": "已审阅代码"},
    )
    assert approved.status_code == 303 and job_of(ctx, job_id).status == "queued"
    assert count(ctx, TrustedAlgorithm) == 2  # the demo's withdrawn entry, and this one
    poll = f"/compute/jobs/{job_id}/status?shown=awaiting_approval"
    moved = app_client.get(poll, headers={"HX-Request": "true"})
    assert moved.headers.get("HX-Refresh") == "true"
    still = app_client.get(
        poll.replace("awaiting_approval", "queued"), headers={"HX-Request": "true"}
    )
    assert "HX-Refresh" not in still.headers and "<progress" in still.text
    # the submitter cancels it; a final state stops the polling
    as_user(app_client, AI)
    assert error_of(post(app_client, f"/compute/jobs/{w['jobs'][0]}/cancel", {}))  # it ended
    cancelled = post(app_client, f"/compute/jobs/{job_id}/cancel", {})
    assert cancelled.status_code == 303 and job_of(ctx, job_id).status == "cancelled"
    final = app_client.get(cancelled.headers["location"]).text
    assert "计算任务已取消" in final and 'hx-trigger="every 2s"' not in final
    assert "/cancel" not in final
    # others may not submit under the contract: the form says why and shows no button
    as_user(app_client, SHIQIAO)
    refused = app_client.get(new)
    assert refused.status_code == 200 and 'role="alert"' in refused.text
    assert 'action="/compute/jobs/new"' not in refused.text
    as_user(app_client, COOP)
    assert app_client.get(new).status_code == 404


def _plant(ctx: Context, job_id: str, status: str) -> list[dict[str, Any]]:
    """The job as the worker leaves it after a run (the sandbox itself is tested in
    test_jobs.py): inputs, runtime, outcome, a check report, a log with a payload in it and
    one stored output; ``status`` held or released."""
    temp = ctx.store.temp_path(".json")
    temp.write_text('{"mape": 0.12}', encoding="utf-8")
    size = temp.stat().st_size
    digest = ctx.store.put(temp, suffix=".json")
    outputs = [
        {
            "name": "metrics",
            "kind": "metrics",
            "sha256": digest,
            "bytes": size,
            "rows": None,
            "suffix": ".json",
        }
    ]
    message = {"zh": "2 个单元格的记录数少于 10", "en": "2 cells rest on fewer than 10 records"}
    with ctx.db.transaction() as session:
        job = session.get(ComputeJob, job_id)
        assert job is not None
        job.status = status
        job.status_reason = {"zh": "等待提供方审核员", "en": "held for the provider's reviewer"}
        job.inputs = [
            {
                "dataset": job.datasets[0],
                "version": 1,
                "source_sha256": "ab" * 32,
                "rows": 301,
                "columns": ["村", "品类"],
                "k": None,
            }
        ]
        job.runtime = {
            "name": "python3.11-scientific",
            "fingerprint": "cd" * 32,
            "packages": {"numpy": "2.1.0"},
        }
        job.outcome = {
            "status": "ok",
            "exit_code": 0,
            "reason": "",
            "seconds": 1.25,
            "output_bytes": size,
            "log_dropped_bytes": 0,
        }
        job.check = {
            "verdict": "review",
            "findings": [
                {
                    "check": "min_cell",
                    "verdict": "review",
                    "output": "metrics",
                    "message": message,
                    "cells": 2,
                }
            ],
            "outputs": [{"name": "metrics", "kind": "metrics", "verdict": "review"}],
            "log": [],
        }
        job.log = f"开始运行\n{PAYLOAD}\n完成"
        job.outputs = outputs
    return outputs


def test_held_outputs_are_reviewed_and_released_ones_downloaded(
    app_client: TestClient, ctx: Context
) -> None:
    w = demo(ctx)
    job_id = w["jobs"][-1]  # the demo's job by calendar month: held for a person
    _plant(ctx, job_id, "held")
    as_user(app_client, AI)
    page = app_client.get(f"/compute/jobs/{job_id}").text
    assert f"{job_id}/review" not in page and "/outputs/metrics" not in page  # not released yet
    assert "2 个单元格的记录数少于 10" in page and zh("check_verdict", "review") in page
    assert zh("output_check", "min_cell") in page and zh("sandbox_status", "ok") in page
    assert "cd" * 32 in page and "numpy 2.1.0" in page and "1.25" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "<pre><samp>开始运行" in page  # the log is shown as text, in a <pre>
    for part in ("provider", "operator", "algorithm_provider", "consumer"):
        assert zh("responsibility", part) in page  # who answers for what, in words
    assert w["number"] in page
    as_user(app_client, SHIQIAO)
    review = f"/compute/jobs/{job_id}/review"
    page = app_client.get(f"/compute/jobs/{job_id}").text
    assert f'action="{review}"' in page
    assert error_of(post(app_client, review, {"decision": "release", "reason": ""}))
    assert job_of(ctx, job_id).status == "held"
    released = post(app_client, review, {"decision": "release", "reason": "汇总层级可接受"})
    assert released.status_code == 303 and job_of(ctx, job_id).status == "released"
    after = app_client.get(released.headers["location"]).text
    assert "汇总层级可接受" in after and f'action="{review}"' not in after
    assert "/outputs/metrics" not in after  # the provider does not download
    as_user(app_client, AI)
    page = app_client.get(f"/compute/jobs/{job_id}").text
    link = f"/api/v1/compute/jobs/{job_id}/outputs/metrics"
    assert f'href="{link}"' in page
    got = app_client.get(link)  # the console's session is enough, as for extracts
    assert got.status_code == 200 and got.content == b'{"mape": 0.12}'
    assert 'hx-trigger="every 2s"' not in page  # released is final: no polling


def test_the_inbox_says_what_waits_for_each_party(app_client: TestClient, ctx: Context) -> None:
    w = demo(ctx)
    _plant(ctx, w["jobs"][-1], "held")
    for username, wanted in (
        (CAC, w["waiting_name"]),
        (SHIQIAO, "的输出已暂扣"),
    ):
        who = actor(ctx, username)
        with ctx.db.transaction() as session:
            found = inbox.collect(session, who)
            waiting = [localise(i.text, "zh-CN") for i in found["waiting"]]
            assert inbox.count(session, who) == len(found["waiting"]) + len(found["watch"])
        assert any(wanted in t for t in waiting), (username, waiting)
    as_user(app_client, CAC)
    page = app_client.get("/inbox").text
    assert f'href="/algorithms/{w["waiting"]}#filing-{w["filing"]}"' in page
    assert re.search(r"提交了算法“乡镇农资配送调度（试运行）”的", page)
    # the consumer reads how its jobs ended
    with ctx.db.transaction() as session:
        news = inbox.collect(session, actor(ctx, AI))["news"]
    assert any(i.href == f"/compute/jobs/{w['jobs'][0]}" for i in news)


# --- in a browser: the job page follows its job ----------------------------------------------


def _move(ctx: Context, job_id: str, status: str, progress: float) -> None:
    with ctx.db.transaction() as session:
        job = session.get(ComputeJob, job_id)
        assert job is not None
        job.status, job.progress, job.stage = status, progress, "running"


def test_the_job_page_follows_its_job_in_a_browser(
    server: str,
    ctx: Context,
    browser: Browser,
) -> None:
    from tests.console.test_browser import log_in
    from yaosu.compute import jobs
    from yaosu.compute.schemas import JobCreate

    w = demo(ctx)
    job = jobs.run_submit(
        ctx,
        actor(ctx, AI),
        data=JobCreate(contract_id=w["contract"], algorithm_id=w["filed"]),
    )  # the demo's trusted list approves it at once: queued, and no worker takes it
    context = browser.new_context(base_url=server, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, AI)
    page.goto(f"/compute/jobs/{job.id}")
    state = page.locator("#job-status .badge")
    expect(state).to_have_text(label("job_state", "queued").render("zh-CN"))
    _move(ctx, job.id, "running", 0.5)  # the poll sees the change and reloads the page
    expect(state).to_have_text(label("job_state", "running").render("zh-CN"))
    expect(page.locator("#job-status progress")).to_have_attribute("value", "0.5")
    _move(ctx, job.id, "released", 1.0)
    expect(state).to_have_text(label("job_state", "released").render("zh-CN"))
    expect(page.locator("#job-status")).not_to_have_attribute("hx-get", re.compile("."))
    assert errors == []
    context.close()


def test_the_contract_and_dataset_pages_lead_to_compute(
    app_client: TestClient, ctx: Context
) -> None:
    """A contract that permits compute and names its algorithm offers a new job; one that does
    not, offers none; the dataset's holder finds its trusted algorithms from the dataset."""
    from yaosu.authorization.models import Contract

    with ctx.db.transaction() as session:
        named = session.scalars(select(Contract).where(Contract.algorithm.is_not(None))).first()
        plain = session.scalars(
            select(Contract).where(
                Contract.algorithm.is_(None), Contract.consumer_org_id == named.consumer_org_id
            )
        ).first()
        assert named is not None
    login(app_client, "ai-analyst")
    page = app_client.get(f"/contracts/{named.id}").text
    assert f'href="/compute/jobs/new?contract={named.id}"' in page
    if plain is not None:
        assert "/compute/jobs/new?contract=" not in app_client.get(f"/contracts/{plain.id}").text
    data = dataset_id(ctx, "石桥镇人民政府2023")
    assert f'href="/datasets/{data}/algorithms"' not in app_client.get(f"/datasets/{data}").text
    app_client.cookies.clear()
    login(app_client, "shiqiao-reviewer")
    assert f'href="/datasets/{data}/algorithms"' in app_client.get(f"/datasets/{data}").text
