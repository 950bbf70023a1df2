"""Inbox items from rights registration: the registration authority's next steps and the
objections it must resolve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yaosu.inbox.registry import Item, Kind, Words, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import N_, Message, label
from yaosu.rights import service as rights

STEPS = {
    "accept": N_(
        "{applicant} applied to register a {right} over “{dataset}”: check the application and accept it."
    ),
    "review": N_(
        "The application of {applicant} for a {right} over “{dataset}” is accepted: review it formally."
    ),
    "issue": N_(
        "The public notice of the {right} of {holder} over “{dataset}” has ended with no open objection: register it and issue its certificate."
    ),
    "resolve": N_(
        "{objector} objects to the registration of the {right} of {holder} over “{dataset}”: resolve the objection."
    ),
}


def _item(work: rights.RegistrationWork, words: Words) -> Item:
    return Item(
        f"registration_{work.step}",
        Message(
            STEPS[work.step],
            {
                "applicant": words.org(work.applicant_org_id),
                "holder": words.org(work.holder_org_id),
                "objector": words.org(work.objector_org_id),
                "right": label("right_kind", work.right_kind),
                "dataset": words.dataset(work.dataset_id),
            },
        ),
        f"/registrations/{work.registration_id}",
        at=work.at,
        ref=work.objection_id or work.registration_id,
    )


def _count_steps(session: Session, actor: Actor, *, now: datetime) -> int:
    return rights.count_registration_steps(session, actor, now=now)


def _steps(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    return [_item(w, words) for w in rights.registration_steps(session, actor, now=now)]


def _count_objections(session: Session, actor: Actor, *, now: datetime) -> int:
    return rights.count_open_objections(session, actor)


def _objections(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    return [_item(w, words) for w in rights.open_objections(session, actor)]


register(Kind("registration_step", "waiting", _steps, _count_steps))
register(Kind("objection", "waiting", _objections, _count_objections))
