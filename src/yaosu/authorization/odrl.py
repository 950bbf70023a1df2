"""Contracts as ODRL 2.2 Agreements (JSON-LD), out and back in.

ODRL has no words for some of what a Yaosu contract says, so Yaosu's profile
(``https://yaosu.dev/ns/odrl/``, prefix ``yaosu:``) adds left operands and actions; they are
listed in docs/odrl.md, with the meaning of ``count`` and of a missing constraint. An import
refuses what it cannot enforce (an unknown operand, action or operator), rather than
dropping it silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.aliases import default_aliases
from yaosu.authorization.contracts import duties_for
from yaosu.authorization.models import Contract
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Resource, enforce
from yaosu.authorization.requests import row_filter_problems
from yaosu.authorization.states import ContractState
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import Sentences, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings

NS = "https://yaosu.dev/ns/odrl/"
PROFILE = NS + "profile"
CONTEXT = [
    "http://www.w3.org/ns/odrl.jsonld",
    {"yaosu": NS, "xsd": "http://www.w3.org/2001/XMLSchema#"},
]

# Yaosu operation -> ODRL action (ODRL's own where one fits, else the profile's).
ACTIONS = {
    Operation.aggregate: "yaosu:aggregateQuery",  # ODRL's "aggregate" composes assets, not SQL
    Operation.extract: "extract",
    Operation.compute: "yaosu:computeToData",
    Operation.download: "reproduce",
}
PROHIBITIONS = {
    "reidentify": "yaosu:reidentify",
    "transfer": "distribute",
    "export_raw": "yaosu:exportRaw",
}
DUTIES = {"attribute": "attribute", "report_usage": "inform", "compensate": "compensate"}


def _urn(kind: str, ident: str) -> str:
    return f"urn:yaosu:{kind}:{ident}"


def _constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return {"leftOperand": left, "operator": operator, "rightOperand": right}


def _when(moment: datetime) -> dict[str, str]:
    return {"@value": moment.isoformat().replace("+00:00", "Z"), "@type": "xsd:dateTime"}


def _party_out(org_id: str, by: str | None, at: datetime | str | None) -> dict[str, Any]:
    """A party, with its acceptance of the terms (who accepted for it, when) when it has one."""
    party: dict[str, Any] = {"@type": "Party", "uid": _urn("org", org_id)}
    if at is not None:
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        party["yaosu:acceptedAt"] = _when(moment)
        if by:
            party["yaosu:acceptedBy"] = _urn("user", by)
    return party


def to_odrl(contract: Contract) -> dict[str, Any]:
    common = [
        _constraint("purpose", "eq", contract.purpose),
        _constraint("dateTime", "gteq", _when(contract.starts_at)),
        _constraint("dateTime", "lt", _when(contract.ends_at)),
        _constraint("spatial", "eq", contract.territory),
    ]
    if contract.max_uses is not None:
        common.append(_constraint("count", "lteq", contract.max_uses))
    if contract.min_group_size is not None:
        common.append(_constraint("yaosu:minGroupSize", "gteq", contract.min_group_size))
    if contract.epsilon_budget is not None:
        common.append(_constraint("yaosu:epsilon", "lteq", contract.epsilon_budget))
    if contract.delta is not None:
        common.append(_constraint("yaosu:delta", "lteq", contract.delta))
    if contract.algorithm:
        common.append(_constraint("yaosu:algorithm", "eq", contract.algorithm))
    if contract.models:
        common.append(_constraint("yaosu:modelOutput", "eq", True))
    duties = [
        {"action": DUTIES[d["action"]]}
        | (
            {"constraint": [_constraint("yaosu:pricing", "eq", d["pricing"])]}
            if d["action"] == "compensate"
            else {}
        )
        for d in contract.duties
    ]

    def per_target(dataset_id: str, fields: list[str]) -> list[dict[str, Any]]:
        out = [_constraint("yaosu:field", "isAnyOf", list(fields))]
        for column, method in sorted((contract.masks or {}).get(dataset_id, {}).items()):
            out.append(_constraint("yaosu:mask", "eq", {"column": column, "method": method}))
        predicate = (contract.row_filters or {}).get(dataset_id)
        if predicate:
            out.append(_constraint("yaosu:rowFilter", "eq", predicate))
        return out

    permissions = [
        {
            "target": _urn("dataset", dataset_id),
            "action": ACTIONS[Operation(operation)],
            "constraint": [*common, *per_target(dataset_id, fields)],
            "duty": duties,
        }
        for dataset_id, fields in sorted(contract.datasets.items())
        for operation in contract.operations
    ]
    providers = {a["org"]: a for a in contract.provider_acceptances or []}
    return {
        "@context": CONTEXT,
        # An Agreement once both parties accepted; until the consumer accepts, an Offer.
        "@type": "Offer" if contract.accepted_at is None else "Agreement",
        "uid": _urn("contract", contract.id),
        "profile": PROFILE,
        "assigner": [
            _party_out(o, providers.get(o, {}).get("by"), providers.get(o, {}).get("at"))
            for o in contract.provider_org_ids
        ],
        "assignee": _party_out(
            contract.consumer_org_id, contract.accepted_by, contract.accepted_at
        ),
        "permission": permissions,
        "prohibition": [
            {"target": _urn("dataset", d), "action": PROHIBITIONS[p]}
            for d in sorted(contract.datasets)
            for p in contract.prohibitions
        ],
    }


# --- import --------------------------------------------------------------------------------

_GLOBAL = {
    "purpose",
    "dateTime",
    "spatial",
    "count",
    "yaosu:minGroupSize",
    "yaosu:epsilon",
    "yaosu:delta",
    "yaosu:algorithm",
    "yaosu:modelOutput",
}


def _strip(value: Any, prefix: str, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(prefix):
        raise InvalidInput(
            problem=_(
                "{what} must be {prefix}…: {value}", what=what, prefix=prefix, value=repr(value)
            )
        )
    return value[len(prefix) :]


def _party(doc: Any, what: str) -> str:
    uid = doc.get("uid") if isinstance(doc, dict) else doc
    return _strip(uid, "urn:yaosu:org:", what)


def _value(right: Any) -> Any:
    return right.get("@value") if isinstance(right, dict) else right


def _datetime(right: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(_value(right)).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(problem=_("cannot read dateTime: {right}", right=repr(right))) from exc
    if moment.tzinfo is None:
        raise InvalidInput(problem=_("dateTime needs a time zone: {right}", right=repr(right)))
    return moment


def parse(doc: dict[str, Any]) -> dict[str, Any]:
    """An Agreement's terms as Contract fields, or InvalidInput naming what is wrong."""
    if doc.get("@type") != "Agreement":
        raise InvalidInput(problem=_("only an ODRL Agreement is imported"))
    assigners = doc.get("assigner")
    assigners = assigners if isinstance(assigners, list) else [assigners]
    providers = sorted({_party(a, "assigner") for a in assigners if a})
    consumer = _party(doc.get("assignee"), "assignee")
    accepted = {
        _party(p, what): _datetime(p["yaosu:acceptedAt"])
        for p, what in [
            *((a, "assigner") for a in assigners if a),
            (doc.get("assignee"), "assignee"),
        ]
        if isinstance(p, dict) and p.get("yaosu:acceptedAt") is not None
    }
    permissions = doc.get("permission") or []
    if not isinstance(permissions, list) or not permissions:
        raise InvalidInput(problem=_("at least one permission is needed"))
    reverse = {v: k for k, v in ACTIONS.items()}
    datasets: dict[str, list[str]] = {}
    masks: dict[str, dict[str, str]] = {}
    row_filters: dict[str, str] = {}
    operations: list[str] = []
    common: dict[str, Any] | None = None
    for i, perm in enumerate(permissions):
        action = perm.get("action")
        action = action.get("@id") if isinstance(action, dict) else action
        if action not in reverse:
            raise InvalidInput(
                problem=_("permission[{i}]: unsupported action {action}", i=i, action=repr(action))
            )
        target = _strip(perm.get("target"), "urn:yaosu:dataset:", f"permission[{i}].target")
        terms: dict[str, Any] = {}
        fields = None
        for c in perm.get("constraint") or []:
            left, op, right = c.get("leftOperand"), c.get("operator"), c.get("rightOperand")
            key = (left, op)
            if key == ("yaosu:field", "isAnyOf") and isinstance(right, list):
                fields = [str(f) for f in right]
            elif (
                key == ("yaosu:mask", "eq")
                and isinstance(right, dict)
                and right.get("method") in ("hash", "mask")
            ):
                masks.setdefault(target, {})[str(right.get("column"))] = str(right["method"])
            elif key == ("yaosu:rowFilter", "eq") and isinstance(right, str):
                row_filters[target] = right
            elif key == ("purpose", "eq"):
                terms["purpose"] = str(_value(right))
            elif key == ("dateTime", "gteq"):
                terms["starts_at"] = _datetime(right)
            elif key == ("dateTime", "lt"):
                terms["ends_at"] = _datetime(right)
            elif key == ("spatial", "eq"):
                terms["territory"] = str(_value(right))
            elif key == ("count", "lteq"):
                terms["max_uses"] = int(_value(right))
            elif key == ("yaosu:minGroupSize", "gteq"):
                terms["min_group_size"] = int(_value(right))
            elif key == ("yaosu:epsilon", "lteq"):
                terms["epsilon_budget"] = float(_value(right))
            elif key == ("yaosu:delta", "lteq"):
                terms["delta"] = float(_value(right))
            elif key == ("yaosu:algorithm", "eq"):
                terms["algorithm"] = str(_value(right))
            elif key == ("yaosu:modelOutput", "eq"):
                terms["models"] = _value(right) is True
            else:
                raise InvalidInput(
                    problem=_(
                        "permission[{i}]: a constraint Yaosu cannot enforce: {left} {op} {right}",
                        i=i,
                        left=left,
                        op=op,
                        right=repr(right),
                    )
                )
        if fields is None or not fields:
            raise InvalidInput(problem=_("permission[{i}]: list the fields with yaosu:field", i=i))
        if common is None:
            common = terms
        elif terms != common:
            raise InvalidInput(
                problem=_("every permission must carry the same window, purpose, count and budget")
            )
        if target in datasets and datasets[target] != fields:
            raise InvalidInput(
                problem=_("{target}: fields differ between permissions", target=target)
            )
        datasets[target] = fields
        if reverse[action] not in operations:
            operations.append(reverse[action])
    assert common is not None
    for required in ("purpose", "starts_at", "ends_at"):
        if required not in common:
            raise InvalidInput(
                problem=_(
                    "a required constraint is missing: {required} (see docs/odrl.md)",
                    required=required,
                )
            )
    prohibitions_back = {v: k for k, v in PROHIBITIONS.items()}
    prohibitions = []
    for p in doc.get("prohibition") or []:
        action = p.get("action")
        if action not in prohibitions_back:
            raise InvalidInput(problem=_("unsupported prohibition {action}", action=repr(action)))
        if prohibitions_back[action] not in prohibitions:
            prohibitions.append(prohibitions_back[action])
    duties_back = {v: k for k, v in DUTIES.items()}
    duties: list[dict[str, Any]] = []
    for d in permissions[0].get("duty") or []:
        action = d.get("action")
        if action not in duties_back:
            raise InvalidInput(problem=_("unsupported duty {action}", action=repr(action)))
        duty: dict[str, Any] = {"action": duties_back[action]}
        for c in d.get("constraint") or []:
            if c.get("leftOperand") == "yaosu:pricing":
                duty["pricing"] = str(_value(c.get("rightOperand")))
        duties.append(duty)
    for target, predicate in row_filters.items():
        problems = row_filter_problems(predicate, datasets[target])
        if problems:
            raise InvalidInput(
                problem=_("{target}: {problems}", target=target, problems=Sentences(problems))
            )
    for target, columns in masks.items():
        if any(c not in datasets[target] for c in columns):
            raise InvalidInput(
                problem=_("{target}: yaosu:mask masks only allowed fields", target=target)
            )
    return {
        "provider_org_ids": providers,
        "consumer_org_id": consumer,
        "datasets": datasets,
        "masks": masks,
        "row_filters": row_filters,
        "operations": operations,
        "prohibitions": prohibitions,
        "duties": duties,
        "territory": "CN",
        "accepted": accepted,
        **common,
    }


def import_agreement(
    session: Session, actor: Actor, *, settings: Settings, doc: dict[str, Any], create: bool
) -> Contract:
    """Checks an Agreement against the platform (parties, datasets, fields, term) and, when
    ``create``, records it as an active contract (platform admin; audited). An Agreement is
    both parties' acceptance: each party's ``yaosu:acceptedAt`` is kept (else the import's
    time); who accepted is not, being a user of the platform it came from."""
    enforce(actor, "contract.import", Resource("contract", "import", None, {"providers": []}))
    terms = parse(doc)
    for org_id in [*terms["provider_org_ids"], terms["consumer_org_id"]]:
        if accounts.find_org(session, org_id=org_id) is None:
            raise InvalidInput(problem=_("unknown organisation {org_id}", org_id=org_id))
    titles: dict[str, str] = {}
    for dataset_id, fields in terms["datasets"].items():
        ds = catalog.find_dataset(session, dataset_id=dataset_id)
        if ds is None:
            raise InvalidInput(problem=_("unknown dataset {dataset_id}", dataset_id=dataset_id))
        titles[dataset_id] = ds.title
        if ds.owner_org_id not in terms["provider_org_ids"]:
            raise InvalidInput(
                problem=_("{dataset_id} belongs to no assigner", dataset_id=dataset_id)
            )
        version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
        known = {c["name"] for c in version.columns}
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise InvalidInput(
                problem=_(
                    "{dataset_id}: unknown fields {unknown}", dataset_id=dataset_id, unknown=unknown
                )
            )
    if terms["ends_at"] <= terms["starts_at"]:
        raise InvalidInput(problem=_("the end must come after the start"))
    if terms["ends_at"] - terms["starts_at"] > timedelta(days=settings.max_contract_days):
        raise InvalidInput(
            problem=_(
                "the term exceeds {max_contract_days} days",
                max_contract_days=settings.max_contract_days,
            )
        )
    pricing = next((d.get("pricing") for d in terms["duties"] if d.get("pricing")), "free")
    now = utcnow()
    accepted = terms["accepted"]
    contract = Contract(
        id=new_id("ctr"),
        request_id=None,
        purpose=terms["purpose"],
        consumer_org_id=terms["consumer_org_id"],
        provider_org_ids=terms["provider_org_ids"],
        operations=terms["operations"],
        datasets=terms["datasets"],
        aliases=default_aliases(titles),  # an Agreement names no aliases: the defaults
        masks=terms["masks"],
        row_filters=terms["row_filters"],
        algorithm=terms.get("algorithm"),
        models=bool(terms.get("models", False)),
        starts_at=terms["starts_at"],
        ends_at=terms["ends_at"],
        max_uses=terms.get("max_uses"),
        uses=0,
        min_group_size=terms.get("min_group_size")
        or (settings.min_group_size if Operation.aggregate in terms["operations"] else None),
        epsilon_budget=terms.get("epsilon_budget"),
        epsilon_spent=0.0,
        delta=terms.get("delta"),
        territory=terms.get("territory", "CN"),
        duties=duties_for(pricing),
        prohibitions=terms["prohibitions"],
        pricing=pricing,
        status=ContractState.active,
        provider_acceptances=[
            {"org": o, "by": None, "at": accepted.get(o, now).isoformat()}
            for o in terms["provider_org_ids"]
        ],
        accepted_by=None,
        accepted_at=accepted.get(terms["consumer_org_id"], now),
        created_at=now,
    )
    if create:
        session.add(contract)
        session.flush()
        record(
            session,
            actor,
            action="contract.import",
            object_type="contract",
            object_id=contract.id,
            object_org_id=contract.consumer_org_id,
            request={"uid": doc.get("uid")},
            detail={"datasets": contract.datasets, "ends_at": contract.ends_at.isoformat()},
        )
    return contract
