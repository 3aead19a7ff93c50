"""The dashboard's pages, rendered with data, read wholly in French and wholly in English.

Each main page is fetched in both languages on a workspace with contacts, a launched
campaign with exclusions, a draft, a segment, a reply and an upload; the visible text of
the French page must hold no English text of the catalogue (nor an English word given to a
code), and the English page no French one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import Engine, update
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.inbound import text_in
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.accounts.service import Actor
from textopt.campaigns import service as campaigns
from textopt.campaigns.segments import create_segment
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.inbound.workspace_keywords import create_keyword
from textopt.outbox.models import Message
from textopt.web.catalogue import EN, FR

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_MORNING = dt.datetime(2099, 1, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris


class _Text(HTMLParser):
    """What a person reads in the page's language: text and read attributes, outside code,
    pre and scripts, and outside elements marked as another language (a quoted source)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: list[str] = []  # the tags that hide, innermost last
        self._lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        lang = dict(attrs).get("lang") or ""
        if tag == "html":
            self._lang = lang
        elif tag in ("code", "pre", "script", "style") or (lang and lang != self._lang):
            self._hidden.append(tag)
        if not self._hidden:
            self.parts += [v for k, v in attrs if k in ("title", "aria-label", "alt") and v]

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The words of a page a person reads, one space between pieces."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _pattern(text: str) -> re.Pattern[str]:
    # `consent:sms` in a filter is the filter's syntax, not a word
    return re.compile(rf"(?<![\w:-]){re.escape(text.strip())}(?![\w:-])")


def _phrases(texts: set[str], *, other_language: set[str]) -> list[re.Pattern[str]]:
    """Patterns of `texts`, but those the other language's texts also hold ("message")."""
    other = "\n".join(other_language)
    found = []
    for text in texts:
        if "%(" in text or len(re.findall(r"[^\W\d_]", text)) < 4:
            continue  # patterns are checked by their words; short words are too common
        pattern = _pattern(text)
        if not pattern.search(other):
            found.append(pattern)
    return found


_FRENCH_TEXTS = {v for k, v in FR.items() if v != k and v != EN.get(k)}
_ENGLISH_TEXTS = {k for k, v in FR.items() if v != k and not re.fullmatch(r"[\w.-]+", k)} | {
    EN[k] for k in EN if k in FR and FR[k] != EN[k]
}
# English texts a French page must not show: keys translated to something else, and the
# English words of codes whose French differs; and the other way round.
ENGLISH = _phrases(_ENGLISH_TEXTS, other_language=_FRENCH_TEXTS)
FRENCH = _phrases(_FRENCH_TEXTS, other_language=_ENGLISH_TEXTS)


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


@pytest.fixture
def workspace(engine: Engine, settings: Settings) -> dict[str, int]:
    """Contacts with and without consent, a launched campaign, a draft, a segment, a reply."""
    with session_scope(engine) as s:
        ids = {"consenting": add_contact(s, "+33612345601", first_name="Léa").id}
        ids["without_consent"] = add_contact(s, "+33612345602", consent_at=None).id
        ids["deferred"] = add_contact(s, "+13055550142", first_name="Sophia").id
        text_in(s, settings, sender="+33612345601", text="STOP", message_id="mo-1")
        launched = new_campaign(s, settings)
        campaigns.launch(s, campaign=launched, settings=settings, now=WEDNESDAY_10H)
        ids["launched"] = launched.id
        # Sophia's message waits for her morning (as quiet hours defer it), far ahead
        s.execute(
            update(Message)
            .where(Message.contact_id == ids["deferred"])
            .values(status="queued", reason="quiet_hours", send_at=_MORNING)
        )
        add_contact(s, "+33612345603", first_name="Marc", tags=("nouveaux",))
        ids["draft"] = new_campaign(
            s, settings, text="Nouveautés pour {{ first_name }}", audience="tag:nouveaux"
        ).id
        create_segment(s, name="fideles", filter="tag:vip and consent:sms")
        create_keyword(
            s,
            actor=Actor("cli", None, "cli:test", frozenset()),
            word="horaires",
            texts={"fr": "Ouvert 9h-19h.", "en": "Open 9am-7pm."},
            now=WEDNESDAY_10H,
        )
        text_in(s, settings, sender="+33612345601", text="Horaires", message_id="mo-2")
    make_user(engine, "admin@boutique.example", Role.ADMIN)
    return ids


def _pages(http: httpx.Client, ids: dict[str, int], lang: str) -> dict[str, str]:
    http.cookies.set("textopt_lang", lang)
    assert sign_in_form(http, "admin@boutique.example", PASSWORD).status_code == 303
    paths = {
        "overview": "/app/",
        "contacts": "/app/contacts",
        "contact": f"/app/contacts/{ids['without_consent']}",
        "contact who said STOP": f"/app/contacts/{ids['consenting']}",
        "deferred contact": f"/app/contacts/{ids['deferred']}",
        "proof": f"/app/contacts/{ids['consenting']}/proof",
        "campaigns": "/app/campaigns",
        "report": f"/app/campaigns/{ids['launched']}",
        "preview": f"/app/campaigns/{ids['draft']}",
        "composer": "/app/campaigns/new",
        "draft editor": f"/app/campaigns/{ids['draft']}/edit",
        "launch confirmation": f"/app/campaigns/{ids['draft']}/launch",
        "segments": "/app/segments",
        "keywords": "/app/keywords",
        "settings": "/app/settings",
        "import": "/app/import",
    }
    pages = {}
    for name, path in paths.items():
        answer = http.get(path)
        assert answer.status_code == 200, (name, answer.text)
        pages[name] = answer.text
    csrf = _CSRF.search(pages["segments"])
    assert csrf is not None
    mapping = http.post(
        "/app/import",
        data={"csrf_token": csrf.group(1)},
        files={"file": ("clients.csv", b"telephone;prenom;ville\n0612345699;Ana;Lyon\n")},
    )
    assert mapping.status_code == 200, mapping.text
    pages["import mapping"] = mapping.text
    refused = http.post(
        "/app/segments", data={"name": "x", "filter": "tagg:vip", "csrf_token": csrf.group(1)}
    )
    assert refused.status_code == 422
    pages["segment error"] = refused.text
    return pages


def _found(patterns: list[re.Pattern[str]], pages: dict[str, str]) -> list[str]:
    return sorted(
        {
            f"{name}: {match.group(0)!r}"
            for name, html in pages.items()
            for pattern in patterns
            if (match := pattern.search(visible_text(html)))
        }
    )


def test_every_page_reads_in_french_without_an_english_text_of_the_catalogue(
    http: httpx.Client, workspace: dict[str, int]
) -> None:
    pages = _pages(http, workspace, "fr")
    assert "mot-clé inconnu « tagg »" in pages["segment error"]
    assert "Pas de consentement marketing" in visible_text(pages["contact"])
    assert "point-virgule" in visible_text(pages["import mapping"])
    assert "STOP appliqué" in visible_text(pages["proof"])
    deferred = visible_text(pages["deferred contact"])
    assert "Hors des heures permises — part le 01/01/2099 09:00" in deferred, deferred
    english = _found(ENGLISH, pages)
    assert english == [], "\n".join(english)


def test_every_page_reads_in_english_without_a_french_text_of_the_catalogue(
    http: httpx.Client, workspace: dict[str, int]
) -> None:
    pages = _pages(http, workspace, "en")
    assert "unknown keyword &#34;tagg&#34;" in pages["segment error"]
    assert "No marketing consent" in visible_text(pages["contact"])
    assert "semicolon" in visible_text(pages["import mapping"])
    deferred = visible_text(pages["deferred contact"])
    assert "Outside the allowed hours — goes out on 2099-01-01 09:00" in deferred, deferred
    french = _found(FRENCH, pages)
    assert french == [], "\n".join(french)


def test_the_check_finds_an_english_text_left_on_a_french_page() -> None:
    page = (
        '<html lang="fr"><p>Récents</p><p>Nothing to send.</p><code>Nothing deferred.</code>'
        '<small lang="en">Nobody is excluded.</small></html>'
    )
    assert _found(ENGLISH, {"page": page}) == ["page: 'Nothing to send.'"]
