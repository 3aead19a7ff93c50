"""The outbound webhook events in the API schema (`webhooks`, OpenAPI 3.1).

Nothing here serves a route: these operations describe what textopt POSTs to an endpoint
registered with `POST /v1/webhooks`, so that generated clients and receivers know the
bodies (`textopt.webhooks.schemas`) and the signature headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header

from textopt.webhooks.models import WebhookEvent
from textopt.webhooks.schemas import (
    CampaignCompletedEvent,
    ContactOptedOutEvent,
    MessageStatusChangedEvent,
    QuestionAnsweredEvent,
)

__all__ = ["SIGNATURE_SCHEME", "declare_webhooks"]

SIGNATURE_SCHEME = """Each delivery is a `POST` of the JSON body with the headers
`X-Textopt-Event` (the type), `X-Textopt-Event-Id` (the same on every retry: deduplicate on
it), `X-Textopt-Delivery`, `X-Textopt-Attempt` and `X-Textopt-Signature: t=<unix time>,v1=<hex>`
where `v1` is HMAC-SHA256, under the endpoint's secret (`whsec_…`, given once when the
endpoint is created), of `<t>.<raw body>`. Verify it on the raw body and refuse timestamps
older than a few minutes. Any 2xx answer delivers; anything else is retried with backoff
(30 s, 1 min, 2 min… at most 1 h apart) up to `webhook_max_attempts`. Deliveries are at least
once."""

_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "Any 2xx answer: delivered"},
    "default": {"description": "Anything else (or no answer in time): retried later"},
}

Signature = Annotated[str, Header(alias="X-Textopt-Signature", description="t=<unix>,v1=<hex>")]
EventId = Annotated[str, Header(alias="X-Textopt-Event-Id", description="Dedupe on it")]
Attempt = Annotated[int, Header(alias="X-Textopt-Attempt", description="1 on the first try")]


def _declare(
    app: FastAPI, event: WebhookEvent, summary: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator adding the described receiver of `event` to `app.webhooks`."""
    name = str(event)
    return app.webhooks.post(
        name,
        operation_id="webhook_" + name.replace(".", "_"),
        summary=summary,
        description=SIGNATURE_SCHEME,
        responses=_RESPONSES,
        status_code=200,
        tags=["webhooks"],
    )


def declare_webhooks(app: FastAPI) -> None:
    """Add the events textopt sends to `app`'s `webhooks` section."""

    @_declare(app, WebhookEvent.MESSAGE_STATUS, "A message's status changed")
    def message_status_changed(
        body: MessageStatusChangedEvent, signature: Signature, event_id: EventId, attempt: Attempt
    ) -> None:
        """Submitted, delivered, failed, expired or unknown (see `reason`)."""

    @_declare(app, WebhookEvent.OPT_OUT, "A contact opted out")
    def contact_opted_out(
        body: ContactOptedOutEvent, signature: Signature, event_id: EventId, attempt: Attempt
    ) -> None:
        """A revocation reached the consent ledger."""

    @_declare(app, WebhookEvent.CAMPAIGN_COMPLETED, "A campaign completed")
    def campaign_completed(
        body: CampaignCompletedEvent, signature: Signature, event_id: EventId, attempt: Attempt
    ) -> None:
        """Every message of a running campaign is final."""

    @_declare(app, WebhookEvent.QUESTION_ANSWERED, "A contact answered a question")
    def question_answered(
        body: QuestionAnsweredEvent, signature: Signature, event_id: EventId, attempt: Attempt
    ) -> None:
        """A reply (OUI, ANNULER…) confirmed or cancelled what a message asked."""
