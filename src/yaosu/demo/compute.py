"""The demo world's compute-to-data: the AI company files its sales-statistics algorithm and
the 网信 office files it (a number is issued and the text published); the company asks for
``compute`` on 石桥镇's input-demand records naming that filing; the reviewers approve, the
company accepts; a job runs in the sandbox (aggregates over data without personal
information: no ethics review is needed), 石桥镇's reviewer approves the algorithm's hash
for the dataset (its trusted list), and the checked outputs are released. A second job, by
calendar month too, leaves cells of three records: it is held for 石桥镇's reviewer. A second filing waits for the 网信 office's decision. The company's ethics committee
reviews and approves a third algorithm, over the elderly in the social-insurance data.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization import service as authorization
from yaosu.authorization.schemas import RequestCreate
from yaosu.catalog import service as catalog
from yaosu.compute import bundles, ethics, jobs
from yaosu.compute import service as algorithms
from yaosu.compute.schemas import (
    AlgorithmFile,
    CommitteeCreate,
    JobCreate,
    MeetingRecord,
    ReviewApply,
)
from yaosu.context import Context
from yaosu.kernel.actor import Actor, system_actor
from yaosu.tasks import service as tasks

FOLDER = Path(str(resources.files("yaosu.demo") / "algorithms" / "village_inputs"))
DATASET = "石桥镇人民政府2023—2025年农资需求记录"
FIELDS = ["村", "品类", "年月", "月份", "需求量(吨)"]

FILING = {
    "name": "村级农资需求统计与下月预测",
    "algorithm_type": "scheduling",
    "service_form": "平台内计算（数据不出域），输出经检查后交付",
    "field": "乡村振兴·农业生产与农资调配",
    "uses": ["statistics", "forecasting"],
    "subjects": ["aggregates"],
    "responsible": {"name": "李明", "title": "算法安全负责人", "contact": "liming@zhigu.example"},
    "self_assessment": (
        "算法仅按村、品类汇总农资需求并做加权平均预测，不处理个人信息，不对个人作出决策；"
        "输出为汇总表，每格注明记录数，由平台按最小单元格和支配规则检查后交付。"
    ),
    "public_text": {
        "principle": "按村和品类汇总月度农资需求，以近几个月的线性加权平均预测下月需求。",
        "purpose": "为乡镇农资调配和农资企业备货提供需求参考。",
        "mechanism": "在平台沙箱中运行于授权数据之上，原始数据不出域，输出经检查放行。",
    },
}


def _actor(session: Session, username: str) -> Actor:
    user = accounts.user_named(session, username=username)
    found = accounts.active_actor(session, user_id=user.id) if user is not None else None
    assert found is not None, username
    return found


def _run_queued(ctx: Context) -> None:
    """The demo has no worker running while it is built: the queued tasks run here, in order."""
    while tasks.run_one(ctx, name="demo") is not None:
        pass


def compute(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        if algorithms.list_algorithms(session, system_actor()):
            return
        ai, cac, dsj, reviewer = (
            _actor(session, u)
            for u in ("ai-analyst", "cac-inspector", "dsj-inspector", "shiqiao-reviewer")
        )
    alg = algorithms.run_file(
        ctx, ai, data=AlgorithmFile.model_validate(FILING), bundle=bundles.zip_folder(FOLDER)
    )
    with ctx.db.transaction() as session:
        (filing,) = algorithms.filings_of(session, algorithm_id=alg.id)
        algorithms.decide_filing(
            session,
            cac,
            settings=ctx.settings,
            filing_id=filing.id,
            approve=True,
            reason="材料齐全，予以备案",
        )
        number = algorithms.get_algorithm(session, cac, algorithm_id=alg.id).filing_number
        data = next(
            d
            for d in catalog.list_datasets(session, system_actor(), limit=100).items
            if d.title == DATASET
        )
        req = authorization.submit_request(
            session,
            ai,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="rural_revitalisation",
                datasets={data.id: FIELDS},
                operations=["compute"],
                algorithm=number,
                days=180,
                max_uses=50,
                justification="在平台内运行已备案算法，按村汇总农资需求并预测下月需求，原始数据不出域。",
            ),
        )
        reviewers = {a.org_id: a for a in (reviewer, cac, dsj)}
        done = None
        for review in authorization.reviews_of(session, request_id=req.id):
            done = authorization.review(
                session,
                reviewers[review.reviewer_org_id],
                settings=ctx.settings,
                request_id=req.id,
                decision="approve",
                reason="算法已备案，输出为汇总统计，同意在平台内计算",
            )
        assert done is not None and done.contract_id is not None
        authorization.accept(session, ai, contract_id=done.contract_id)
        contract_id = done.contract_id
    released = jobs.run_submit(
        ctx,
        ai,
        data=JobCreate(contract_id=contract_id, algorithm_id=alg.id, params={"months": 3}),
    )
    with ctx.db.transaction() as session:
        jobs.decide_approval(
            session,
            reviewer,
            job_id=released.id,
            approve=True,
            reason="已审阅算法代码与备案材料，同意在本数据集上运行",
            trust=True,
        )
    _run_queued(ctx)
    # by calendar month too: three records a cell, so the checks hold them for a person
    jobs.run_submit(
        ctx,
        ai,
        data=JobCreate(
            contract_id=contract_id, algorithm_id=alg.id, params={"months": 3, "by_month": True}
        ),
    )
    _run_queued(ctx)
    waiting = dict(FILING, name="乡镇农资配送调度（试运行）", field="乡村振兴·农资配送")
    algorithms.run_file(
        ctx, ai, data=AlgorithmFile.model_validate(waiting), bundle=bundles.zip_folder(FOLDER)
    )
    _ethics(ctx)


COMMITTEE = [
    {"name": "王立新", "expertise": "technical", "gender": "male", "chair": True},
    {"name": "陈静", "expertise": "technical", "gender": "female"},
    {"name": "赵强", "expertise": "technical", "gender": "male"},
    {"name": "吴刚", "expertise": "technical", "gender": "male"},
    {"name": "刘敏", "expertise": "ethics", "gender": "female", "external": True,
     "affiliation": "江州大学哲学学院"},
    {"name": "孙伟", "expertise": "legal", "gender": "male", "external": True,
     "affiliation": "江州明理律师事务所"},
    {"name": "周红", "expertise": "other", "gender": "female", "affiliation": "公众代表"},
]  # fmt: skip
ELDERLY = dict(
    FILING,
    name="城乡居民参保老年人分布统计（养老服务需求）",
    field="公共服务·养老服务规划",
    uses=["statistics"],
    subjects=["elderly"],
    self_assessment=(
        "算法按乡镇、年龄段统计参保老年人数，用于养老服务设施规划；输入含个人信息，"
        "只输出汇总结果，不对个人作出决定。"
    ),
)


def _ethics(ctx: Context) -> None:
    """The AI company sets up its ethics committee (Art. 7: seven members, an external ethics
    and a legal member, both genders); it files a statistics algorithm over the elderly in the
    social-insurance data, which needs an ethics review (personal information, people as its
    subjects); the committee meets and approves it, a follow-up due in 12 months."""
    with ctx.db.transaction() as session:
        ai, secretary, cac = (
            _actor(session, u) for u in ("ai-analyst", "ai-ethics", "cac-inspector")
        )
    elderly = algorithms.run_file(
        ctx, ai, data=AlgorithmFile.model_validate(ELDERLY), bundle=bundles.zip_folder(FOLDER)
    )
    with ctx.db.transaction() as session:
        (filing,) = algorithms.filings_of(session, algorithm_id=elderly.id)
        algorithms.decide_filing(
            session,
            cac,
            settings=ctx.settings,
            filing_id=filing.id,
            approve=True,
            reason="材料齐全，予以备案",
        )
        committee = ethics.create_committee(
            session,
            ai,
            data=CommitteeCreate.model_validate(
                {
                    "name": "智谷人工智能科技有限公司科技伦理委员会",
                    "members": COMMITTEE,
                    "entrusted": True,
                    "registration": "KJLL-360100-2026-0012",
                    "term_ends_on": ethics.months_after(date.today(), 36),
                }
            ),
        )
        insured = next(
            d
            for d in catalog.list_datasets(session, system_actor(), limit=100).items
            if d.title.startswith("江州市城乡居民社会保险")
        )
        review = ethics.apply(
            session,
            ai,
            data=ReviewApply.model_validate(
                {
                    "committee_id": committee.id,
                    "algorithm_id": elderly.id,
                    "datasets": [insured.id],
                    "application": {
                        "plan": "在平台沙箱内按乡镇、年龄段统计参保老年人数，为养老服务设施选址提供依据。",
                        "risks": "输入含姓名、身份证号等个人信息；小单元格可能暴露个人参保情况。",
                        "measures": "原始数据不出域；输出只含汇总结果，经最小单元格与支配规则检查；不对个人作出决定。",
                        "personal_information": "仅使用合同授权字段，身份证号按合同脱敏；个人信息不离开平台。",
                    },
                }
            ),
        )
        ethics.decide(
            session,
            secretary,
            review_id=review.id,
            data=MeetingRecord.model_validate(
                {
                    "held_on": date.today(),
                    "present": [0, 1, 2, 4, 5, 6],
                    "recused": [2],  # 赵强 worked on the algorithm
                    "votes": {
                        0: "approve",
                        1: "approve",
                        4: "approve_with_changes",
                        5: "approve",
                        6: "approve",
                    },
                    "conditions": "每季度向委员会报告输出检查结果",
                    "minutes": "赵强参与算法研发，回避表决。",
                }
            ),
            settings=ctx.settings,
        )
