"""The FastAPI application: every domain's router, one error shape, OpenAPI at /openapi.json."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from yaosu import __version__
from yaosu.accounts.routes import router as accounts_router
from yaosu.audit.routes import router as audit_router
from yaosu.catalog.routes import router as catalog_router
from yaosu.context import Context
from yaosu.kernel.db import Database
from yaosu.kernel.settings import Settings, get_settings
from yaosu.kernel.storage import ObjectStore
from yaosu.web import install_error_handlers


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings)
    if migrate:
        db.upgrade()
    store = ObjectStore(settings.data_dir)
    store.sweep_tmp()
    state = Context(settings=settings, db=db, store=store)
    app = FastAPI(
        title="Yaosu 要素",
        version=__version__,
        description="可信数据要素流通平台 / trusted data-element exchange",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.yaosu = state
    install_error_handlers(app)
    for router in (accounts_router, catalog_router, audit_router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        # The web console arrives with its own issue; until then the front door is the API docs.
        return RedirectResponse("/docs")

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
