"""The catalog exports as DCAT 3 JSON-LD that an RDF library reads."""

from __future__ import annotations

import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import DCAT, DCTERMS, RDF
from sqlalchemy import select

from tests.conftest import auth
from yaosu.catalog.models import Dataset
from yaosu.context import Context

SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")


def shown(ctx: Context) -> set[str]:
    """The titles of the datasets anyone may find: all but closed ones."""
    with ctx.db.transaction() as session:
        return set(session.scalars(select(Dataset.title).where(Dataset.openness != "closed")))


def test_dcat_jsonld_parses_and_holds_the_catalog(app_client: TestClient, ctx: Context) -> None:
    r = app_client.get("/api/v1/catalog")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    graph = rdflib.Graph().parse(data=r.text, format="json-ld")
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    # the registered datasets (the market's listed products stand beside them: tests/market)
    datasets = [d for d in graph.objects(catalogs[0], DCAT.dataset) if "/datasets/" in str(d)]
    titles = {str(graph.value(d, DCTERMS.title)) for d in datasets}
    assert titles == shown(ctx) and "江州市重点企业月度用电量" not in titles  # closed: not listed
    assert {"2024年各乡镇农产品销售数据", "江州市城乡居民社会保险参保人员信息"} <= titles
    farm = next(d for d in datasets if "农产品" in str(graph.value(d, DCTERMS.title)))
    assert graph.value(farm, DCTERMS.title).language == "zh"
    assert {str(k) for k in graph.objects(farm, DCAT.keyword)} >= {"农产品", "乡村振兴"}
    assert str(graph.value(farm, DCTERMS.accessRights)).endswith("/access-right/PUBLIC")
    assert str(graph.value(farm, DCTERMS.accrualPeriodicity)).endswith("/frequency/MONTHLY")
    publisher = graph.value(farm, DCTERMS.publisher)
    assert (
        str(graph.value(publisher, rdflib.URIRef("http://xmlns.com/foaf/0.1/name")))
        == "江州市数据局"
    )
    dist = graph.value(farm, DCAT.distribution)
    assert (dist, RDF.type, DCAT.Distribution) in graph
    assert int(graph.value(dist, DCAT.byteSize)) > 0
    checksum = graph.value(dist, SPDX.checksum)
    assert len(str(graph.value(checksum, SPDX.checksumValue))) == 64
    assert str(graph.value(dist, DCAT.accessURL)).endswith("/versions/1/data")


def test_the_owner_and_regulators_export_closed_entries_too(
    app_client: TestClient, ctx: Context
) -> None:
    def datasets(user: str) -> list[dict[str, object]]:
        body = app_client.get("/api/v1/catalog", headers=auth(ctx, user)).json()
        return [e for e in body["dcat:dataset"] if "/api/v1/datasets/" in str(e["@id"])]

    with ctx.db.transaction() as session:
        every = len(list(session.scalars(select(Dataset.id))))
    # the bureau owns the closed one; a regulator sees everything; the coop, what is not closed
    for user in ("bureau-admin", "cac-inspector"):
        assert len(datasets(user)) == every
    assert len(datasets("coop-manager")) == len(shown(ctx)) == every - 1
