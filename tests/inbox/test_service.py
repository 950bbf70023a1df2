"""The inbox as a service: what each demo role finds in it, counts that rise when work arrives
and fall when it is done, what each role may not see, and what the navigation's count costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.authorization.test_matrix import AI, AS, BA, BN, BR, CAC, CO, DSJ, USERS, P
from tests.conftest import actor, dataset_id
from yaosu.authorization import service as authorization
from yaosu.authorization.models import AccessRequest
from yaosu.authorization.schemas import RequestCreate
from yaosu.context import Context
from yaosu.inbox import service as inbox
from yaosu.kernel.i18n import localise
from yaosu.privacy import service as privacy
from yaosu.rights import service as rights

# In the demo world one request waits for the bureau and the 网信 office (the residents' data
# holds personal information); the cooperative's negotiated order waits for its payment; its
# disputed order, taken to a regulator, waits for the platform and the regulators to decide.
DEMO_COUNTS = {P: 2, BA: 1, BN: 0, BR: 1, AI: 0, CO: 1, CAC: 3, DSJ: 1, AS: 0}  # CAC: a filing


def counts(ctx: Context) -> dict[str, int]:
    out = {}
    for username in USERS:
        who = actor(ctx, username)
        with ctx.db.transaction() as session:
            out[username] = inbox.count(session, who)
    return out


def items(ctx: Context, username: str) -> dict[str, list[inbox.Item]]:
    who = actor(ctx, username)
    with ctx.db.transaction() as session:
        return inbox.collect(session, who)


def texts(ctx: Context, username: str, section: str, lang: str = "zh-CN") -> list[str]:
    return [localise(i.text, lang) for i in items(ctx, username)[section]]


def test_each_demo_role_finds_what_waits_for_it(ctx: Context) -> None:
    assert counts(ctx) == DEMO_COUNTS
    for username in USERS:
        found = items(ctx, username)
        # The count is the counted sections' items, exactly.
        assert DEMO_COUNTS[username] == sum(len(found[s]) for s in inbox.COUNTED), username
    [waiting] = texts(ctx, BR, "waiting")
    assert waiting == (
        "青禾农民专业合作社申请将《江州市城乡居民社会保险参保人员信息》用于“公益事业”，需要你方审核。"
    )
    assert waiting in texts(ctx, CAC, "waiting")
    [pay] = texts(ctx, CO, "waiting")
    assert pay.startswith("你方向智谷人工智能科技有限公司订购的订单合同已生效") and "YSP-" in pay
    assert any("提出异议" in t for t in texts(ctx, CAC, "waiting"))
    [english] = texts(ctx, BR, "waiting", "en")
    assert english.startswith("青禾农民专业合作社 asks to use 江州市城乡居民社会保险参保人员信息")
    # Words, not ids: no sentence carries an id; the link and the hover do.
    for username in USERS:
        for section in inbox.SECTIONS:
            for item in items(ctx, username)[section]:
                text = localise(item.text, "zh-CN")
                assert not any(p in text for p in ("req_", "ctr_", "usr_", "ds_", "org_")), text
                assert item.href.startswith("/") and item.ref and item.ref not in text


def test_the_reviewers_history_is_kept_apart_from_what_waits(ctx: Context) -> None:
    done = texts(ctx, BR, "done")
    assert any("乡村振兴" in t and "已批准" in t for t in done)  # the demo's first request
    assert any("筛查结果已确认" in t for t in done)  # and the screens it confirmed
    waiting = {i.ref for i in items(ctx, BR)["waiting"]}
    assert waiting and not waiting & {i.ref for i in items(ctx, BR)["done"]}  # not history
    assert any("附条件批准" in t for t in texts(ctx, CAC, "done"))
    # The requester hears how its request ended, with the contract to use.
    [news] = [n for n in items(ctx, CO)["news"] if "参保" in localise(n.text, "zh-CN")]
    assert "已获批准" in localise(news.text, "zh-CN")
    assert news.href.startswith("/contracts/ctr_") and news.href.endswith("?done=contract.made")


def test_what_a_role_may_not_see_stays_out_of_its_inbox(ctx: Context) -> None:
    for username in (BN, AI, CO, DSJ, AS, P):
        found = items(ctx, username)
        # no one else's decisions (the cooperative, a provider too, decided on requests to
        # use its own data: the supplier's orders of the forecast)
        assert found["done"] == [] or username in (BN, CO), username
        if username == CO:
            assert {i.kind for i in found["done"]} == {"review_decided", "screen_confirmed"}
        # nothing waits for them but their market steps (the demo's orders: the buyer's
        # payment, the dispute the platform and the regulators decide)
        others = [i for i in found["waiting"] if not i.kind.startswith(("order_", "share_"))]
        assert others == [], username
        assert {i.kind for i in found["waiting"]} <= {
            CO: {"order_pay"},
            DSJ: {"order_decide"},
            P: {"order_decide", "share_objection"},
        }.get(username, set()), username
    # A member who may not review sees neither the requests nor the decisions made.
    assert items(ctx, BN)["done"] == []
    # The requester's rivals hear nothing of its request: the AI company hears of its own
    # (its compute request, approved) and of its own compute job, nothing of the cooperative's.
    news, ai_org = items(ctx, AI)["news"], actor(ctx, AI).org_id
    assert {i.kind for i in news} == {"request_ended", "compute_ended"}
    with ctx.db.transaction() as session:
        mine = select(AccessRequest).where(AccessRequest.requester_org_id == ai_org)
        own = {r.contract_id or r.id for r in session.scalars(mine)}
    assert {i.ref for i in news if i.kind == "request_ended"} <= own


def _submit(ctx: Context, username: str, fields: list[str]) -> str:
    with ctx.db.transaction() as session:
        made = authorization.submit_request(
            session,
            actor(ctx, username),
            settings=ctx.settings,
            data=RequestCreate(
                purpose="public_welfare",
                datasets={dataset_id(ctx, "参保人员"): fields},
                operations=["aggregate"],
                days=30,
                epsilon=1.0,
                justification="收件箱测试：按乡镇统计参保人数。",
            ),
        )
        return made.id


def _review(ctx: Context, username: str, request_id: str, decision: str = "approve") -> Any:
    with ctx.db.transaction() as session:
        return authorization.review(
            session,
            actor(ctx, username),
            settings=ctx.settings,
            request_id=request_id,
            decision=decision,
            reason="收件箱测试",
        )


def _new_news(ctx: Context, username: str, before: list[Any]) -> list[Any]:
    """The user's news items that were not there before (the demo world has its own)."""
    seen = {(i.kind, i.ref) for i in before}
    return [i for i in items(ctx, username)["news"] if (i.kind, i.ref) not in seen]


def test_a_request_counts_for_its_reviewers_until_each_has_decided(ctx: Context) -> None:
    before = items(ctx, AI)["news"]
    request_id = _submit(ctx, AI, ["所属乡镇"])
    up = counts(ctx)
    assert up == DEMO_COUNTS | {BA: 2, BR: 2, CAC: 4}
    _review(ctx, BR, request_id)  # the bureau decides: both its reviewer and admin are done
    assert counts(ctx) == DEMO_COUNTS | {CAC: 4}
    assert any("公益事业" in t and "已批准" in t for t in texts(ctx, BA, "done"))
    assert _new_news(ctx, AI, before) == []  # not ended yet
    done = _review(ctx, CAC, request_id)
    assert done.contract_id is not None
    # The reviewers are done; the requester's admin now has the offer to accept.
    assert counts(ctx) == DEMO_COUNTS | {AI: 1}
    [news] = _new_news(ctx, AI, before)
    assert news.href == f"/contracts/{done.contract_id}?done=contract.made"
    [offer] = items(ctx, AI)["waiting"]
    assert offer.href == f"/contracts/{done.contract_id}" and "接受" in localise(
        offer.text, "zh-CN"
    )
    with ctx.db.transaction() as session:
        authorization.accept(session, actor(ctx, AI), contract_id=done.contract_id)
    assert counts(ctx) == DEMO_COUNTS  # accepted: nothing waits any more


def test_a_rejection_ends_the_work_of_every_reviewer(ctx: Context) -> None:
    before = items(ctx, AI)["news"]
    request_id = _submit(ctx, AI, ["所属乡镇"])
    _review(ctx, CAC, request_id, "reject")
    assert counts(ctx) == DEMO_COUNTS  # the bureau's pending review is void
    [news] = _new_news(ctx, AI, before)
    assert "未获批准" in localise(news.text, "zh-CN") and news.href == f"/requests/{request_id}"


def test_a_new_version_waits_to_be_screened_then_confirmed(ctx: Context, tmp_path: Any) -> None:
    from yaosu.catalog import versions

    farm = dataset_id(ctx, "农产品")
    source = tmp_path / "农产品.csv"
    source.write_text("乡镇,品类,销量\n城关镇,水稻,12\n石桥镇,茶叶,7\n", encoding="utf-8")
    versions.run_ingest(ctx, actor(ctx, BN), dataset_id=farm, source=source, filename="v2.csv")
    # Every member may screen it; the reviewer and the admin may also confirm what it finds.
    assert counts(ctx) == DEMO_COUNTS | {BN: 1, BA: 2, BR: 2}
    assert "尚未筛查" in texts(ctx, BN, "waiting")[0]
    with ctx.db.transaction() as session:
        screen = privacy.screen_version(
            session, actor(ctx, BN), store=ctx.store, settings=ctx.settings, dataset_id=farm
        )
    assert counts(ctx) == DEMO_COUNTS | {BA: 2, BR: 2}  # the analyst is done, not the reviewer
    confirm = [t for t in texts(ctx, BR, "waiting") if "待你确认" in t]
    assert confirm and "第 2 版" in confirm[0]
    with ctx.db.transaction() as session:
        privacy.review(session, actor(ctx, BR), screen_id=screen.id, note="收件箱测试")
    assert counts(ctx) == DEMO_COUNTS
    assert any("第 2 版" in t for t in texts(ctx, BR, "done"))


def test_registrations_and_objections_wait_for_the_platform(ctx: Context) -> None:
    platform = actor(ctx, P)
    with ctx.db.transaction() as session:
        reg = rights.apply(
            session,
            actor(ctx, BA),
            settings=ctx.settings,
            kind="holding",
            dataset_id=dataset_id(ctx, "用电量"),
            statement="收件箱测试的原始登记",
            purposes=[],
        )
    assert counts(ctx) == DEMO_COUNTS | {P: DEMO_COUNTS[P] + 1}
    assert any("受理" in t for t in texts(ctx, P, "waiting"))
    with ctx.db.transaction() as session:
        rights.accept(session, platform, settings=ctx.settings, registration_id=reg.id)
    assert counts(ctx) == DEMO_COUNTS | {P: DEMO_COUNTS[P] + 1}
    assert any("形式审查" in t for t in texts(ctx, P, "waiting"))
    with ctx.db.transaction() as session:
        rights.formal_review(
            session,
            platform,
            settings=ctx.settings,
            registration_id=reg.id,
            passed=True,
            note="通过",
        )
    assert counts(ctx) == DEMO_COUNTS  # in its notice window: nothing to do yet
    with ctx.db.transaction() as session:
        objection = rights.object_to(
            session, actor(ctx, DSJ), registration_id=reg.id, reason="收件箱测试的异议理由"
        )
    assert counts(ctx) == DEMO_COUNTS | {P: DEMO_COUNTS[P] + 1}
    # beside the order's dispute and the share's objection
    [waiting] = [t for t in texts(ctx, P, "waiting") if "订单" not in t and "分成" not in t]
    assert waiting.startswith("江州省数据局对江州市数据局《江州市重点企业月度用电量》")
    with ctx.db.transaction() as session:
        rights.resolve(
            session, platform, objection_id=objection.id, upheld=False, resolution="不成立"
        )
    assert counts(ctx) == DEMO_COUNTS


def test_a_contract_nearly_spent_needs_its_users_attention(ctx: Context) -> None:
    coop, residents = actor(ctx, CO), dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        [contract] = [
            c for c in authorization.list_contracts(session, coop) if residents in c.datasets
        ]
        # 0.75 of 2.0 spent in the demo; 0.9 more is beyond 80 %.
        authorization.use(
            session,
            coop,
            contract_id=contract.id,
            operation="aggregate",
            dataset_id=residents,
            fields=["所属乡镇"],
            epsilon=0.9,
        )
    assert counts(ctx) == DEMO_COUNTS | {CO: 2}
    [watch] = texts(ctx, CO, "watch")
    assert watch == (
        "你方使用《江州市城乡居民社会保险参保人员信息》的授权协议已消耗隐私预算 ε 1.65（共 2）。"
    )
    assert items(ctx, CO)["watch"][0].href == f"/contracts/{contract.id}"
    # The provider and the regulators see the contract, but its budget is the user's to watch.
    assert all(items(ctx, u)["watch"] == [] for u in (BA, BR, CAC, DSJ, P))


@pytest.fixture
def background(ctx: Context) -> Context:
    ctx.settings = ctx.settings.model_copy(update={"background_rows": 1, "task_workers": 0})
    return ctx


def test_a_failed_task_is_watched_until_a_later_run_succeeds(
    background: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yaosu.privacy import screening
    from yaosu.tasks import service as tasks

    ctx, analyst, residents = background, actor(background, BN), dataset_id(background, "参保人员")

    def full_screen() -> None:
        with ctx.db.transaction() as session:
            privacy.request_screen(
                session,
                analyst,
                store=ctx.store,
                settings=ctx.settings,
                dataset_id=residents,
                mode="full",
            )
        tasks.run_one(ctx, name=tasks.worker_name())

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("disk full, say")

    with monkeypatch.context() as patched:
        patched.setattr(screening, "_save", broken)
        full_screen()
    assert counts(ctx) == DEMO_COUNTS | {BN: 1}  # its submitter's, no one else's
    [failed] = texts(ctx, BN, "watch")
    assert failed.startswith("《江州市城乡居民社会保险参保人员信息》的后台任务“全量扫描”失败：")
    full_screen()
    assert counts(ctx) == DEMO_COUNTS | {BA: 2, BR: 2}  # its new screen waits for a reviewer
    news = texts(ctx, BN, "news")
    assert any("已完成" in t for t in news) and any("曾失败" in t for t in news)


@contextmanager
def queries(ctx: Context) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)


def test_the_navigations_count_costs_a_few_queries(ctx: Context) -> None:
    """What every page pays for its count: at most four queries, whatever the role, and no
    write (a count must never expire a request or record anything)."""
    per_role = {}
    for username in USERS:
        who = actor(ctx, username)
        with ctx.db.transaction() as session, queries(ctx) as seen:
            inbox.count(session, who)
        statements = [s for s in seen if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
        per_role[username] = len(statements)
        assert all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    # a few per kind of organisation (the cooperative is a data user and a provider, and its
    # administrator may apply for ethics reviews or run a committee: one query for those)
    assert max(per_role.values()) <= 9, per_role
    # A data user's admin: its requests' news, its contracts to watch and those to accept,
    # its orders' steps, the compute jobs on its data (both steps in one), its ethics steps
    # (all in one); a regulator: its reviews and the disputes it may decide.
    assert per_role[CO] <= 9 and per_role[DSJ] <= 4, per_role


def test_a_review_due_soon_comes_first_and_an_overdue_one_stops_counting(ctx: Context) -> None:
    from datetime import timedelta

    from yaosu.authorization.models import AccessRequest
    from yaosu.kernel.db import utcnow

    later = _submit(ctx, AI, ["所属乡镇"])
    with ctx.db.transaction() as session:
        req = session.get(AccessRequest, later)
        assert req is not None
        req.due_at = utcnow() + timedelta(days=1)  # its reviews are due tomorrow
    first, second = items(ctx, BR)["waiting"]
    assert first.ref == later and first.urgent and not second.urgent
    with ctx.db.transaction() as session:
        req = session.get(AccessRequest, later)
        assert req is not None
        req.due_at = utcnow() - timedelta(minutes=1)
    assert counts(ctx) == DEMO_COUNTS  # overdue: nothing more to do, and counting wrote nothing
    with ctx.db.transaction() as session:
        req = session.get(AccessRequest, later)
        assert req is not None and req.status == "submitted"


def test_an_objection_to_a_share_waits_for_the_platform_and_once_asked_the_regulators(
    ctx: Context,
) -> None:
    from yaosu.market import objections
    from yaosu.market.models import ShareObjection

    [item] = [i for i in items(ctx, P)["waiting"] if i.kind == "share_objection"]
    assert item.href.startswith("/market/shares?org=") and not item.urgent
    assert "河西乡人民政府" in localise(item.text, "zh-CN")
    before, seller = counts(ctx), actor(ctx, AI)
    with ctx.db.transaction() as session:
        objection = session.scalar(select(ShareObjection).where(ShareObjection.status == "open"))
        assert objection is not None
        objections.escalate(session, seller, objection_id=objection.id)
    after = counts(ctx)
    assert after == before | {CAC: before[CAC] + 1, DSJ: before[DSJ] + 1}
    [asked] = [i for i in items(ctx, DSJ)["waiting"] if i.kind == "share_objection"]
    assert asked.urgent
