"""The one decision function, and the SQL form of its visibility rule, agree everywhere."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import actor
from yaosu.accounts.models import User
from yaosu.authorization.policy import Resource, decide, visible
from yaosu.catalog.models import Dataset
from yaosu.catalog.service import ROWS, resource
from yaosu.context import Context
from yaosu.kernel.actor import Actor, system_actor
from yaosu.web.deps import ANONYMOUS


def test_visibility_sql_matches_decide_for_every_actor_and_dataset(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        usernames = list(session.scalars(select(User.username)))
        datasets = list(session.scalars(select(Dataset)))
    actors: list[Actor] = [actor(ctx, u) for u in usernames] + [ANONYMOUS, system_actor()]
    actors.append(Actor(**{**actors[0].__dict__, "scopes": frozenset({"write"})}))
    checked = 0
    for who in actors:
        with ctx.db.transaction() as session:
            shown = set(
                session.scalars(select(Dataset.id).where(visible(who, "dataset.view", ROWS)))
            )
        for ds in datasets:
            assert (ds.id in shown) == decide(who, "dataset.view", resource(ds)).allowed, (
                who.username,
                ds.title,
            )
            checked += 1
    assert checked >= 36


def test_decisions_carry_reasons_in_both_languages(ctx: Context) -> None:
    coop = actor(ctx, "coop-manager")
    conditional = Resource("dataset", "ds_x", "org_other", {"openness": "conditional"})
    decision = decide(coop, "dataset.read", conditional)
    assert not decision.allowed
    assert "申请" in decision.reason.render("zh-CN") and "contract" in decision.reason.render("en")
    open_data = Resource(
        "dataset", "ds_y", "org_other", {"openness": "open", "screened_clean": True}
    )
    allowed = decide(coop, "dataset.read", open_data)
    assert allowed.allowed and "audit-access" in allowed.obligations
    unscreened = Resource(
        "dataset", "ds_z", "org_other", {"openness": "open", "screened_clean": False}
    )
    refused = decide(coop, "dataset.read", unscreened)
    assert not refused.allowed and "筛查" in refused.reason.render("zh-CN")


def test_unknown_actions_and_resources_are_refused(ctx: Context) -> None:
    admin = actor(ctx, "platform-admin")
    assert not decide(admin, "dataset.destroy", Resource("dataset", "x")).allowed
    assert not decide(admin, "dataset.view", Resource("spaceship", "x")).allowed
    assert not decide(system_actor(), "made.up", Resource("dataset", "x")).allowed
