"""The application factory: `/v1` API, `/hooks`, health, and optionally the workers.

`create_app(settings, dispatcher=True)` is what `textopt serve` runs on one SQLite file: the
API, and in the same event loop the dispatcher and the webhook delivery loop. With
`dispatcher=False` the app serves HTTP only, beside separate `textopt dispatch` workers
(PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from textopt.accounts.limits import RequestLimiter
from textopt.api import (
    accounts,
    campaigns,
    consent,
    contacts,
    gdpr,
    health,
    hooks,
    messages,
    segments,
)
from textopt.api import webhooks as webhook_routes
from textopt.api.deps import limit
from textopt.api.problems import install_problem_handlers
from textopt.config import Settings
from textopt.db.engine import create_db_engine, session_factory
from textopt.dispatch.worker import Dispatcher
from textopt.web import mount_web
from textopt.webhooks.delivery import WebhookDeliverer

__all__ = ["create_app"]

DESCRIPTION = """Consent-first SMS and email marketing.

Authenticate with `Authorization: Bearer <API key>` (create one with `textopt apikeys
create`), or with the session cookie of `POST /v1/auth/login` plus its `X-CSRF-Token` on
changes. Errors are RFC 9457 problem details naming the `field` at fault. Lists are
paginated by cursor: pass a page's `next` as `after`.
"""


def create_app(
    settings: Settings,
    *,
    dispatcher: bool,
    engine: Engine | None = None,
    limiter: RequestLimiter | None = None,
) -> FastAPI:
    """Build the ASGI app; with `dispatcher`, it also sends messages and webhooks."""
    db = engine if engine is not None else create_db_engine(settings.database_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not dispatcher:
            yield
            return
        workers = Dispatcher(db, settings)
        deliverer = WebhookDeliverer(db, settings)
        tasks = [asyncio.create_task(workers.run()), asyncio.create_task(deliverer.run())]
        app.state.workers = tasks
        try:
            yield
        finally:
            workers.stop()
            deliverer.stop()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(
        title="textopt",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = db
    app.state.sessions = session_factory(db)
    app.state.limiter = limiter or RequestLimiter()
    install_problem_handlers(app)
    public = [Depends(limit("public", per_minute=lambda s: s.public_rate_per_minute))]
    app.include_router(health.router, dependencies=public)
    for module in (accounts, contacts, consent, segments, campaigns, messages, gdpr):
        app.include_router(module.router)
    app.include_router(webhook_routes.router)
    app.include_router(hooks.router)
    mount_web(app)  # the dashboard, signup pages and short links (last: it adds `/{code}`)
    return app
