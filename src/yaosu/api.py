"""The FastAPI application: every domain's router, one error shape, OpenAPI at /openapi.json."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from yaosu import __version__
from yaosu.access.extract_pages import pages as access_extract_pages
from yaosu.access.pages import router as access_pages
from yaosu.access.routes import router as access_router
from yaosu.access.service import close_engines
from yaosu.accounts.pages import router as accounts_pages
from yaosu.accounts.routes import router as accounts_router
from yaosu.audit import transparency
from yaosu.audit.pages import router as audit_pages
from yaosu.audit.routes import router as audit_router
from yaosu.authorization.pages import router as authorization_pages
from yaosu.authorization.routes import router as authorization_router
from yaosu.catalog.pages import router as catalog_pages
from yaosu.catalog.routes import router as catalog_router
from yaosu.compute.ethics_pages import router as ethics_pages
from yaosu.compute.pages import router as compute_pages
from yaosu.compute.routes import router as compute_router
from yaosu.console.pages import router as console_pages
from yaosu.context import Context, open_context
from yaosu.inbox.pages import router as inbox_pages
from yaosu.kernel.bodytimeout import BodyTimeoutMiddleware
from yaosu.kernel.settings import Settings
from yaosu.lineage.routes import router as lineage_router
from yaosu.market.pages import router as market_pages
from yaosu.market.routes import router as market_router
from yaosu.privacy.pages import router as privacy_pages
from yaosu.privacy.routes import router as privacy_router
from yaosu.privacy.unit_routes import pages as privacy_unit_pages
from yaosu.privacy.unit_routes import router as privacy_unit_router
from yaosu.rights.pages import router as rights_pages
from yaosu.rights.routes import router as rights_router
from yaosu.tasks import service as tasks
from yaosu.tasks.routes import router as tasks_router
from yaosu.web.errors import declare_errors, error_response, install_error_handlers
from yaosu.web.params import BlankFormFields
from yaosu.web.security import security_headers, storable_text

STATIC = Path(__file__).resolve().parent / "console" / "static"

log = logging.getLogger("yaosu")
THREADS = 400


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Signs a checkpoint every ``audit_checkpoint_seconds`` while the log grows, and runs
    ``task_workers`` background-task workers."""
    ctx: Context = app.state.yaosu
    # Sync endpoints and FastAPI's response serialisation share one thread limiter. A request
    # holding a row lock (every write holds the audit log's) still needs a thread to finish;
    # with the default 40 threads, 40 requests waiting on that lock would starve it forever.
    # With far more threads than database connections (the pool caps those at 50 and answers
    # 503 BUSY when none frees up in time), the holder always finds a thread.
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    schedule = None
    if ctx.settings.audit_checkpoint_seconds > 0:
        schedule = asyncio.create_task(_checkpoints(ctx, ctx.settings.audit_checkpoint_seconds))
    workers = [tasks.start_worker(ctx) for _ in range(ctx.settings.task_workers)]
    yield
    for worker in workers:
        await run_in_threadpool(worker.stop)
    await run_in_threadpool(close_engines, ctx)
    if schedule is not None:
        schedule.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await schedule


async def _checkpoints(ctx: Context, every: int) -> None:
    signer = transparency.log_signer(ctx.settings)

    def once() -> None:
        with ctx.db.transaction() as session:
            transparency.make_checkpoint(session, signer=signer)

    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(once)
        except Exception:  # keep the schedule alive; a corrupt log is logged loudly each time
            log.exception("scheduled checkpoint failed")


def create_app(settings: Settings | None = None, *, migrate: bool = False) -> FastAPI:
    """The application over ``open_context``; ``migrate`` applies the migrations first
    (``yaosu serve`` does). The schema is not checked otherwise: an app built only for its
    OpenAPI document needs no database."""
    state = open_context(settings, migrate=migrate, check_schema=False)
    settings = state.settings
    transparency.log_signer(settings)  # the log's signing key exists from the first start
    app = FastAPI(
        lifespan=_lifespan,
        title="Yaosu 要素",
        version=__version__,
        description="可信数据要素流通平台 / trusted data-element exchange",
        openapi_url="/openapi.json",
        docs_url="/docs",
        dependencies=[Depends(storable_text)],
    )
    app.state.yaosu = state
    install_error_handlers(app)
    routers = (
        access_router,
        accounts_router,
        catalog_router,
        privacy_router,
        privacy_unit_router,
        authorization_router,
        rights_router,
        market_router,
        lineage_router,
        compute_router,
        audit_router,
        tasks_router,
    )
    for router in routers:
        app.include_router(router)
    all_pages = (
        console_pages,
        access_pages,
        access_extract_pages,
        accounts_pages,
        catalog_pages,
        privacy_pages,
        privacy_unit_pages,
        authorization_pages,
        rights_pages,
        market_pages,
        compute_pages,
        ethics_pages,
        audit_pages,
        inbox_pages,
    )
    for pages in all_pages:
        app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyTimeoutMiddleware, settings=settings, answer=error_response)
    app.add_middleware(BlankFormFields)
    app.middleware("http")(security_headers)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        """Browsers ask for it on every site, before reading the page's icon link."""
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    _declare_errors_in_openapi(app)
    return app


def _declare_errors_in_openapi(app: FastAPI) -> None:
    """The OpenAPI document lists the error responses every operation can give, once."""
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
