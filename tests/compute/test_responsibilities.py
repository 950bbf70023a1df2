"""A compute job states who answers for what (责任边界) as contracts and products do: each
part with its duties, the algorithm's provider with the filing number, on the demo's job; the
job's page shows them in the shared panel."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.console.test_pages import login
from yaosu.accounts.schemas import ResponsibilityPublic
from yaosu.compute import jobs
from yaosu.compute.models import Algorithm, ComputeJob
from yaosu.context import Context


def test_a_job_states_each_part_with_its_duties(app_client: TestClient, ctx: Context) -> None:
    with ctx.db.transaction() as session:
        job = session.scalars(select(ComputeJob).order_by(ComputeJob.created_at)).first()
        assert job is not None
        alg = session.get(Algorithm, job.algorithm_id)
        assert alg is not None and alg.filing_number
        job_id, number, alg_id = job.id, alg.filing_number, alg.id
        # what the job's API response carries (routes.job_public), in its schema
        parts = [
            ResponsibilityPublic.model_validate(p).model_dump()
            for p in jobs.responsibilities(session, job)
        ]
    assert [p["part"] for p in parts] == ["provider", "operator", "algorithm_provider", "consumer"]
    (provider,) = [p for p in parts if p["part"] == "provider"]
    assert "provider.approval" in [d["duty"] for d in provider["duties"]]
    (algorithm,) = [p for p in parts if p["part"] == "algorithm_provider"]
    assert algorithm["algorithm"]["filing_number"] == number
    assert [d["rule"] for d in algorithm["duties"]] == ["arr_7", "arr_24"]
    assert all(p["org_name"] for p in parts)
    login(app_client, "ai-analyst")
    page = app_client.get(f"/compute/jobs/{job_id}").text
    panel = page[page.index('id="responsibilities"') :]
    assert number in panel and f'href="/algorithms/{alg_id}"' in panel
    assert "《互联网信息服务算法推荐管理规定》第二十四条" in panel
