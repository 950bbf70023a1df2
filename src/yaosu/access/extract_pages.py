"""The console's extract button: the contract page posts here, the extract is made under the
contract (one use, decided before any work) and its file downloads; a refusal goes back to
the contract page, which shows it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from yaosu.access import extract
from yaosu.console.render import back_with_error
from yaosu.kernel.errors import YaosuError
from yaosu.web.deps import ContextDep, PageActor

pages = APIRouter(include_in_schema=False)


@pages.post("/contracts/{contract_id}/extracts")
def make_extract(
    request: Request,
    contract_id: str,
    actor: PageActor,
    ctx: ContextDep,
    dataset: Annotated[str, Form(max_length=40)] = "",
    fmt: Annotated[str, Form(alias="format", max_length=10)] = "csv",
) -> Response:
    try:
        made = extract.run_extract(ctx, actor, contract_id=contract_id, dataset_id=dataset, fmt=fmt)
    except YaosuError as exc:
        if exc.status == 404:  # the contract itself is hidden: the error page says so, once
            raise
        return back_with_error(request, f"/contracts/{contract_id}", exc, session=None)
    return RedirectResponse(f"/api/v1/extracts/{made.id}/file", status_code=303)
