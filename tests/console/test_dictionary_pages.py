"""The data dictionary in the console: the provider writes it on its own page, everyone who
sees the dataset reads it, a refused entry is said on the form with what was typed kept, and
the query page uses it (public values, units, bounds and a first query worth running)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import dataset_id, demo_contract_id
from tests.console.test_access_pages import as_user
from tests.console.test_pages import csrf
from yaosu.context import Context


def _fields(page: str) -> dict[str, str]:
    """The form's columns by index: column_N -> its name."""
    return dict(re.findall(r'name="(column_\d+)" value="([^"]+)"', page))


def test_the_provider_edits_the_dictionary_and_everyone_reads_it(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    as_user(app_client, "bureau-admin")
    dataset = app_client.get(f"/datasets/{residents}").text
    assert 'id="dictionary"' in dataset and "户籍所在乡镇" in dataset
    assert f"/datasets/{residents}/dictionary" in dataset
    page = app_client.get(f"/datasets/{residents}/dictionary")
    assert page.status_code == 200
    fields = _fields(page.text)
    index = {name: key.split("_")[1] for key, name in fields.items()}
    # A personal column offers no public values; a category column does.
    assert f'name="domain_{index["所属乡镇"]}"' in page.text
    assert f'name="domain_{index["姓名"]}"' not in page.text
    token = csrf(app_client, f"/datasets/{residents}/dictionary")
    form = {"csrf_token": token, **fields}
    form[f"description_{index['备注']}"] = "经办人备注（已复核）"
    form[f"domain_{index['参保状态']}"] = "正常参保、暂停缴费、终止参保、待审核"
    saved = app_client.post(f"/datasets/{residents}/dictionary", data=form, follow_redirects=False)
    assert saved.status_code == 303
    as_user(app_client, "coop-manager")
    shown = app_client.get(f"/datasets/{residents}").text
    assert "经办人备注（已复核）" in shown and "待审核" in shown
    assert f"/datasets/{residents}/dictionary" not in shown  # no edit link for the consumer
    assert app_client.get(f"/datasets/{residents}/dictionary").status_code in (403, 404)


def test_a_refused_entry_is_said_on_the_form_and_keeps_what_was_typed(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    as_user(app_client, "bureau-admin")
    page = app_client.get(f"/datasets/{residents}/dictionary").text
    fields = _fields(page)
    index = {name: key.split("_")[1] for key, name in fields.items()}
    token = csrf(app_client, f"/datasets/{residents}/dictionary")
    form = {"csrf_token": token, **fields}
    form[f"description_{index['备注']}"] = "新的说明"
    fee = index["缴费档次(元)"]
    form[f"lower_{fee}"], form[f"upper_{fee}"] = "5000", "100"
    refused = app_client.post(f"/datasets/{residents}/dictionary", data=form)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert "下限小于上限" in refused.text and "新的说明" in refused.text
    assert "新的说明" not in app_client.get(f"/datasets/{residents}").text  # nothing written


def test_the_query_page_uses_the_dictionary(app_client: TestClient, ctx: Context) -> None:
    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)
    as_user(app_client, "coop-manager")
    page = app_client.get(f"/query?contract={contract}").text
    # The first query groups by a column with public values and averages one with bounds.
    assert "GROUP BY &#34;所属乡镇&#34;" in page and "AVG(&#34;缴费档次(元)&#34;)" in page
    assert "户籍所在乡镇" in page and "10 个公开取值" in page and "元/年" in page
    token = csrf(app_client, f"/query?contract={contract}")
    residents = dataset_id(ctx, "参保人员")
    estimate = app_client.post(
        "/query/estimate",
        data={
            "csrf_token": token,
            "contract": contract,
            "sql": f"SELECT 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 1",
            "epsilon": "0.1",
            "target": "10",
        },
        headers={"X-CSRF-Token": token},
    )
    assert estimate.status_code == 200
    assert "共 10 个" in estimate.text and "±30" in estimate.text
    assert "data-set-epsilon=" in estimate.text


def test_open_data_downloads_as_csv_excel_and_parquet(app_client: TestClient, ctx: Context) -> None:
    import io

    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    farm = dataset_id(ctx, "农产品")
    page = app_client.get(f"/datasets/{farm}").text  # open data: anyone reads it
    base = f"/api/v1/datasets/{farm}/versions/1/data"
    for fmt in ("csv", "xlsx", "parquet"):
        assert f"{base}?format={fmt}" in page
    got = app_client.get(f"{base}?format=csv")
    assert got.status_code == 200 and got.content.startswith("\ufeff".encode())
    lines = got.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("乡镇,村,产品") and len(lines) == 6001
    book = load_workbook(io.BytesIO(app_client.get(f"{base}?format=xlsx").content))
    assert book.active.max_row == 6001 and book.active.cell(1, 1).value == "乡镇"
    table = pq.read_table(io.BytesIO(app_client.get(f"{base}?format=parquet").content))
    assert table.num_rows == 6000
    assert app_client.get(f"{base}?format=doc").status_code == 422
