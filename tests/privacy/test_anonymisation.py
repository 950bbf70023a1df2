"""De-identified is still personal information (PIPL Art. 73); only a derivation that meets a
stated anonymisation standard (GB/T 37964 / GB/T 35273: no direct identifiers or pseudonyms,
k-anonymity and l-diversity at the configured levels) is not. Issue 11, section 3."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from tests.authorization.test_requests import ask, org_id
from tests.conftest import auth, dataset_id
from yaosu.context import Context
from yaosu.privacy import grading
from yaosu.privacy.anonymity import assess
from yaosu.privacy.deidentify import Recipe
from yaosu.privacy.scan import Screen as Scan
from yaosu.privacy.scan import scan_table

# Pseudonyms for names and resident IDs, the rest of the direct identifiers dropped: the
# recipe the issue describes. The re-screen finds nothing it can recognise.
PSEUDONYMISING = {
    "columns": {
        "姓名": {"op": "pseudonymise"},
        "身份证号": {"op": "pseudonymise"},
        "手机号": {"op": "drop"},
        "出生日期": {"op": "generalise", "to": "year"},
        "备注": {"op": "drop"},
    }
}
# No identifier or pseudonym left; 性别 and 所属乡镇 are the quasi-identifiers (about a hundred
# residents in each group), each group holds several 参保类型, 参保状态 and 缴费档次.
ANONYMISING = {
    "columns": {
        "姓名": {"op": "drop"},
        "身份证号": {"op": "drop"},
        "手机号": {"op": "drop"},
        "出生日期": {"op": "drop"},
        "备注": {"op": "drop"},
    },
    "k_anonymity": {"quasi_identifiers": ["性别", "所属乡镇"], "k": 5},
}


def derive(app_client: TestClient, ctx: Context, recipe: dict[str, Any], source: int = 1) -> Any:
    residents = dataset_id(ctx, "参保人员")
    made = app_client.post(
        f"/api/v1/datasets/{residents}/versions/{source}/deidentify",
        json=recipe,
        headers=auth(ctx, "bureau-admin"),
    )
    assert made.status_code == 201, made.text
    return made.json()


def confirm(app_client: TestClient, ctx: Context, screen_id: str, **body: Any) -> Any:
    return app_client.post(
        f"/api/v1/screens/{screen_id}/review", json=body, headers=auth(ctx, "bureau-reviewer")
    )


def reviewers_of_a_request(app_client: TestClient, ctx: Context) -> dict[str, str]:
    made = app_client.post("/api/v1/requests", json=ask(ctx), headers=auth(ctx, "ai-analyst"))
    assert made.status_code == 201, made.text
    return {r["reviewer_org_id"]: r["rule"] for r in made.json()["reviews"]}


def test_a_pseudonymised_version_stays_personal_and_its_requests_go_to_the_cac(
    app_client: TestClient, ctx: Context
) -> None:
    body = derive(app_client, ctx, PSEUDONYMISING)
    screen = body["screen"]
    assert screen["personal"] is True  # was: "no personal information found"
    assert screen["findings"]["personal_information"] is True
    verdict = screen["findings"]["deidentification"]
    assert verdict["status"] == "deidentified"
    assert verdict["label_zh"] == "去标识化（仍属个人信息）"
    assert verdict["label_en"] == "de-identified (still personal information)"
    assert verdict["pseudonymised"] == ["姓名", "身份证号"]
    assert set(verdict["residual_identifiers"]) >= {"姓名", "身份证号"}
    assert "identity_document" in screen["sensitive"]  # pseudonymised IDs are still IDs
    assert screen["grade_factors"]["personal_rows"] == body["rows_in"] - body["suppressed"]
    assert confirm(app_client, ctx, screen["id"]).status_code == 200
    rules = reviewers_of_a_request(app_client, ctx)
    assert rules == {org_id(ctx, "江州市数据局"): "provider", org_id(ctx, "网信"): "personal"}


def test_the_console_and_the_cli_say_which(app_client: TestClient, ctx: Context) -> None:
    from tests.console.test_pages import login
    from tests.test_cli import run

    made = derive(app_client, ctx, PSEUDONYMISING)
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "bureau-admin")
    page = app_client.get(f"/datasets/{residents}/privacy").text
    assert "去标识化（仍属个人信息）" in page and "未发现个人信息" not in page
    english = app_client.get(f"/datasets/{residents}/privacy?lang=en").text
    assert "de-identified (still personal information)" in english
    report = app_client.get(f"/datasets/{residents}/privacy/derivations/{made['id']}").text
    assert "去标识化（仍属个人信息）" in report and "化名" in report
    out = run(ctx, "scan", "--dataset", residents)
    assert out.returncode == 0, out.stderr
    assert "去标识化（仍属个人信息）" in out.stdout
    assert "个人信息：是" in out.stdout


def test_the_preview_of_a_pseudonymising_recipe_says_personal_information_is_left(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    tried = app_client.post(
        f"/api/v1/datasets/{residents}/versions/1/deidentify/preview",
        json=PSEUDONYMISING,
        headers=auth(ctx, "bureau-admin"),
    )
    assert tried.status_code == 200, tried.text
    assert tried.json()["personal_information_left"] is True
    assert tried.json()["deidentification"]["status"] == "deidentified"


def test_a_later_screen_of_a_pseudonymised_version_keeps_the_verdict(
    app_client: TestClient, ctx: Context
) -> None:
    """A fresh (fast) screen of the derived version cannot be used to wash it clean."""
    body = derive(app_client, ctx, PSEUDONYMISING)
    residents = dataset_id(ctx, "参保人员")
    again = app_client.post(
        f"/api/v1/datasets/{residents}/versions/{body['result_version']}/screens",
        headers=auth(ctx, "bureau-analyst"),
    )
    assert again.status_code == 201, again.text
    assert again.json()["personal"] is True
    assert again.json()["findings"]["deidentification"]["status"] == "deidentified"
    assert confirm(app_client, ctx, again.json()["id"]).status_code == 200
    assert org_id(ctx, "网信") in reviewers_of_a_request(app_client, ctx)


def test_a_reviewer_cannot_declare_a_deidentified_version_free_of_personal_information(
    app_client: TestClient, ctx: Context
) -> None:
    screen = derive(app_client, ctx, PSEUDONYMISING)["screen"]
    refused = confirm(app_client, ctx, screen["id"], personal=False, note="已化名")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "DEIDENTIFIED_STILL_PERSONAL"
    assert "仍属个人信息" in error["message"] and "GB/T 37964" in error["message"]
    english = app_client.post(
        f"/api/v1/screens/{screen['id']}/review?lang=en",
        json={"personal": False, "note": "pseudonymised"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert "still personal information" in english.json()["error"]["message"]
    # nothing was written: the screen is still a proposal
    residents = dataset_id(ctx, "参保人员")
    listed = app_client.get(
        f"/api/v1/datasets/{residents}/screens", headers=auth(ctx, "bureau-admin")
    ).json()
    assert next(s for s in listed["items"] if s["id"] == screen["id"])["status"] == "proposed"


def test_a_version_meeting_k_and_l_without_identifiers_is_anonymised(
    app_client: TestClient, ctx: Context
) -> None:
    made = derive(app_client, ctx, ANONYMISING)
    screen = made["screen"]
    verdict = screen["findings"]["deidentification"]
    assert verdict["status"] == "anonymised", verdict["reasons"]
    assert screen["personal"] is False
    assert verdict["k_required"] == ctx.settings.anon_k and verdict["l_required"] == 2
    assert verdict["k"] >= ctx.settings.anon_k and verdict["l"] >= 2
    assert verdict["quasi_identifiers"] == ["性别", "所属乡镇"]
    assert verdict["label_zh"] == (
        f"匿名化（符合 GB/T 37964-2019、GB/T 35273-2020，k={verdict['k']}, l={verdict['l']}）"
    )
    assert "GB/T 37964-2019" in verdict["standard"] and "GB/T 35273-2020" in verdict["standard"]
    assert confirm(app_client, ctx, screen["id"]).status_code == 200
    assert reviewers_of_a_request(app_client, ctx) == {org_id(ctx, "江州市数据局"): "provider"}
    report = app_client.get(f"/api/v1/derivations/{made['id']}", headers=auth(ctx, "bureau-admin"))
    assert report.json()["anonymisation"]["label_zh"] == verdict["label_zh"]


@pytest.mark.parametrize(("recipe", "opens"), [(PSEUDONYMISING, False), (ANONYMISING, True)])
def test_only_an_anonymised_version_may_be_opened_to_everyone(
    app_client: TestClient, ctx: Context, recipe: dict[str, Any], opens: bool
) -> None:
    screen = derive(app_client, ctx, recipe)["screen"]
    assert confirm(app_client, ctx, screen["id"]).status_code == 200
    residents = dataset_id(ctx, "参保人员")
    opened = app_client.patch(
        f"/api/v1/datasets/{residents}",
        json={"openness": "open"},
        headers=auth(ctx, "bureau-admin"),
    )
    assert (opened.status_code == 200) is opens, opened.text
    anyone = app_client.get(f"/api/v1/datasets/{residents}/versions/2/preview")
    assert (anyone.status_code == 200) is opens


def test_the_levels_come_from_the_settings(app_client: TestClient, ctx: Context) -> None:
    """The same recipe is only de-identified when the platform asks for more than it gives."""
    ctx.settings.anon_k = 500
    screen = derive(app_client, ctx, ANONYMISING)["screen"]
    verdict = screen["findings"]["deidentification"]
    assert verdict["status"] == "deidentified" and verdict["k_required"] == 500
    assert screen["personal"] is True
    assert any("k=500" in r["zh"] for r in verdict["reasons"])


def test_a_derivation_of_a_pseudonymised_version_inherits_its_pseudonyms(
    app_client: TestClient, ctx: Context
) -> None:
    """v3 from v2 keeps v2's pseudonyms without naming them: they are still found."""
    first = derive(app_client, ctx, PSEUDONYMISING)
    keeps = derive(
        app_client,
        ctx,
        {"columns": {"出生日期": {"op": "drop"}}, "k_anonymity": {}},
        source=first["result_version"],
    )
    verdict = keeps["screen"]["findings"]["deidentification"]
    assert verdict["status"] == "deidentified" and verdict["k"] == 1
    assert {"姓名", "身份证号"} <= set(verdict["quasi_identifiers"])
    clean = derive(
        app_client,
        ctx,
        {
            "columns": {
                "姓名": {"op": "drop"},
                "身份证号": {"op": "drop"},
                "出生日期": {"op": "drop"},
            }
        },
        source=first["result_version"],
    )
    assert clean["screen"]["findings"]["deidentification"]["status"] == "anonymised"


# --- the standard, case by case, on small tables (no database) ------------------------------

KEY = b"k" * 32


def residents(n: int = 40) -> pa.Table:
    towns = ["城关镇", "石桥镇"]
    return pa.table(
        {
            "姓名": [f"张{'伟芳娜敏'[i % 4]}{i}" for i in range(n)],
            "手机号": [f"138{i:08d}" for i in range(n)],
            "所属乡镇": [towns[i % 2] for i in range(n)],
            "年龄": [30 + (i % 4) for i in range(n)],
            "参保状态": ["正常" if (i // 4) % 2 else "暂停" for i in range(n)],
        }
    )


def judge(doc: dict[str, Any], table: pa.Table | None = None, k: int = 5, ell: int = 2) -> Any:
    from yaosu.privacy.deidentify import apply

    table = table if table is not None else residents()
    source: Scan = scan_table(table)
    identifying = {c.column: [] for c in source.columns if any(e.personal for e in c.entities)}
    result = apply(table, Recipe.parse(doc, table.column_names), key=KEY).table
    return assess(
        result,
        Recipe.parse(doc, table.column_names),
        scan_table(result),
        source_identifying=identifying,
        k_required=k,
        l_required=ell,
    )


def test_pseudonyms_of_a_name_column_alone_are_not_anonymisation() -> None:
    verdict = judge({"columns": {"姓名": {"op": "pseudonymise"}, "手机号": {"op": "drop"}}})
    assert not verdict.anonymised and verdict.pseudonymised == ["姓名"]
    assert any("化名" in r["zh"] for r in verdict.reasons)
    assert verdict.label_zh == "去标识化（仍属个人信息）"


def test_a_direct_identifier_left_in_place_is_named() -> None:
    verdict = judge({"columns": {"姓名": {"op": "drop"}}})
    assert not verdict.anonymised and "手机号" in verdict.direct_identifiers
    assert "手机号" in verdict.residual_identifiers


def test_k_met_but_l_not() -> None:
    """Every (town, age) group has ten people, but within a group they all share one status."""
    table = residents().set_column(4, "参保状态", pa.array(["正常", "正常", "暂停", "暂停"] * 10))
    doc = {"columns": {"姓名": {"op": "drop"}, "手机号": {"op": "drop"}}}
    verdict = judge(doc, table)
    assert verdict.k == 10 and verdict.l == 1 and not verdict.anonymised
    assert any("l=1" in r["zh"] for r in verdict.reasons)
    assert judge(doc, residents()).anonymised  # the same with mixed statuses


def test_l_is_measured_on_the_declared_sensitive_attribute() -> None:
    table = residents().append_column(
        "病种", pa.array(["高血压", "糖尿病", "无", "无", "哮喘"] * 8)
    )
    doc = {
        "columns": {"姓名": {"op": "drop"}, "手机号": {"op": "drop"}},
        "k_anonymity": {"quasi_identifiers": ["所属乡镇"], "k": 5, "sensitive": "病种", "l": 2},
    }
    verdict = judge(doc, table, ell=4)  # each (town, age) group holds four 病种 values
    assert verdict.sensitive_attributes == ["病种"] and verdict.l == 4
    assert verdict.anonymised and verdict.label_zh.endswith("k=10, l=4）")
    assert not judge(doc, table, ell=5).anonymised


def test_a_quasi_identifier_the_recipe_leaves_out_still_counts() -> None:
    """The recipe names only the town; the age (a quasi-identifier by its header) is kept."""
    table = residents().set_column(3, "年龄", pa.array(list(range(20, 60))))
    doc = {
        "columns": {"姓名": {"op": "drop"}, "手机号": {"op": "drop"}},
        "k_anonymity": {"quasi_identifiers": ["所属乡镇"], "k": 5},
    }
    verdict = judge(doc, table)
    assert verdict.quasi_identifiers == ["所属乡镇", "年龄"] and verdict.k == 1
    assert not verdict.anonymised


def test_k_below_the_level() -> None:
    doc = {"columns": {"姓名": {"op": "drop"}, "手机号": {"op": "drop"}}}
    assert judge(doc, k=11).k == 10 and not judge(doc, k=11).anonymised
    assert judge(doc, k=10).anonymised


@pytest.mark.parametrize("rows", [1_000_000, 2_000_000])
def test_a_large_deidentified_version_is_graded_as_personal_information_at_scale(
    rows: int,
) -> None:
    empty = Scan(rows, [])
    plain = grading.grade(empty, total_rows=rows, domain="社会保障", security_flags=[])
    kept = grading.grade(
        empty, total_rows=rows, domain="社会保障", security_flags=[], deidentified=[]
    )
    assert plain.grade == "general" and kept.grade == "important"
    assert kept.factors["personal_rows"] == rows


def test_nested_and_empty_columns_are_judged_not_crashed_on() -> None:
    table = residents().append_column("标签", pa.array([[i % 2] for i in range(40)]))
    table = table.append_column("空", pa.nulls(40)).append_column(
        "地址", pa.array([{"镇": "城关镇"}] * 40)
    )
    verdict = judge({"columns": {"姓名": {"op": "drop"}, "手机号": {"op": "drop"}}}, table)
    assert "地址" in verdict.quasi_identifiers and verdict.k == 10
