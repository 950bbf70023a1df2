"""A product's manifest: a Frictionless Data Package descriptor (resources, their Table
Schema, licence, hashes), validated with the ``frictionless`` library and then against the
product's lineage. Every problem is reported with where it is (``resources[0].schema``), in
the reader's language; frictionless's own note, in English, is kept beside it.

>>> errors = problems({"name": "farm", "resources": [{"name": "r", "path": "x",
...     "schema": {"fields": [{"name": "a", "type": "bogus"}]}}]}, hashes=set())
>>> [e.render("en") for e in errors][1:3]
['resources[0].schema.fields[0].type: field type "bogus" is not supported', 'resources[0].hash: give the SHA-256 of the data, as sha256:<64 hex digits>']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import frictionless
from frictionless import Package, Resource, Schema

from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Message, Sentences, _

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
REQUIRED = re.compile(r"'([^']+)' is a required property")
TYPE = re.compile(r"is not of type '(\w+)' at property '([^']+)'")
FIELD_TYPE = re.compile(r'field type "([^"]*)" is not supported')
# Kinds of Arrow column (catalog.profile.kind_of) -> Table Schema field types.
FIELD_TYPES = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "number",
    "timestamp": "datetime",
    "date": "date",
    "string": "string",
}


def _say(where: str, note: str) -> Message:
    """frictionless's note, in the reader's language where we know its shape."""
    if m := REQUIRED.search(note):
        return _("{where}: {name} is required", where=where, name=m.group(1))
    if m := TYPE.search(note):
        return _(
            "{where}.{name} must be of type {type}", where=where, name=m.group(2), type=m.group(1)
        )
    if m := FIELD_TYPE.search(note):
        return _('{where}.type: field type "{type}" is not supported', where=where, type=m.group(1))
    return _("{where}: {note}", where=where, note=note)


def _frictionless(cls: Any, descriptor: Any, where: str) -> list[Message]:
    try:
        errors = list(cls.metadata_validate(descriptor))
    except frictionless.FrictionlessException as exc:
        errors = [exc.error]
    except Exception as exc:  # a descriptor of a shape frictionless trips over
        return [_("{where}: {note}", where=where, note=str(exc))]
    return [_say(where, e.note or e.message) for e in errors]


def problems(descriptor: Any, *, hashes: set[str] | None) -> list[Message]:
    """Every problem of ``descriptor`` as a Data Package, and, when ``hashes`` is given, of
    its resources' hashes against the product's sources (``sha256:`` + each version's)."""
    if not isinstance(descriptor, dict):
        return [_("{where}: a Data Package descriptor is a JSON object", where="manifest")]
    out: list[Message] = []
    name = descriptor.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        out.append(
            _(
                "{where}: a lower-case name of letters, digits, '.', '-' or '_' (Data Package name)",
                where="name",
            )
        )
    licences = descriptor.get("licenses")
    if not isinstance(licences, list) or not licences:
        out.append(_("{where}: name at least one licence", where="licenses"))
    else:
        for i, lic in enumerate(licences):
            where = f"licenses[{i}]"
            if not isinstance(lic, dict) or not (lic.get("name") or lic.get("path")):
                out.append(_("{where}: give the licence's name or path", where=where))
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        out.append(_("{where}: list at least one resource", where="resources"))
        return out
    for i, res in enumerate(resources):
        where = f"resources[{i}]"
        if not isinstance(res, dict):
            out.append(_("{where}: a resource is a JSON object", where=where))
            continue
        schema = res.get("schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
            out.append(_("{where}: a Table Schema with its fields", where=f"{where}.schema"))
        else:
            for j, fld in enumerate(schema["fields"]):
                out += _frictionless(Schema, {"fields": [fld]}, f"{where}.schema.fields[{j}]")
        bare = {k: v for k, v in res.items() if k != "schema"}
        out += _frictionless(Resource, bare, where)
        digest = res.get("hash")
        if not isinstance(digest, str) or not HASH.match(digest):
            out.append(
                _(
                    "{where}: give the SHA-256 of the data, as sha256:<64 hex digits>",
                    where=f"{where}.hash",
                )
            )
        elif hashes is not None and digest not in hashes:
            out.append(
                _(
                    "{where}: not the hash of any source version of this product",
                    where=f"{where}.hash",
                )
            )
    if not out:
        out += _frictionless(Package, descriptor, "manifest")
    return out


def validate(descriptor: Any, *, hashes: set[str] | None) -> dict[str, Any]:
    """The descriptor, if it is a valid Data Package whose hashes are its sources'; else
    ``InvalidInput`` listing every problem, each with where it is."""
    found = problems(descriptor, hashes=hashes)
    if found:
        raise InvalidInput(
            problem=Sentences(found), fields=[m.params.get("where", "") for m in found]
        )
    assert isinstance(descriptor, dict)
    return descriptor


def for_versions(
    *,
    name: str,
    title: str,
    licence: str,
    versions: Iterable[tuple[str, int, str, list[dict[str, Any]]]],
) -> dict[str, Any]:
    """A manifest for sources as the catalog holds them: (dataset id, version, sha256,
    columns), one resource each, with its schema from the version's columns."""
    resources = []
    for dataset_id, number, sha256, columns in versions:
        resources.append(
            {
                "name": f"{dataset_id.lower()}-v{number}",
                "path": f"yaosu:datasets/{dataset_id}/versions/{number}",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "hash": f"sha256:{sha256}",
                "schema": {
                    "fields": [
                        {"name": c["name"], "type": FIELD_TYPES.get(c.get("kind", ""), "any")}
                        for c in columns
                    ]
                },
            }
        )
    return {
        "name": name,
        "title": title,
        "licenses": [{"name": licence}],
        "resources": resources,
    }
