"""Tracked links: shorten the URLs of a campaign's texts per recipient, follow, count clicks.

`rewrite_links` is the batch path planning calls: every URL in each recipient's rendered
text becomes `{base}{code}`, one code per (campaign, contact, URL), created in bulk and
reused when the campaign is planned again. Codes have a fixed length, so `preview_links`
gives the exact length (and segment count) without writing anything. `follow_link` is the
redirect: one primary-key lookup and one insert.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.db import utcnow
from textopt.db.batching import id_conditions
from textopt.db.bulk import insert_rows
from textopt.db.copying import copies, copy_unless_clash
from textopt.errors import ConflictError, NotFoundError, ValidationError
from textopt.links.models import LinkClick, LinkCode

if TYPE_CHECKING:
    from textopt.campaigns.models import Campaign

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "TRACK_OPTION",
    "ClickSummary",
    "check_url",
    "clicks_by_campaign",
    "clicks_by_contact",
    "draw_codes",
    "find_urls",
    "follow_link",
    "insert_codes",
    "is_link_code",
    "link_base",
    "preview_links",
    "rewrite_links",
    "set_link_tracking",
    "stored_instant",
    "tracks_links",
]

CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# 62**7 ≈ 3.5e12 codes: a guessed code hits a live one with negligible odds, and a fixed
# length makes the preview's segment count exact.
CODE_LENGTH = 7
_CODE = re.compile(f"[0-9A-Za-z]{{{CODE_LENGTH}}}")
# A URL ends at white space or a quote; trailing punctuation belongs to the sentence.
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»’'\""
_MAX_URL = 2000
_MAX_ROUNDS = 5  # code clashes are ~never; a persistent clash means a broken generator
#: The campaign option (in `Campaign.options`) that planning reads to shorten links.
TRACK_OPTION = "track_links"


@dataclass(frozen=True, slots=True)
class ClickSummary:
    """The clicks of one campaign: total, distinct contacts, and per URL."""

    campaign_id: int
    clicks: int = 0
    contacts: int = 0
    links: int = 0  # short codes handed out
    by_url: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "campaign": self.campaign_id,
            "clicks": self.clicks,
            "contacts_clicking": self.contacts,
            "links": self.links,
            "clicks_by_url": dict(self.by_url),
        }


def link_base(settings: Settings) -> str:
    """The prefix of every short link: `https://{link_domain}/`, else `{public_base_url}/l/`."""
    if settings.link_domain:
        return f"https://{settings.link_domain.strip().strip('/')}/"
    return f"{settings.base_url()}/l/"


def set_link_tracking(campaign: Campaign, *, enabled: bool) -> None:
    """Turn tracked links on or off for a draft campaign (the option planning reads)."""
    if campaign.status != "draft":
        raise ConflictError(f"campaign {campaign.id} is {campaign.status}: only a draft changes")
    campaign.options = {**(campaign.options or {}), TRACK_OPTION: enabled}


def tracks_links(campaign: Campaign) -> bool:
    """Whether the campaign's URLs are shortened per recipient."""
    return bool((campaign.options or {}).get(TRACK_OPTION))


def is_link_code(code: str) -> bool:
    """Whether `code` has the shape of a short code (checked before any lookup)."""
    return _CODE.fullmatch(code) is not None


def find_urls(text: str, *, base: str | None = None) -> list[tuple[int, int, str]]:
    """The (start, end, url) of each URL in `text`, skipping links already on `base`."""
    found = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if len(url) <= len("https://") or (base and url.startswith(base)):
            continue
        found.append((match.start(), match.start() + len(url), url))
    return found


def _replace(text: str, spans: Sequence[tuple[int, int, str]], short: Sequence[str]) -> str:
    out, last = [], 0
    for (start, end, _), link in zip(spans, short, strict=True):
        out.append(text[last:start])
        out.append(link)
        last = end
    out.append(text[last:])
    return "".join(out)


def preview_links(text: str, *, base: str) -> str:
    """`text` with each URL replaced by a short link of the real length (nothing written)."""
    spans = find_urls(text, base=base)
    sample = f"{base}{'x' * CODE_LENGTH}"
    return _replace(text, spans, [sample] * len(spans))


def check_url(url: str) -> None:
    """Refuse what cannot be shortened: not an http(s) URL, or too long (ValidationError)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"cannot shorten {url!r}: not an http(s) URL", field="url")
    if len(url) > _MAX_URL:
        raise ValidationError(
            f"cannot shorten a URL of {len(url)} characters (at most {_MAX_URL})", field="url"
        )


#: Random bytes to code characters: each of the 62 characters stands for 4 byte values;
#: the 8 values above 247 are dropped (an even draw, as `secrets.choice` gives).
_BYTE_TO_CHAR = bytes(ord(CODE_ALPHABET[value % len(CODE_ALPHABET)]) for value in range(256))
_UNEVEN = bytes(range(len(CODE_ALPHABET) * 4, 256))


def draw_codes(count: int) -> list[str]:
    """`count` random codes, drawn in bulk from the system's random source (one call per
    batch, not one per character)."""
    wanted = count * CODE_LENGTH
    chars = ""
    while len(chars) < wanted:
        drawn = secrets.token_bytes(wanted - len(chars) + wanted // 16 + 8)
        chars += drawn.translate(_BYTE_TO_CHAR, _UNEVEN).decode("ascii")
    return [chars[i : i + CODE_LENGTH] for i in range(0, wanted, CODE_LENGTH)]


def _existing_codes(
    session: Session, campaign_id: int, contact_ids: Collection[int], urls: Collection[str]
) -> dict[tuple[int, str], str]:
    found: dict[tuple[int, str], str] = {}
    wanted_urls = set(urls)
    columns = (LinkCode.contact_id, LinkCode.url, LinkCode.code)
    for condition in id_conditions(LinkCode.contact_id, contact_ids):
        query = select(*columns).where(LinkCode.campaign_id == campaign_id, condition)
        for contact_id, url, code in session.execute(query):
            if contact_id in contact_ids and url in wanted_urls:
                found[(contact_id, url)] = code
    return found


_CODE_COLUMNS = ("code", "campaign_id", "contact_id", "url", "created_at")
#: PostgreSQL: where new codes are copied before they enter `link_codes`.
_STAGING = "textopt_link_rows"
_INSERT = f"INSERT INTO link_codes ({', '.join(_CODE_COLUMNS)}) VALUES"


def stored_instant(connection: Connection, value: dt.datetime) -> Any:
    """`value` as `link_codes.created_at` gives it to the driver (its own bind conversion)."""
    dialect = connection.dialect
    created_at = cast(Table, LinkCode.__table__).c.created_at.type
    convert = created_at.dialect_impl(dialect).bind_processor(dialect)
    return convert(value) if convert is not None else value


def insert_codes(cursor: Any, rows: Sequence[tuple[str, int, int, str, Any]]) -> int:
    """Insert (code, campaign, contact, URL, created at) rows through a driver's cursor,
    skipping any that clash (on the code, or on the campaign, contact and URL); how many
    went in. The creation instant is in its stored form (`stored_instant`)."""
    if not rows:
        return 0
    if copies(cursor.connection):  # PostgreSQL: COPY; a clash (a code planned before) is rare
        return copy_unless_clash(
            cursor,
            table="link_codes",
            staging=_STAGING,
            staged=_CODE_COLUMNS,
            columns=_CODE_COLUMNS,
            rows=rows,
            conflict="ON CONFLICT DO NOTHING",
        )
    return insert_rows(cursor, _INSERT, rows, "ON CONFLICT DO NOTHING")


def _insert_codes(session: Session, rows: list[tuple[str, int, int, str]]) -> int:
    """Insert (code, campaign, contact, URL) rows, skipping any that clash; how many went
    in. Through the driver, as planning's outbox rows are: the creation instant is
    converted once (by the column's own type), not once per row."""
    connection = session.connection()
    stored = stored_instant(connection, utcnow())
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        return insert_codes(cursor, [(*row, stored) for row in rows])
    finally:
        cursor.close()


def rewrite_links(
    session: Session,
    *,
    texts: Sequence[tuple[int, str]],
    campaign_id: int,
    base: str,
) -> list[str]:
    """Each (contact id, rendered text) with its URLs replaced by that contact's short links.

    Codes are created in bulk (one select, one insert per round) and reused when the same
    campaign is planned again for the same contact and URL. Flushes, never commits.
    """
    spans = [find_urls(text, base=base) for _, text in texts]
    pairs = {
        (contact_id, url)
        for (contact_id, _), found in zip(texts, spans, strict=True)
        for *_, url in found
    }
    if not pairs:
        return [text for _, text in texts]
    for _, url in pairs:
        check_url(url)
    contact_ids = {contact_id for contact_id, _ in pairs}
    urls = {url for _, url in pairs}
    codes = _existing_codes(session, campaign_id, contact_ids, urls)
    for _ in range(_MAX_ROUNDS):
        missing = sorted(pairs - codes.keys())
        if not missing:
            break
        new = draw_codes(len(missing))
        rows = [(code, campaign_id, c, u) for code, (c, u) in zip(new, missing, strict=True)]
        if _insert_codes(session, rows) == len(rows):  # no clash: every code is the one drawn
            codes.update(zip(missing, new, strict=True))
            break
        # A clash on the code (or a concurrent planner's row) is skipped and retried.
        codes = _existing_codes(session, campaign_id, contact_ids, urls)
    else:
        raise ConflictError(f"could not allocate short codes for campaign {campaign_id}")
    return [
        _replace(text, found, [f"{base}{codes[(contact_id, url)]}" for *_, url in found])
        for (contact_id, text), found in zip(texts, spans, strict=True)
    ]


def _user_agent_hash(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    return hashlib.sha256(user_agent.encode("utf-8", "replace")).hexdigest()[:16]


def follow_link(session: Session, *, code: str, user_agent: str | None, now: dt.datetime) -> str:
    """The URL behind `code`, after recording the click; NotFoundError for an unknown code."""
    if not is_link_code(code):
        raise NotFoundError("no such link")
    row = session.execute(
        select(LinkCode.url, LinkCode.campaign_id, LinkCode.contact_id).where(LinkCode.code == code)
    ).first()
    if row is None:
        raise NotFoundError("no such link")
    url, campaign_id, contact_id = row
    session.execute(
        insert(LinkClick).values(
            code=code,
            campaign_id=campaign_id,
            contact_id=contact_id,
            at=now,
            user_agent_hash=_user_agent_hash(user_agent),
        )
    )
    return str(url)


def clicks_by_campaign(session: Session, *, campaign_id: int) -> ClickSummary:
    """Clicks of one campaign: total, distinct contacts, links handed out, clicks per URL."""
    clicks, contacts = session.execute(
        select(func.count(), func.count(func.distinct(LinkClick.contact_id))).where(
            LinkClick.campaign_id == campaign_id
        )
    ).one()
    links = session.scalar(
        select(func.count()).select_from(LinkCode).where(LinkCode.campaign_id == campaign_id)
    )
    by_url = session.execute(
        select(LinkCode.url, func.count())
        .join(LinkClick, LinkClick.code == LinkCode.code)
        .where(LinkCode.campaign_id == campaign_id)
        .group_by(LinkCode.url)
        .order_by(func.count().desc(), LinkCode.url)
    ).all()
    return ClickSummary(
        campaign_id=campaign_id,
        clicks=int(clicks),
        contacts=int(contacts),
        links=int(links or 0),
        by_url={str(url): int(count) for url, count in by_url},
    )


def clicks_by_contact(session: Session, *, contact_id: int) -> dict[int, int]:
    """How many times one contact followed a link, per campaign id."""
    rows = session.execute(
        select(LinkClick.campaign_id, func.count())
        .where(LinkClick.contact_id == contact_id)
        .group_by(LinkClick.campaign_id)
    )
    return {int(campaign): int(count) for campaign, count in rows}
