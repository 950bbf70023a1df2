"""The catalog as DCAT 3 JSON-LD (https://www.w3.org/TR/vocab-dcat-3/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization.policy import visible
from yaosu.catalog import service
from yaosu.catalog.labels import OPENNESS
from yaosu.catalog.models import Dataset, DatasetVersion
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import label

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "yaosu": "https://yaosu.dev/ns#",
}

# EU Publications Office vocabularies, the ones DCAT-AP uses.
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCY_CODES = {
    "continuous": "CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "annual": "ANNUAL",
    "irregular": "IRREG",
}
ACCESS_RIGHTS = "http://publications.europa.eu/resource/authority/access-right/"
ACCESS_CODES = {"open": "PUBLIC", "conditional": "RESTRICTED", "closed": "NON_PUBLIC"}
PARQUET = "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"


def _date(value: Any) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def export(session: Session, actor: Actor, *, base_url: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    stmt = (
        select(Dataset)
        .where(visible(actor, "dataset.view", service.ROWS))
        .order_by(Dataset.created_at, Dataset.id)
    )
    datasets = list(session.scalars(stmt))
    names = accounts.org_names(session, ids={d.owner_org_id for d in datasets})
    latest = {
        (v.dataset_id, v.number): v
        for v in session.scalars(
            select(DatasetVersion).where(DatasetVersion.dataset_id.in_([d.id for d in datasets]))
        )
    }
    entries = []
    for ds in datasets:
        node: dict[str, Any] = {
            "@id": f"{base}/api/v1/datasets/{ds.id}",
            "@type": "dcat:Dataset",
            "dct:identifier": ds.id,
            "dct:title": {"@value": ds.title, "@language": "zh"},
            "dct:description": {"@value": ds.description, "@language": "zh"},
            "dcat:keyword": [{"@value": k, "@language": "zh"} for k in ds.keywords],
            "dcat:theme": {"@id": f"{base}/themes/{quote(ds.theme)}", "dct:title": ds.theme},
            "dct:license": {"@id": _licence_uri(ds.licence)},
            "dct:accrualPeriodicity": {"@id": FREQUENCY + FREQUENCY_CODES[ds.update_frequency]},
            "dct:accessRights": {
                "@id": ACCESS_RIGHTS + ACCESS_CODES[ds.openness],
                "dct:title": [
                    {"@value": label(OPENNESS, ds.openness).render(lang), "@language": tag}
                    for lang, tag in (("zh-CN", "zh"), ("en", "en"))
                ],
            },
            "dct:issued": _date(ds.created_at),
            "dct:modified": _date(ds.updated_at),
            "dct:publisher": {
                "@id": f"{base}/api/v1/orgs/{ds.owner_org_id}",
                "@type": "foaf:Organization",
                "foaf:name": names.get(ds.owner_org_id, ""),
            },
            "yaosu:openness": ds.openness,
        }
        version = latest.get((ds.id, ds.latest_version))
        if version is not None:
            node["dcat:version"] = str(version.number)
            node["dcat:distribution"] = {
                "@id": f"{base}/api/v1/datasets/{ds.id}/versions/{version.number}",
                "@type": "dcat:Distribution",
                "dcat:accessURL": {
                    "@id": f"{base}/api/v1/datasets/{ds.id}/versions/{version.number}/data"
                },
                "dcat:mediaType": {"@id": PARQUET},
                "dcat:byteSize": {
                    "@value": str(version.size_bytes),
                    "@type": "xsd:nonNegativeInteger",
                },
                "dct:issued": _date(version.created_at),
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                    "spdx:checksumValue": version.sha256,
                },
            }
        entries.append(node)
    services: list[dict[str, Any]] = []
    for more in service.DCAT_ENTRIES:  # the market's listed products, with their offers
        for node in more(session, actor, base=base):
            (services if node["@type"] == "dcat:DataService" else entries).append(node)
    return {
        "@context": CONTEXT,
        "@id": f"{base}/api/v1/catalog",
        "@type": "dcat:Catalog",
        "dct:title": {"@value": "要素数据目录", "@language": "zh"},
        "dct:description": {"@value": "Yaosu trusted data exchange catalog", "@language": "en"},
        "dcat:dataset": entries,
        **({"dcat:service": services} if services else {}),
    }


def _licence_uri(licence: str) -> str:
    if licence.startswith(("http://", "https://")):
        return licence
    return f"https://spdx.org/licenses/{licence}"
