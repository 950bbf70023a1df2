"""Words for what entries hold as ids, for the console's audit pages: who acted, for which
organisation, on what. Names come from the domains that own them, through their services, and
a dataset is named only to whoever may view it (``catalog.get_dataset`` decides); everything
else stays an id, shown as one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.models import AuditEntry
from yaosu.authorization import service as authorization
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import Forbidden, NotFound

# Object types whose names a person can type in the search instead of an id (a contract or a
# request by the title of a dataset it is for).
NAMED_TYPES = ("dataset", "organisation", "user", "contract", "request")


@dataclass
class Names:
    orgs: dict[str, str]
    users: dict[str, str] = field(default_factory=dict)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)

    def actor(self, entry: AuditEntry) -> str:
        if entry.actor_id.startswith("system:"):
            return entry.actor_id.removeprefix("system:")
        return self.users.get(entry.actor_id, entry.actor_id)

    def obj(self, entry: AuditEntry) -> str | None:
        return self.objects.get((entry.object_type, entry.object_id))


def org_names(session: Session) -> dict[str, str]:
    """Every organisation's name by id (organisations are public: 主体公示)."""
    return accounts.org_names(session)


def names_for(session: Session, actor: Actor, *, entries: Iterable[AuditEntry]) -> Names:
    entries = list(entries)
    names = Names(orgs=org_names(session))
    people = {e.actor_id for e in entries} | {
        e.object_id for e in entries if e.object_type == "user"
    }
    for user_id in people:
        user = accounts.find_user(session, user_id=user_id)
        if user is not None:
            names.users[user_id] = f"{user.display_name} ({user.username})"
    for e in entries:
        key = (e.object_type, e.object_id)
        if key in names.objects:
            continue
        if e.object_type == "organisation" and e.object_id in names.orgs:
            names.objects[key] = names.orgs[e.object_id]
        elif e.object_type == "user" and e.object_id in names.users:
            names.objects[key] = names.users[e.object_id]
        elif e.object_type == "dataset":
            title = dataset_title(session, actor, dataset_id=e.object_id)
            if title is not None:
                names.objects[key] = title
        elif e.object_type in ("contract", "request"):
            named = agreement_name(session, actor, kind=e.object_type, object_id=e.object_id)
            if named is not None:
                names.objects[key] = named
    return names


def agreement_name(session: Session, actor: Actor, *, kind: str, object_id: str) -> str | None:
    """A contract or request as its lists name it: the datasets it is for, and the data user
    (《江州市…》 · 青禾农民专业合作社); only to whoever may view it, each dataset only to
    whoever may view that."""
    try:
        if kind == "contract":
            found = authorization.get_contract(session, actor, contract_id=object_id)
            datasets, org_id = list(found.datasets), found.consumer_org_id
        else:
            req = authorization.get_request(session, actor, request_id=object_id)
            datasets, org_id = list(req.datasets), req.requester_org_id
    except (NotFound, Forbidden):
        return None
    titles = [t for d in datasets if (t := dataset_title(session, actor, dataset_id=d))]
    if not titles:
        return None
    org = accounts.org_names(session).get(org_id, org_id)
    return "".join(f"《{t}》" for t in titles) + f" · {org}"


def dataset_title(session: Session, actor: Actor, *, dataset_id: str) -> str | None:
    """The title, if the actor may view the dataset: an entry about a dataset it may not see
    (a refused attempt, say) must not name it."""
    try:
        return catalog.get_dataset(session, actor, dataset_id=dataset_id).title
    except (NotFound, Forbidden):  # a name left out of a page, not a refusal to show
        return None


def object_ids(session: Session, actor: Actor, *, object_type: str, text: str) -> set[str]:
    """Ids of objects of ``object_type`` whose name holds ``text`` (the id itself included,
    so a pasted id still finds its entries)."""
    text = text.strip()
    found = {text}
    if object_type in ("", "organisation"):
        found |= {i for i, name in accounts.org_names(session).items() if text in name}
    if object_type in ("", "dataset", "contract", "request"):
        listing = catalog.list_datasets(session, actor, q=text, limit=100)
        datasets = {d.id for d in listing.items}
        if object_type == "contract":
            found |= {
                c.id
                for c in authorization.list_contracts(session, actor)
                if datasets.intersection(c.datasets)
            }
        elif object_type == "request":
            found |= {
                r.id
                for r in authorization.list_requests(session, actor)
                if datasets.intersection(r.datasets)
            }
        else:
            found |= datasets
    if object_type in ("", "user"):
        user = accounts.user_named(session, username=text)
        if user is not None:
            found.add(user.id)
    return found
