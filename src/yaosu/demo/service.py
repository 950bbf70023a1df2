"""The demo world: organisations for every role, users, and three real datasets.

Every later capability extends this world, so ``make demo`` always shows all of Yaosu.
Seeding is idempotent: a second run finds the world and leaves it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from yaosu.accounts import service as accounts
from yaosu.accounts.models import Organisation, User
from yaosu.audit import transparency
from yaosu.audit.keys import load_or_create
from yaosu.audit.models import Witness
from yaosu.audit.verify import COSIGNATURE
from yaosu.catalog import service as catalog
from yaosu.catalog.labels import OPENNESS
from yaosu.catalog.models import Dataset
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context
from yaosu.demo import world
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import label
from yaosu.privacy import service as privacy
from yaosu.privacy import unit as privacy_unit
from yaosu.privacy.models import Screen

DEMO_PASSWORD = "yaosu-demo-2026"  # development only: refused when YAOSU_ENV=production

ORGS = [
    # key, name, kinds, department, uscc
    ("platform", "要素数据交易平台运营中心", ["platform"], None, None),
    ("bureau", "江州市数据局", ["provider"], None, None),
    ("ai", "智谷人工智能科技有限公司", ["operator", "consumer"], None, None),
    ("coop", "青禾农民专业合作社", ["consumer"], None, None),
    ("cac", "江州市委网信办", ["regulator"], "网信", None),
    ("dsj", "江州省数据局", ["regulator"], "数据局", None),
    ("assessor", "诚信数据资产评估有限公司", ["assessor"], None, None),
]

USERS = [
    # username, org key, role, display name
    ("platform-admin", "platform", "admin", "平台管理员"),
    ("bureau-admin", "bureau", "admin", "市数据局管理员"),
    ("bureau-analyst", "bureau", "member", "市数据局数据专员"),
    ("bureau-reviewer", "bureau", "reviewer", "市数据局审核员"),
    ("ai-analyst", "ai", "admin", "智谷算法工程师"),
    ("coop-manager", "coop", "admin", "合作社理事长"),
    ("cac-inspector", "cac", "reviewer", "网信办检查员"),
    ("dsj-inspector", "dsj", "reviewer", "省数据局监管员"),
    ("assessor", "assessor", "admin", "评估师"),
]

DATASETS: list[tuple[Callable[[Path], Path], str, DatasetCreate]] = [
    (
        world.farm_sales,
        "farm_sales_2024_gbk.csv",
        DatasetCreate(
            title="2024年各乡镇农产品销售数据",
            description="全市各乡镇、村主要农产品月度销量、销售额与收购均价，来自农业农村部门统计报表。",
            keywords=["农产品", "乡村振兴", "销售", "农业统计"],
            theme="农业农村",
            licence="CC-BY-4.0",
            update_frequency="monthly",
            openness="open",
        ),
    ),
    (
        world.insured_residents,
        "insured_residents_utf8bom.csv",
        DatasetCreate(
            title="江州市城乡居民社会保险参保人员信息",
            description="城乡居民养老与医疗保险参保人员明细，含姓名、身份证号、手机号等个人信息，须申请并经审核后在平台内受控使用。",
            keywords=["社会保障", "参保", "个人信息"],
            theme="社会保障",
            licence="有条件开放协议",
            update_frequency="quarterly",
            openness="conditional",
        ),
    ),
    (
        world.enterprise_power,
        "enterprise_power_2024.ndjson",
        DatasetCreate(
            title="江州市重点企业月度用电量",
            description="重点企业逐月用电量，涉及企业经营信息，不予开放。",
            keywords=["能源", "用电量", "企业"],
            theme="能源",
            licence="不予开放",
            update_frequency="monthly",
            openness="closed",
        ),
    ),
]


@dataclass
class DemoWorld:
    created: bool
    users: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # username, org, role, name
    datasets: list[tuple[str, str, str]] = field(default_factory=list)  # id, title, openness label


def seed(ctx: Context) -> DemoWorld:
    if ctx.settings.env == "production":
        raise RuntimeError("the demo world is for development only (YAOSU_ENV=production)")
    system = system_actor()
    with ctx.db.transaction() as session:
        created = (
            session.scalar(select(Organisation.id).where(Organisation.name == ORGS[1][1])) is None
        )
        if created:
            orgs = {}
            for key, name, kinds, department, code in ORGS:
                orgs[key] = accounts.create_org(
                    session, system, name=name, kinds=kinds, department=department, uscc=code
                )
            for username, key, role, display in USERS:
                accounts.create_user(
                    session,
                    system,
                    org_id=orgs[key].id,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display,
                )
    with ctx.db.transaction() as session:
        bureau_user = session.scalar(select(User).where(User.username == "bureau-admin"))
        assert bureau_user is not None
        bureau = accounts.actor_for(session, bureau_user)
    folder = ctx.settings.home_dir / "demo-files"
    folder.mkdir(parents=True, exist_ok=True)
    for make, filename, meta in DATASETS:
        # Resumable: a dataset (or its version) missing after an interrupted run is made now.
        with ctx.db.transaction() as session:
            ds = session.scalar(
                select(Dataset).where(
                    Dataset.title == meta.title, Dataset.owner_org_id == bureau.org_id
                )
            ) or catalog.create_dataset(session, bureau, meta)
        if ds.latest_version == 0:
            path = make(folder / filename)
            catalog.ingest_version(
                ctx.db, ctx.store, ctx.settings, bureau, ds.id, path, filename=filename
            )
    screen_and_review(ctx)
    authorise(ctx)
    register_rights(ctx)
    witness_the_log(ctx)
    return describe(ctx, created)


def _actor(session: Any, username: str) -> Any:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return accounts.actor_for(session, user)


def authorise(ctx: Context) -> None:
    """The cooperative asks for the residents' data for rural revitalisation; the 网信 office
    narrows the budget, the bureau approves, and the contract has been used twice. A second
    request waits in the reviewers' inboxes."""
    from yaosu.authorization import service as authorization
    from yaosu.authorization.models import AccessRequest
    from yaosu.authorization.schemas import Conditions, RequestCreate

    with ctx.db.transaction() as session:
        if session.scalar(select(AccessRequest.id).limit(1)):
            return
        coop, cac, reviewer = (
            _actor(session, u) for u in ("coop-manager", "cac-inspector", "bureau-reviewer")
        )
        residents = session.scalar(select(Dataset).where(Dataset.title.contains("参保人员")))
        assert residents is not None
        fields = ["所属乡镇", "参保类型", "缴费档次(元)"]
        req = authorization.submit_request(
            session,
            ctx.settings,
            coop,
            RequestCreate(
                purpose="rural_revitalisation",
                datasets={residents.id: fields},
                operations=["aggregate"],
                days=180,
                max_uses=200,
                epsilon=4.0,
                justification="按乡镇统计参保结构与缴费档次，测算农业生产互助资金需求。",
            ),
        )
        authorization.review(
            session,
            ctx.settings,
            cac,
            req.id,
            decision="conditional",
            reason="个人信息用于统计，预算减半 / statistics only; budget halved",
            conditions=Conditions(epsilon=2.0),
        )
        done = authorization.review(
            session,
            ctx.settings,
            reviewer,
            req.id,
            decision="approve",
            reason="用途正当、字段必要 / a legitimate purpose, needed fields",
        )
        assert done.contract_id is not None
        for epsilon in (0.5, 0.25):
            authorization.use(
                session,
                coop,
                done.contract_id,
                operation="aggregate",
                dataset_id=residents.id,
                fields=["所属乡镇"],
                epsilon=epsilon,
            )
        authorization.submit_request(
            session,
            ctx.settings,
            coop,
            RequestCreate(
                purpose="public_welfare",
                datasets={residents.id: ["所属乡镇", "参保状态"]},
                operations=["aggregate"],
                days=30,
                epsilon=1.0,
                justification="核对本社成员所在乡镇的参保状态，用于互助救济名单测算。",
            ),
        )


def register_rights(ctx: Context) -> None:
    """The bureau's holding right over the farm sales is registered (certificate issued);
    its processing-use licence to the AI company is in public notice, open to objection."""
    from datetime import timedelta

    from yaosu.rights import service as rights
    from yaosu.rights.models import Registration

    with ctx.db.transaction() as session:
        if session.scalar(select(Registration.id).limit(1)):
            return
        bureau, platform, ai = (
            _actor(session, u) for u in ("bureau-admin", "platform-admin", "ai-analyst")
        )
        farm = session.scalar(select(Dataset).where(Dataset.title.contains("农产品")))
        assert farm is not None
        holding = rights.apply(
            session,
            ctx.settings,
            bureau,
            kind="holding",
            dataset_id=farm.id,
            statement="市农业农村部门统计报表汇集形成，由本局依法归集持有。",
            purposes=[],
        )
        rights.accept(session, ctx.settings, platform, holding.id, note="材料齐全 / complete")
        rights.formal_review(
            session, ctx.settings, platform, holding.id, passed=True, note="形式审查通过 / passed"
        )
        # The demo does not wait ten days: its notice window is moved into the past.
        earlier = timedelta(days=ctx.settings.notice_days + 1)
        assert holding.notice_starts_at is not None and holding.notice_ends_at is not None
        holding.notice_starts_at -= earlier
        holding.notice_ends_at -= earlier
        rights.issue(session, ctx.settings, platform, holding.id)
        licence = rights.apply(
            session,
            ctx.settings,
            bureau,
            kind="processing",
            dataset_id=farm.id,
            parent_id=holding.grant_id,
            holder_org_id=ai.org_id,
            purposes=["rural_revitalisation"],
            years=2,
            statement="许可智谷科技加工使用，训练农产品需求预测模型。",
        )
        rights.accept(session, ctx.settings, platform, licence.id, note="材料齐全 / complete")
        rights.formal_review(
            session, ctx.settings, platform, licence.id, passed=True, note="形式审查通过 / passed"
        )


def screen_and_review(ctx: Context) -> None:
    """Every demo dataset is screened; the bureau's reviewer confirms each screen, so the open
    farm data is readable by all and the residents' data is confirmed as personal."""
    with ctx.db.transaction() as session:
        reviewer_user = session.scalar(select(User).where(User.username == "bureau-reviewer"))
        analyst_user = session.scalar(select(User).where(User.username == "bureau-analyst"))
        assert reviewer_user is not None and analyst_user is not None
        reviewer = accounts.actor_for(session, reviewer_user)
        analyst = accounts.actor_for(session, analyst_user)
        datasets = list(
            session.scalars(select(Dataset).where(Dataset.owner_org_id == reviewer.org_id))
        )
        for ds in datasets:
            if ds.latest_version == 0 or session.scalar(
                select(Screen.id).where(Screen.dataset_id == ds.id, Screen.status == "confirmed")
            ):
                continue
            screen = privacy.screen_version(session, ctx.store, ctx.settings, analyst, ds.id)
            privacy.review(session, reviewer, screen.id, note="演示：已人工复核 / demo: reviewed")
            # The reviewer declares what one person is in each personal dataset (the screen's
            # proposal), so differential privacy is answered per person, not per row.
            proposal = privacy_unit.propose(screen.findings) if screen.personal else None
            if proposal is not None:
                privacy_unit.declare(
                    session,
                    reviewer,
                    ds.id,
                    columns=proposal.columns,
                    note=f"演示：采用筛查建议 / demo: the screen's proposal ({proposal.why_en})",
                )


WITNESSES = [
    ("cac-inspector", "cac.jiangzhou.example/witness"),
    ("dsj-inspector", "dsj.jiangzhou.example/witness"),
]


def witness_the_log(ctx: Context) -> None:
    """Both regulators register witness keys and co-sign a fresh checkpoint. In the demo their
    private keys sit in ``$YAOSU_HOME/witnesses``; in reality each regulator keeps its own."""
    folder = ctx.settings.home_dir / "witnesses"
    with ctx.db.transaction() as session:
        signers = []
        for username, name in WITNESSES:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            regulator = accounts.actor_for(session, user)
            signer = load_or_create(folder / f"{username}.key", name, COSIGNATURE)
            if not session.scalar(select(Witness.id).where(Witness.name == name)):
                transparency.register_witness(session, regulator, signer.verifier_key())
            signers.append((regulator, signer))
    with ctx.db.transaction() as session:
        checkpoint = transparency.make_checkpoint(session, transparency.log_signer(ctx.settings))
        assert checkpoint is not None
        size, body = checkpoint.size, checkpoint.note.split("\n\n")[0] + "\n"
    for regulator, signer in signers:
        with ctx.db.transaction() as session:
            transparency.cosign(session, regulator, size, signer.sign(body))


def describe(ctx: Context, created: bool) -> DemoWorld:
    out = DemoWorld(created=created)
    with ctx.db.transaction() as session:
        orgs = {o.id: o.name for o in session.scalars(select(Organisation))}
        wanted = {u[0] for u in USERS}
        for user in session.scalars(select(User).order_by(User.username)):
            if user.username in wanted:
                out.users.append((user.username, orgs[user.org_id], user.role, user.display_name))
        listing = catalog.list_datasets(session, system_actor(), limit=100)
        out.datasets = [
            (d.id, d.title, label(OPENNESS, d.openness).render("zh-CN")) for d in listing.items
        ]
    return out


def console_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on ``host:port``."""
    if host in ("", "0.0.0.0", "::"):  # every interface: this machine reaches it locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def print_logins(
    demo: DemoWorld, console: Console | None = None, *, url: str = "http://127.0.0.1:8000"
) -> None:
    """The demo's logins and datasets, and ``url``: where the console will be served."""
    console = console or Console()
    logins = Table(
        "用户名 / username",
        "机构 / organisation",
        "角色 / role",
        "姓名 / name",
        title=f"演示账号（密码均为 {DEMO_PASSWORD}） / demo logins, password {DEMO_PASSWORD}",
    )
    for user in demo.users:
        logins.add_row(*user)
    console.print(logins)
    datasets = Table(title="演示数据集 / demo datasets")
    datasets.add_column("ID", no_wrap=True)
    datasets.add_column("数据集 / dataset")
    datasets.add_column("开放 / openness", no_wrap=True)
    for dataset in demo.datasets:
        datasets.add_row(*dataset)
    console.print(datasets)
    console.print(
        "审计日志已签发检查点并由网信、数据局见证联署；导出并离线验证 / the audit log is checkpointed and "
        "co-signed by both regulators; verify it offline with:\n"
        '  yaosu audit export audit.ndjson && yaosu audit verify audit.ndjson --key "$(yaosu audit key)"'
    )
    console.print(f"控制台 / console: {url}   API 文档 / API docs: {url}/docs")
