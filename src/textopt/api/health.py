"""`/health`: is the process up, the database reachable and the side work running (public).

For load balancers and monitors: 200 only when all is well, else 503 with what is wrong.
The workers' part comes from the supervisor's in-memory report (no I/O); it is present only
when the app runs the workers (`textopt serve` without `--no-dispatch`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from textopt.api.schemas import HealthRead
from textopt.db.engine import SNAPSHOT
from textopt.supervisor import Supervisor, WorkerReport, WorkerState

__all__ = ["router"]

router = APIRouter(tags=["health"])


def _database_problem(engine: Engine) -> str | None:
    """None when the database answers, else the error's type."""
    try:
        # A plain read transaction: on SQLite it must not queue for the write lock.
        with engine.connect().execution_options(**{SNAPSHOT: True}) as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure means "not ready"
        return type(exc).__name__
    return None


def _worker(report: WorkerReport) -> dict[str, Any]:
    body: dict[str, Any] = {"state": report.state.value, "restarts": report.restarts}
    if report.next_attempt_at is not None:
        body["next_attempt_at"] = report.next_attempt_at.isoformat()
    if report.last_error is not None:
        body["last_error"] = {
            "type": report.last_error.type,
            "message": report.last_error.message,
            "at": report.last_error.at.isoformat(),
        }
    return body


@router.get("/health", response_model=HealthRead, responses={503: {"model": HealthRead}})
def health(request: Request) -> JSONResponse:
    """200 `ok` when the database answers and every worker runs; else 503 and why."""
    database = _database_problem(request.app.state.engine)
    body: dict[str, Any] = {"status": "ok", "database": database or "ok"}
    supervisor: Supervisor | None = request.app.state.supervisor
    if supervisor is not None:
        reports = supervisor.report()
        body["workers"] = {name: _worker(report) for name, report in reports.items()}
        if any(report.state is not WorkerState.RUNNING for report in reports.values()):
            body["status"] = "degraded"
    if database is not None:
        body["status"] = "unavailable"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
