"""Keywords the workspace defines (HORAIRES -> the opening hours): the audited commands every
face calls, and the answer to an inbound message that is one of them.

A keyword is one word, matched against the whole message trimmed, case- and
accent-insensitive, with surrounding punctuation ignored as for STOP (`Horaires ?` is
HORAIRES; `horaires svp` is not). A word the built-in keywords already read (STOP, ARRET,
START, OUI, AIDE, INFO… in any language, or a word that alone says "stop") cannot be
defined: the law's keywords always win.

The answer is transactional (a reply to the person's own request) and goes through the same
outbox and policy as any message; it is written once per inbound message (its idempotency key
is the inbound message's), and at most once per keyword and number in `ANSWER_INTERVAL`, so
two auto-responders never answer each other in a loop. A contact who asks gets an event
`keyword.<word>` whether answered or not.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.accounts.service import Actor, record_audit
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.contacts.fields import check_storable
from textopt.contacts.models import Contact
from textopt.db.ids import parse_id
from textopt.errors import ConflictError, NotFoundError, ValidationError
from textopt.events.models import EventSource
from textopt.events.service import record_event
from textopt.inbound.keywords import KeywordKind, classify, normalise
from textopt.inbound.models import WORD_MAX, InboundAction, InboundMessage, WorkspaceKeyword
from textopt.inbound.replies import country_language
from textopt.outbox.models import Message
from textopt.vocab import Purpose

__all__ = [
    "ANSWER_INTERVAL",
    "LANGUAGES",
    "TEXT_MAX",
    "KeywordAnswer",
    "answer_keyword",
    "check_texts",
    "check_word",
    "create_keyword",
    "delete_keyword",
    "find_keyword",
    "get_keyword_or_raise",
    "keyword_fields",
    "list_keywords",
    "update_keyword",
]

#: At most one answer per keyword and number in this interval.
ANSWER_INTERVAL = dt.timedelta(minutes=10)
#: The languages an answer may be written in (those of the built-in replies).
LANGUAGES = ("fr", "en", "es", "de")
#: The longest answer: four SMS parts of GSM-7 (an answer is information, not a letter).
TEXT_MAX = 612
_A = InboundAction


def check_word(raw: str, *, field: str = "word") -> tuple[str, str]:
    """A keyword's (normalised word, label): one word of letters and digits, not reserved."""
    label = unicodedata.normalize("NFC", " ".join(raw.split())).upper()
    word = normalise(raw)
    if (
        not word
        or " " in word
        or len(word) > WORD_MAX
        or len(label) > WORD_MAX * 2
        or not label.isalnum()
    ):
        raise ValidationError(
            f'{field}: "{raw.strip()[:40]}" is not a keyword: one word of 1 to {WORD_MAX} '
            "letters or digits (e.g. HORAIRES)",
            field=field,
        )
    if word.isdigit():  # a number alone names a keyword by its id
        raise ValidationError(
            f"{field}: {label} is not a keyword: a keyword has at least one letter",
            field=field,
        )
    reserved = classify(word)
    if reserved.kind != KeywordKind.NONE:
        raise ValidationError(
            f"{field}: {label} is reserved: the built-in keyword {reserved.kind.name} "
            "(STOP, START, HELP and opt-in confirmations cannot be redefined)",
            field=field,
        )
    return word, label


def check_texts(raw: Mapping[str, Any], *, field: str = "texts") -> dict[str, str]:
    """The answers by language: at least one, each in fr, en, es or de, 1 to 612 characters."""
    texts: dict[str, str] = {}
    for language, text in raw.items():
        code = str(language).strip().lower()
        if code not in LANGUAGES:
            raise ValidationError(
                f"{field}: {str(language)[:20]!r} is not a language of answers "
                f"(one of {', '.join(LANGUAGES)})",
                field=field,
            )
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"{field}.{code}: the answer is empty", field=field)
        check_storable(text, field=f"{field}.{code}")
        if len(text.strip()) > TEXT_MAX:
            raise ValidationError(
                f"{field}.{code}: the answer has {len(text.strip())} characters; "
                f"at most {TEXT_MAX}",
                field=field,
            )
        texts[code] = text.strip()
    if not texts:
        raise ValidationError(
            f"{field}: give the answer in at least one language (fr, en, es or de)", field=field
        )
    return texts


def find_keyword(session: Session, *, word_or_id: str | int) -> WorkspaceKeyword | None:
    """A keyword by its word (any case or accents) or its id."""
    raw = str(word_or_id).strip()
    if raw.isdigit():  # an id, or digits `int` cannot read ("²"): never a keyword's word
        number = parse_id(raw)
        return session.get(WorkspaceKeyword, number) if number is not None else None
    word = normalise(raw)
    return session.scalars(select(WorkspaceKeyword).where(WorkspaceKeyword.word == word)).first()


def get_keyword_or_raise(session: Session, *, word_or_id: str | int) -> WorkspaceKeyword:
    """A keyword by word or id, or NotFoundError."""
    found = find_keyword(session, word_or_id=word_or_id)
    if found is None:
        raise NotFoundError(f"no keyword {str(word_or_id).strip()[:40]}", field="keyword")
    return found


def list_keywords(session: Session) -> list[WorkspaceKeyword]:
    """Every keyword of the workspace, by word."""
    return list(session.scalars(select(WorkspaceKeyword).order_by(WorkspaceKeyword.word)))


def _refuse_taken(session: Session, *, word: str, label: str, own_id: int | None) -> None:
    other = session.scalars(select(WorkspaceKeyword).where(WorkspaceKeyword.word == word)).first()
    if other is not None and other.id != own_id:
        raise ConflictError(f"word: the keyword {label} exists already", field="word")


def create_keyword(
    session: Session,
    *,
    actor: Actor,
    word: str,
    texts: Mapping[str, Any],
    enabled: bool = True,
    now: dt.datetime,
) -> WorkspaceKeyword:
    """Define a keyword and its answers (audited)."""
    normal, label = check_word(word)
    answers = check_texts(texts)
    _refuse_taken(session, word=normal, label=label, own_id=None)
    keyword = WorkspaceKeyword(
        word=normal, label=label, texts=answers, enabled=enabled, created_at=now, updated_at=now
    )
    session.add(keyword)
    session.flush()
    _audit(session, actor=actor, action="keyword.created", keyword=keyword)
    return keyword


def update_keyword(
    session: Session,
    *,
    actor: Actor,
    word_or_id: str | int,
    word: str | None = None,
    texts: Mapping[str, Any] | None = None,
    enabled: bool | None = None,
    now: dt.datetime,
) -> WorkspaceKeyword:
    """Change a keyword's word, answers (all of them: a language left out is dropped) or
    switch (audited)."""
    keyword = get_keyword_or_raise(session, word_or_id=word_or_id)
    if word is not None:
        normal, label = check_word(word)
        _refuse_taken(session, word=normal, label=label, own_id=keyword.id)
        keyword.word, keyword.label = normal, label
    if texts is not None:
        keyword.texts = check_texts(texts)
    if enabled is not None:
        keyword.enabled = enabled
    keyword.updated_at = now
    session.flush()
    _audit(session, actor=actor, action="keyword.changed", keyword=keyword)
    return keyword


def delete_keyword(session: Session, *, actor: Actor, word_or_id: str | int) -> WorkspaceKeyword:
    """Delete a keyword (audited); messages that asked for it keep the word they matched."""
    keyword = get_keyword_or_raise(session, word_or_id=word_or_id)
    _audit(session, actor=actor, action="keyword.deleted", keyword=keyword)
    session.delete(keyword)
    session.flush()
    return keyword


def _audit(session: Session, *, actor: Actor, action: str, keyword: WorkspaceKeyword) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        target_type="keyword",
        target_id=keyword.id,
        detail={"word": keyword.label, "languages": sorted(keyword.texts), "on": keyword.enabled},
    )


def keyword_fields(keyword: WorkspaceKeyword) -> dict[str, Any]:
    """One keyword as JSON-ready data (the API, `--json`)."""
    return {
        "id": keyword.id,
        "word": keyword.label,
        "texts": dict(keyword.texts),
        "enabled": keyword.enabled,
        "created_at": keyword.created_at.isoformat(),
        "updated_at": keyword.updated_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class KeywordAnswer:
    """What a workspace keyword did with one inbound message."""

    action: InboundAction
    reply: Message | None = None
    language: str | None = None


def answer_language(
    texts: Mapping[str, str],
    *,
    contact_language: str | None,
    country: str | None,
    workspace_language: str,
) -> str:
    """The contact's language, else the number's country's, else the workspace's, else
    English, else the first written: the first of these the keyword has an answer in."""
    candidates = (
        (contact_language or "").lower()[:2],
        country_language(country),
        workspace_language,
        "en",
    )
    for candidate in candidates:
        if candidate and candidate in texts:
            return candidate
    return sorted(texts)[0]


def answer_keyword(
    session: Session,
    *,
    inbound: InboundMessage,
    contact: Contact | None,
    country: str | None,
    settings: Settings,
    now: dt.datetime,
) -> KeywordAnswer | None:
    """Answer a stored message that is a workspace keyword; None when it is none."""
    if inbound.phone is None or not inbound.text:
        return None
    word = normalise(inbound.text)
    if not word or " " in word or len(word) > WORD_MAX:
        return None
    query = select(WorkspaceKeyword).where(WorkspaceKeyword.word == word)
    if session.get_bind().dialect.name == "postgresql":
        # answers of one keyword are decided one at a time, so two asks from one number
        # applied by two dispatchers at once cannot both find no earlier answer (SQLite's
        # writer lock already serialises them)
        query = query.with_for_update()
    keyword = session.scalars(query).first()
    if keyword is None:
        return None
    inbound.workspace_keyword = keyword.word
    if not keyword.enabled:
        return KeywordAnswer(_A.KEYWORD_OFF)
    language = answer_language(
        keyword.texts,
        contact_language=contact.language if contact else None,
        country=country,
        workspace_language=settings.web_language,
    )
    earlier = session.scalars(
        select(InboundMessage.id)
        .where(
            InboundMessage.workspace_keyword == keyword.word,
            InboundMessage.phone == inbound.phone,
            InboundMessage.action == str(_A.KEYWORD_ANSWERED),
            InboundMessage.received_at > inbound.received_at - ANSWER_INTERVAL,
            InboundMessage.received_at <= inbound.received_at,
            InboundMessage.id != inbound.id,
        )
        .limit(1)
    ).first()
    reply = None
    if earlier is None:
        reply, _ = enqueue_message(
            session,
            settings=settings,
            to=inbound.phone,
            text="{{ reply }}",  # the marketer's answer is a value, never parsed as a template
            variables={"reply": keyword.texts[language]},
            purpose=Purpose.TRANSACTIONAL,
            idempotency_key=f"inbound-{inbound.id}-reply",
            provider=inbound.provider if inbound.provider in settings.providers else None,
            now=now,
        )
    if contact is not None:
        record_event(
            session,
            contact=contact,
            type=f"keyword.{keyword.word}",
            properties={
                "inbound_message_id": inbound.id,
                "answered": reply is not None,
                "language": language,
            },
            occurred_at=min(inbound.received_at, now),
            # no idempotency key: a message is applied once, its event, answer and
            # `handled_at` committed together; a key would share the namespace of the
            # keys shops send to POST /v1/events
            key=None,
            source=EventSource.INBOUND,
            recorded_by=f"inbound {inbound.provider}",
            secret=settings.resolved_secret_key(),
            now=now,
        )
    action = _A.KEYWORD_ANSWERED if reply is not None else _A.KEYWORD_RATE_LIMITED
    return KeywordAnswer(action, reply, language)
