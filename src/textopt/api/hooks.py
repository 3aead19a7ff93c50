"""Provider callbacks (`/hooks/…`) and one-click unsubscribe links (`POST /u/{token}`; the
preference centre the link opens is the dashboard's public page).

Neither needs a login: a callback is accepted only with a valid signature from the provider
account's secret, and an unsubscribe link is itself signed with the workspace key. Both
are rate-limited like every public route.

Each answers only after its transaction is committed (`DbSession`, a function-scoped
dependency): a 2xx tells the provider that the receipt, message or withdrawal is stored, and
a commit that fails is a 503 the provider retries, never a 2xx for a change that was lost.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from textopt.config import Settings
from textopt.consent.unsubscribe import unsubscribe
from textopt.db.base import utcnow
from textopt.dispatch.feedback import feedback_rules
from textopt.errors import NotFoundError
from textopt.http.deps import AddressDigest, DbSession, get_settings_dep, limit
from textopt.inbound.webhooks import (
    callback_secret,
    check_webhook_header,
    handle_twilio_inbound,
    handle_twilio_status,
    handle_webhook_inbound,
    handle_webhook_status,
)
from textopt.providers.http_signatures import TWILIO_SIGNATURE_HEADER
from textopt.providers.http_twilio import EMPTY_TWIML

__all__ = ["router"]

router = APIRouter(
    tags=["callbacks"],
    dependencies=[Depends(limit("public", per_minute=lambda s: s.public_rate_per_minute))],
)

AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def _account(settings: Settings, kind: str, account: str | None) -> str:
    """The named account of `kind`, or the only one when the URL names none."""
    accounts = [
        name for name, options in settings.providers.items() if options.get("kind", name) == kind
    ]
    if account is not None:
        if account not in accounts:
            raise NotFoundError(f"no {kind} provider account named {account!r}")
        return account
    if len(accounts) != 1:
        raise NotFoundError(f"name the {kind} account: ?account=<name> (have {len(accounts)})")
    return accounts[0]


def _signed_url(request: Request, settings: Settings) -> str:
    """The URL the provider called and signed (the public one behind a proxy)."""
    if settings.public_base_url:
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{settings.public_base_url.rstrip('/')}{request.url.path}{query}"
    return str(request.url)


def _signed_header(request: Request, settings: Settings, *, account: str, what: str) -> None:
    """Refuse, before its body is read, a generic callback without a fresh signature."""
    callback_secret(settings, account=account)  # an account without a secret: refused now
    check_webhook_header(
        account=account,
        what=what,
        signature_header=request.headers.get("X-Textopt-Signature"),
        max_age=settings.webhook_max_age_seconds,
        now=utcnow(),
    )


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        fields.setdefault(key, []).append(str(value))
    return fields


@router.post("/hooks/twilio/status", status_code=204)
async def twilio_status(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    digest: AddressDigest,
    account: str | None = None,
) -> Response:
    """A Twilio status callback (signed with X-Twilio-Signature): becomes a receipt."""
    name = _account(settings, "twilio", account)
    handle_twilio_status(
        session,
        account=name,
        url=_signed_url(request, settings),
        params=await _form(request),
        signature=request.headers.get(TWILIO_SIGNATURE_HEADER),
        auth_token=callback_secret(settings, account=name),
        feedback=feedback_rules(settings, digest=digest),
    )
    return Response(status_code=204)


@router.post(
    "/hooks/twilio/inbound",
    response_class=Response,
    responses={
        200: {"description": "Empty TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}}
    },
)
async def twilio_inbound(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    account: str | None = None,
) -> Response:
    """A Twilio inbound message (signed): stored, keywords applied; replies go by the outbox."""
    name = _account(settings, "twilio", account)
    handle_twilio_inbound(
        session,
        account=name,
        url=_signed_url(request, settings),
        params=await _form(request),
        signature=request.headers.get(TWILIO_SIGNATURE_HEADER),
        auth_token=callback_secret(settings, account=name),
        settings=settings,
    )
    return Response(content=EMPTY_TWIML, media_type="text/xml")


@router.post("/hooks/generic/{account}/status", status_code=204)
async def generic_status(
    account: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    digest: AddressDigest,
) -> Response:
    """A generic JSON status callback, signed with X-Textopt-Signature (HMAC-SHA256)."""
    name = _account(settings, "webhook", account)
    _signed_header(request, settings, account=name, what="status")
    handle_webhook_status(
        session,
        account=name,
        body=await request.body(),
        signature_header=request.headers.get("X-Textopt-Signature"),
        secret=callback_secret(settings, account=name),
        max_age=settings.webhook_max_age_seconds,
        feedback=feedback_rules(settings, digest=digest),
    )
    return Response(status_code=204)


@router.post("/hooks/generic/{account}/inbound", status_code=204)
async def generic_inbound(
    account: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    """A generic JSON inbound message, signed with X-Textopt-Signature."""
    name = _account(settings, "webhook", account)
    _signed_header(request, settings, account=name, what="inbound")
    handle_webhook_inbound(
        session,
        account=name,
        body=await request.body(),
        signature_header=request.headers.get("X-Textopt-Signature"),
        secret=callback_secret(settings, account=name),
        settings=settings,
    )
    return Response(status_code=204)


_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>{title}</h1>{body}</body></html>"""


@router.post("/u/{token}", response_class=HTMLResponse)
async def unsubscribe_now(
    token: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
) -> HTMLResponse:
    """RFC 8058 one-click (`List-Unsubscribe=One-Click`) or the page's button: withdraws."""
    body = (await request.body()).decode("utf-8", "replace")
    client = request.client.host if request.client else None
    result = unsubscribe(
        session,
        token=token,
        proof={
            "ip": client,
            "user_agent": request.headers.get("user-agent", "")[:500],
            "one_click": "List-Unsubscribe=One-Click" in body,
        },
        now=utcnow(),
        key=settings.resolved_secret_key(),
    )
    done = "C'est fait. / Done." if result.recorded else "Déjà fait. / Already done."
    return HTMLResponse(_PAGE.format(title="Désinscription / Unsubscribe", body=f"<p>{done}</p>"))
