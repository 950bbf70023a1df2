"""``yaosu.Client`` against a real server on a real socket."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import yaosu
from tests.conftest import dataset_id, token_for
from yaosu import Client, YaosuClientError
from yaosu.context import Context


def test_public_api_is_exactly_all() -> None:
    import types

    public = {
        name
        for name, value in vars(yaosu).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert set(yaosu.__all__) == public | {"__version__"}
    assert yaosu.__all__ == ["Client", "YaosuClientError", "__version__"]


def test_client_browses_creates_ingests_and_reads(
    server: str, ctx: Context, tmp_path: Path
) -> None:
    with Client(server, token=token_for(ctx, "bureau-analyst")) as client:
        assert client.me()["org"]["name"] == "江州市数据局"
        found = client.datasets(q="农产品")
        assert [d["title"] for d in found] == ["2024年各乡镇农产品销售数据"]
        ds = client.create_dataset(
            title="乡镇人口", theme="人口", openness="open", keywords=["人口"]
        )
        path = tmp_path / "people.csv"
        path.write_bytes(
            ("乡镇,人口\n" + "".join(f"镇{i},{i * 10}\n" for i in range(5000))).encode("gbk")
        )
        seen: list[tuple[int, int]] = []
        version = client.ingest(
            path, dataset=ds["id"], progress=lambda done, total: seen.append((done, total))
        )
        assert version["number"] == 1 and version["row_count"] == 5000
        assert seen and seen[-1][0] == seen[-1][1] == path.stat().st_size
        table = client.read(ds["id"])
        assert isinstance(table, pa.Table) and table.num_rows == 5000
        frame = client.read_pandas(ds["id"], version=1)
        assert isinstance(frame, pd.DataFrame) and frame["人口"].sum() == sum(
            i * 10 for i in range(5000)
        )
        assert (
            client.update_dataset(ds["id"], description="按乡镇汇总")["description"] == "按乡镇汇总"
        )
        assert [v["number"] for v in client.versions(ds["id"])] == [1]
        assert any(
            e["action"] == "dataset.version.create" for e in client.audit(object_id=ds["id"])
        )
        listed = client.catalog()["dcat:dataset"]  # and the market's listed products
        in_catalog = {e["@id"].rsplit("/", 1)[1] for e in listed if "/api/v1/datasets/" in e["@id"]}
        # every dataset the client may see, the one just made among them
        assert (
            in_catalog == {d["id"] for d in client.datasets(limit=100)} and ds["id"] in in_catalog
        )


def test_client_pages_through_everything(server: str, ctx: Context) -> None:
    with Client(server, token=token_for(ctx, "bureau-admin")) as client:
        before = len(client.datasets(limit=200))
        for i in range(7):
            client.create_dataset(title=f"分页{i}", theme="测试")
        assert len(client.datasets(limit=2)) == before + 7  # two at a time, all of them


def test_client_errors_carry_code_and_message(server: str, ctx: Context) -> None:
    with Client(server, token=token_for(ctx, "coop-manager"), lang="en") as client:
        residents = dataset_id(ctx, "参保人员")
        with pytest.raises(YaosuClientError) as caught:
            client.read(residents)
        assert caught.value.status == 403 and caught.value.code == "FORBIDDEN"
        assert "contract" in caught.value.message
    with Client(server, token="ys_wrong") as client, pytest.raises(YaosuClientError) as caught:
        client.me()
    assert caught.value.code == "INVALID_TOKEN" and "令牌" in caught.value.message


@pytest.fixture
def background(ctx: Context) -> Context:
    ctx.settings = ctx.settings.model_copy(update={"background_rows": 100})
    return ctx


def test_client_waits_for_background_tasks(background: Context, server: str) -> None:
    ctx = background
    residents = dataset_id(ctx, "参保人员")
    with Client(server, token=token_for(ctx, "bureau-analyst")) as client:
        screen = client.screen(residents, 1, full=True)  # 202 then the task, transparently
        assert screen["mode"] == "full" and screen["personal"] is True
        derivation = client.deidentify(residents, 1, {"columns": {"姓名": {"op": "drop"}}})
        assert derivation["result_version"] == 2
        assert {c["name"]: c["after"] for c in derivation["columns"]}["姓名"] is None
        with pytest.raises(YaosuClientError) as bad:
            client.deidentify(residents, 1, {"columns": {"无此列": {"op": "drop"}}})
        assert bad.value.status == 422


def test_client_buys_from_the_market(server: str, ctx: Context) -> None:
    """A data user finds a product, quotes it, orders it, and follows the order; the seller
    sees the sale; the buyer reads the demo's transaction certificate and its statements."""
    with Client(server, token=token_for(ctx, "coop-manager")) as buyer:
        listed = buyer.products(status="listed", pricing_class="capped")
        service = next(p for p in listed if p["title"] == "农产品销售统计查询服务")
        price = buyer.quote(service["id"], purpose="industry_development", quantity=1500)
        assert price["amount_fen"] == 65_000 and price["amount"] == "¥650.00"
        made = buyer.order(
            service["id"],
            purpose="industry_development",
            quantity=1500,
            justification="合作社测算各乡镇农产品销量，安排收购计划。",
        )
        assert made["status"] == "contracting" and made["amount_fen"] == 65_000
        assert buyer.order_status(made["id"])["request_id"] == made["request_id"]
        assert made["id"] in {o["id"] for o in buyer.orders(side="buying")}
        with pytest.raises(YaosuClientError) as refused:
            buyer.accept_order(made["id"])  # not delivered yet
        assert refused.value.status == 409 and refused.value.code == "NOT_NOW"
        assert buyer.cancel_order(made["id"], "计划调整")["status"] == "cancelled"
        settled = next(o for o in buyer.orders(status="accepted") if o["certificate"])
        cert = buyer.certificate(settled["certificate"])
        assert cert["document"]["order"] == settled["id"] and cert["log"] is not None
        assert buyer.statements()
    with Client(server, token=token_for(ctx, "ai-analyst")) as seller:
        assert made["id"] in {o["id"] for o in seller.orders(side="selling")}


def test_client_follows_the_revenue_shares_and_the_lineage(server: str, ctx: Context) -> None:
    """A contributor (石桥镇) reads its shares and its month's statement with the valuation's
    evidence; the shares' sale is visible in the product's lineage; an objection outside the
    window is refused with the error's code."""
    with Client(server, token=token_for(ctx, "shiqiao-admin")) as township:
        mine = township.shares()
        assert mine and {s["kind"] for s in mine} >= {"contributor", "royalty"}
        paid = next(s for s in mine if s["status"] == "paid")
        when = paid["created_at"][:7]
        statement = township.share_statement(
            paid["org_id"], year=int(when[:4]), month=int(when[5:7])
        )
        assert paid["id"] in {s["id"] for s in statement["lines"]}
        valued = statement["valuations"][paid["evidence"]["valuation"]]
        assert valued["method"] == "shapley" and len(valued["values"]) == 4
        with pytest.raises(YaosuClientError) as late:
            township.object_to_share(paid["id"], "我方数据贡献被低估，请重新计算。")
        assert late.value.status == 409 and late.value.code == "NOT_NOW"
        graph = township.lineage(paid["product_id"])
        assert any(d.get("org_name") == "石桥镇人民政府" for d in graph["datasets"])
        preview = township.sharing_preview(paid["product_id"], seller_fen=10_000)
        assert sum(line["amount_fen"] for line in preview["lines"]) == 10_000
        assert township.lineage_events()
