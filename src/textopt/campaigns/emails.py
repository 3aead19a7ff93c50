"""The email side of a campaign: each recipient's rendered email, its headers and its cost.

Marketing emails name the brand in `From`, carry a visible unsubscribe link and the RFC 8058
one-click headers (`List-Unsubscribe` with the signed link, and `List-Unsubscribe-Post`);
transactional emails carry neither link nor header.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any

from textopt.campaigns.models import Campaign
from textopt.compose.email import EmailTemplate, RenderedEmail
from textopt.config import Settings
from textopt.consent.unsubscribe import unsubscribe_token, unsubscribe_url
from textopt.errors import ConfigError, ValidationError
from textopt.policy import Reason
from textopt.vocab import Channel, Purpose

__all__ = [
    "FALLBACK_REASONS",
    "EmailComposer",
    "add_unsubscribe_headers",
    "email_account",
    "from_header",
]

#: Blocks that mean the primary channel cannot reach the person: only these let the
#: fallback channel of a `sms-else-email` or `email-else-sms` campaign be planned. Timing
#: (quiet hours, caps, expiry) is never a reason to switch channel.
FALLBACK_REASONS = frozenset(
    {
        Reason.INVALID_NUMBER,
        Reason.UNDELIVERABLE,
        Reason.INVALID_EMAIL,
        Reason.NO_CONSENT,
        Reason.CONSENT_REVOKED,
        Reason.SUPPRESSED,
    }
)


def from_header(*, brand: str, address: str) -> str:
    """`Brand <address>`; an address given with its own name keeps it."""
    name, addr_spec = parseaddr(address)
    if not addr_spec or "@" not in addr_spec:
        raise ValidationError(f"{address!r} is not an email address", field="email_from")
    local, _, domain = addr_spec.rpartition("@")
    return str(Address(display_name=name or brand, username=local, domain=domain))


def email_account(settings: Settings, *, wanted: str | None = None) -> str:
    """The provider account that sends a campaign's emails; ConfigError when none does."""
    name = wanted or settings.default_email_provider
    if name is None:
        name = next(
            (
                account
                for account, options in sorted(settings.providers.items())
                if options.get("channel") == Channel.EMAIL or options.get("kind") == "smtp"
            ),
            None,
        )
    if name is None:
        raise ConfigError(
            'no provider account sends email: add one with kind = "smtp" '
            '(or a sandbox with channel = "email")'
        )
    if name not in settings.providers:
        raise ConfigError(
            f"provider account {name!r} is not configured "
            f"(known: {', '.join(sorted(settings.providers))})"
        )
    return name


class EmailComposer:
    """A campaign's email compiled once, rendered per recipient with their own link."""

    def __init__(self, campaign: Campaign, settings: Settings) -> None:
        self.template = EmailTemplate(
            subject=campaign.email_subject or "",
            html=campaign.email_template or "",
            text=campaign.email_text_template,
        )
        self.campaign_id = campaign.id
        self.marketing = Purpose(campaign.purpose) == Purpose.MARKETING
        self.sender = from_header(
            brand=campaign.brand_name, address=campaign.email_from or settings.email_from_address
        )
        self.cost_micros = int(Decimal(str(settings.email_price)) * 1_000_000)
        self.base_url = settings.base_url()
        self.mailto = settings.email_unsubscribe_mailto
        self.key = settings.resolved_secret_key()

    @property
    def variables(self) -> frozenset[str]:
        """The variables the subject and the parts use."""
        return self.template.variables

    def render(
        self, contact_id: int, context: Mapping[str, Any]
    ) -> tuple[RenderedEmail, dict[str, str]]:
        """The recipient's email and the headers stored with it."""
        headers = {"From": self.sender}
        if not self.marketing:
            return self.template.render(context, footer=False), headers
        url = add_unsubscribe_headers(
            headers,
            contact_id=contact_id,
            campaign_id=self.campaign_id,
            base_url=self.base_url,
            mailto=self.mailto,
            key=self.key,
        )
        return self.template.render(context, unsubscribe_url=url), headers


def add_unsubscribe_headers(
    headers: dict[str, str],
    *,
    contact_id: int,
    campaign_id: int | None,
    base_url: str,
    mailto: str | None,
    key: bytes,
) -> str:
    """Add a promotion's one-click unsubscribe headers (RFC 8058, with the mailto link when the
    workspace has one) to `headers`; returns the signed page link the email's footer shows."""
    token = unsubscribe_token(
        contact_id=contact_id, channel=Channel.EMAIL, campaign_id=campaign_id, key=key
    )
    url = unsubscribe_url(base_url=base_url, token=token)
    links = f"<{url}>"
    if mailto:
        links += f", <mailto:{mailto}?subject=unsubscribe%20{token}>"
    headers["List-Unsubscribe"] = links
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return url
