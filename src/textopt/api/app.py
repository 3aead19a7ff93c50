"""The application factory: `/v1` API, `/hooks`, health, and optionally the workers.

`create_app(settings, dispatcher=True)` is what `textopt serve` runs on one SQLite file: the
API, and in the same event loop the dispatcher and the webhook delivery loop, started,
restarted when they die and stopped by one `Supervisor` whose report `/health` shows. With
`dispatcher=False` the app serves HTTP only, beside separate `textopt dispatch` workers
(PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from textopt.accounts.limits import RequestLimiter
from textopt.api import (
    accounts,
    campaigns,
    consent,
    contacts,
    conversations,
    events,
    flows,
    gdpr,
    health,
    hooks,
    keywords,
    messages,
    preferences,
    questions,
    segments,
)
from textopt.api import metrics as metrics_routes
from textopt.api import webhooks as webhook_routes
from textopt.api.bodies import BodyGuard
from textopt.api.openapi import ERROR_RESPONSES, install_openapi, operation_id
from textopt.api.webhook_events import declare_webhooks
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.contacts.importjobs import ImportRunner
from textopt.db.engine import create_db_engine, session_factory
from textopt.dispatch.worker import Dispatcher
from textopt.gdpr.retention import Housekeeper
from textopt.http.deps import limit
from textopt.http.problems import install_problem_handlers
from textopt.metrics import DispatchMetrics, Metrics
from textopt.supervisor import Backoff, Supervisor, WorkerFactory, WorkerReport
from textopt.web import mount_web
from textopt.webhooks.delivery import WebhookDeliverer

__all__ = ["create_app", "side_work"]

DESCRIPTION = """Consent-first SMS and email marketing.

Authenticate with `Authorization: Bearer <API key>` (create one with `textopt apikeys
create`), or with the session cookie of `POST /v1/auth/login` plus its `X-CSRF-Token` on
changes. Errors are RFC 9457 problem details naming the `field` at fault. Lists are
paginated by cursor: pass a page's `next` as `after`.
"""


def side_work(
    engine: Engine, settings: Settings, *, metrics: DispatchMetrics | None = None
) -> dict[str, WorkerFactory]:
    """The workers `textopt serve` supervises: dispatcher (with its own tasks), webhook
    deliverer, retention of files and records."""
    return {
        "dispatcher": lambda: Dispatcher(engine, settings, metrics=metrics),
        "webhooks": lambda: WebhookDeliverer(engine, settings),
        "retention": lambda: Housekeeper(engine, settings),
    }


def create_app(
    settings: Settings,
    *,
    dispatcher: bool,
    engine: Engine | None = None,
    limiter: RequestLimiter | None = None,
    workers: Mapping[str, WorkerFactory] | None = None,
    restart_backoff: Backoff | None = None,
) -> FastAPI:
    """Build the ASGI app; with `dispatcher`, it also sends messages and webhooks.

    `workers` replaces the supervised side work (default: `side_work`), `restart_backoff`
    the supervisor's delays between restarts.
    """
    db = engine if engine is not None else create_db_engine(settings.database_url)
    metrics = Metrics.for_engine(db)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        supervisor = None
        if dispatcher:
            supervisor = Supervisor(
                workers
                if workers is not None
                else side_work(db, settings, metrics=metrics.dispatch),
                backoff=restart_backoff,
            )
            app.state.supervisor = supervisor
            supervisor.start()
        try:
            yield
        finally:
            # imports under way end after their current batch, marked interrupted
            await asyncio.to_thread(app.state.import_runner.stop)
            if supervisor is not None:
                await supervisor.stop()

    app = FastAPI(
        title="textopt",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    # the secret key (maybe a key file) read once per app: the suppression list's keyed
    # digest and the Idempotency-Keys' fingerprints need it on every request
    app.state.secret_key = settings.resolved_secret_key()
    app.state.digester = address_digester(app.state.secret_key)
    app.state.engine = db
    app.state.sessions = session_factory(db)
    app.state.limiter = limiter or RequestLimiter()
    app.state.supervisor = None  # set while the lifespan runs the workers
    app.state.metrics = metrics
    metrics.workers.watch(lambda: _supervised(app))
    # the dashboard's imports run in threads of this process (`contacts.importjobs`)
    app.state.import_runner = ImportRunner(db, settings)
    install_problem_handlers(app)
    app.add_middleware(BodyGuard, upload_bytes=lambda: int(settings.max_upload_mb * 2**20))
    public = [Depends(limit("public", per_minute=lambda s: s.public_rate_per_minute))]
    app.include_router(health.router, dependencies=public)
    app.include_router(metrics_routes.router)
    for module in (
        accounts,
        contacts,
        consent,
        segments,
        campaigns,
        messages,
        events,
        questions,
        keywords,
        flows,
        gdpr,
        conversations,
        preferences,
    ):
        app.include_router(module.router)
    app.include_router(webhook_routes.router)
    app.include_router(hooks.router)
    mount_web(app)  # the dashboard, signup pages and short links (last: it adds `/{code}`)
    declare_webhooks(app)
    install_openapi(app)
    return app


def _supervised(app: FastAPI) -> dict[str, WorkerReport]:
    """The side work's report while the lifespan runs it (none otherwise)."""
    supervisor: Supervisor | None = app.state.supervisor
    return supervisor.report() if supervisor is not None else {}
