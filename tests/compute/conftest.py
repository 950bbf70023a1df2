"""The compute tests share the demo world's AI company (it files and runs algorithms), the 网信
office (it decides filings) and the demo's own algorithm bundle."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import actor
from yaosu.compute import bundles, service
from yaosu.compute.schemas import AlgorithmFile
from yaosu.context import Context

FIELDS = ["村", "品类", "年月", "月份", "需求量(吨)"]
BUNDLE = Path(str(resources.files("yaosu.demo") / "algorithms" / "village_inputs"))


def form(**changes: Any) -> AlgorithmFile:
    doc: dict[str, Any] = {
        "name": "村级农资需求统计与下月预测",
        "algorithm_type": "scheduling",
        "service_form": "平台内计算（数据不出域）",
        "field": "乡村振兴·农业生产",
        "uses": ["statistics", "forecasting"],
        "subjects": ["aggregates"],
        "responsible": {"name": "李明", "title": "算法安全负责人", "contact": "li@zhigu.example"},
        "self_assessment": "仅输出按乡镇汇总的统计与预测，不涉及个人，不作个体决策。",
        "public_text": {
            "principle": "按乡镇和产品汇总月度销量，加权平均预测下月需求。",
            "purpose": "为乡镇农资调配提供需求参考。",
            "mechanism": "在平台沙箱内运行，输出经小单元格与支配规则检查后放行。",
        },
        "started_on": date.today(),
    }
    doc.update(changes)
    return AlgorithmFile.model_validate(doc)


def run_queued(ctx: Context) -> None:
    """No worker runs in the tests: the queued tasks run here, in order, until none is left."""
    from yaosu.tasks import service as tasks

    while tasks.run_one(ctx, name="test") is not None:
        pass


def bundle_bytes(folder: Path = BUNDLE) -> bytes:
    return bundles.zip_folder(folder)


def file_and_decide(ctx: Context, **changes: Any) -> str:
    """The AI company files the demo's algorithm and the 网信 office files it."""
    analyst, cac = actor(ctx, "ai-analyst"), actor(ctx, "cac-inspector")
    alg = service.run_file(ctx, analyst, data=form(**changes), bundle=bundle_bytes())
    with ctx.db.transaction() as session:
        (filing,) = service.filings_of(session, algorithm_id=alg.id)
        service.decide_filing(
            session, cac, settings=ctx.settings, filing_id=filing.id, approve=True, reason=""
        )
    return alg.id


@pytest.fixture
def filed(ctx: Context) -> str:
    return file_and_decide(ctx)


def compute_contract(
    ctx: Context, algorithm_id: str, *, fields: list[str] | None = None, models: bool = False
) -> str:
    """A contract of the AI company's for ``compute`` on 石桥镇's input-demand records, naming
    the algorithm by its filing number; approved by every reviewer the request needs, accepted."""
    from tests.conftest import dataset_id
    from yaosu.authorization import service as authorization
    from yaosu.authorization.schemas import RequestCreate
    from yaosu.compute.models import Algorithm

    ai, cac, dsj, reviewer = (
        actor(ctx, u) for u in ("ai-analyst", "cac-inspector", "dsj-inspector", "shiqiao-reviewer")
    )
    data = dataset_id(ctx, "石桥镇人民政府2023")
    with ctx.db.transaction() as session:
        alg = session.get(Algorithm, algorithm_id)
        assert alg is not None and alg.filing_number
        req = authorization.submit_request(
            session,
            ai,
            settings=ctx.settings,
            data=RequestCreate(
                purpose="rural_revitalisation",
                datasets={data: fields or FIELDS},
                operations=["compute"],
                algorithm=alg.filing_number,
                models=models,
                days=30,
                max_uses=20,
                justification="测试：在平台内运行已备案算法。",
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
                reason="同意",
            )
        assert done is not None and done.contract_id is not None
        authorization.accept(session, ai, contract_id=done.contract_id)
        return str(done.contract_id)
