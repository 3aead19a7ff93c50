"""`GET /metrics`: the process's metrics in the Prometheus text format (an API key's scope).

Counts only, no personal data; still not public: they tell a competitor a shop's volumes.
A scraper sends `Authorization: Bearer <key>` with a key holding the `metrics` scope
(`textopt apikeys create --name prometheus --scope metrics`), which can read nothing else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.http.deps import require_detached
from textopt.metrics import CONTENT_TYPE, Metrics

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
def metrics(
    request: Request, _actor: Annotated[Actor, Depends(require_detached(Scope.METRICS))]
) -> Response:
    """The outbox, the dispatcher and the supervised tasks, in the Prometheus text format."""
    exposed: Metrics = request.app.state.metrics
    return Response(exposed.exposition(), media_type=CONTENT_TYPE)
