"""Tracked links planned by class: a text composed once, each recipient's codes put in.

With tracked links every recipient's text differs (each URL becomes `{base}{code}`, a code
of their own), but only in the codes: a code is `CODE_LENGTH` letters and digits, one unit
each in GSM-7 and in UCS-2, left alone by smart encoding, and never next to a combining
mark (a URL runs to white space, a quote or an angle bracket). So the text with a
placeholder code is composed once per distinct rendered body, and a recipient's text is
that composition with their codes in the placeholders' places: the same text, encoding,
segments and cost that composing it whole gives — provided the two checks of composition
that read the text do not read a code: whether it names the brand (a word match) and
whether it already holds the opt-out footer (a substring). `linked_text` proves that from
the text around the codes (a match would have to take code characters where the codes
are and the text's own everywhere else); a body where it cannot is planned one by one.

The codes are drawn on the main thread and written by the writer's thread before the
page's outbox rows (`LinkPage.write`). A code that clashes (another campaign's, drawn
twice) or a contact who already has a code for the URL (the campaign planned again) is
found then: the existing code is kept or a new one drawn, and the recipient's text is
rebuilt from its composition, whose measure does not change.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textopt.campaigns.planning.tally import Composed, Tally
from textopt.compose import MessageFrame
from textopt.compose.identity import names_brand
from textopt.errors import ConflictError
from textopt.links.service import (
    CODE_LENGTH,
    check_url,
    draw_codes,
    find_urls,
    insert_codes,
)

__all__ = [
    "PLACEHOLDER",
    "CodeRow",
    "LinkPage",
    "LinkedBody",
    "LinkedText",
    "code_independent",
    "linked_body",
    "linked_text",
]

#: The code a text is composed with (no real code is all zeros… and none is needed to be).
PLACEHOLDER = "0" * CODE_LENGTH
_CODE_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")  # a code, case folded
_MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class LinkedBody:
    """A rendered body with its URLs found: the text around them, and which URL each is."""

    pieces: tuple[str, ...]  # the body around its URLs (one more than the URLs)
    slots: tuple[int, ...]  # each URL's index in `urls`
    urls: tuple[str, ...]  # the distinct URLs, in order of first appearance

    def shaped(self, base: str) -> str:
        """The body with every URL shortened to the placeholder code."""
        return f"{base}{PLACEHOLDER}".join(self.pieces)


@dataclass(frozen=True, slots=True)
class LinkedText:
    """A composed text with tracked links: the text around the codes, and the URLs."""

    pieces: tuple[str, ...]  # the composed text around its codes
    slots: tuple[int, ...]  # each code's URL, by index in `urls`
    urls: tuple[str, ...]

    def text(self, codes: Sequence[str]) -> str:
        """The text with `codes` (one per URL of `urls`) in place."""
        pieces, slots = self.pieces, self.slots
        if len(slots) == 1:
            return pieces[0] + codes[0] + pieces[1]
        out = [pieces[0]]
        for slot, piece in zip(slots, pieces[1:], strict=True):
            out.append(codes[slot])
            out.append(piece)
        return "".join(out)


def linked_body(body: str, *, base: str) -> LinkedBody | None:
    """`body`'s URLs to shorten (checked: ValidationError), or None when it has none."""
    spans = find_urls(body, base=base)
    if not spans:
        return None
    urls: dict[str, int] = {}
    slots: list[int] = []
    pieces: list[str] = []
    last = 0
    for start, end, url in spans:
        if url not in urls:
            check_url(url)
            urls[url] = len(urls)
        slots.append(urls[url])
        pieces.append(body[last:start])
        last = end
    pieces.append(body[last:])
    return LinkedBody(tuple(pieces), tuple(slots), tuple(urls))


@functools.lru_cache(maxsize=64)
def _alignments(pattern: str) -> tuple[tuple[str, str], ...]:
    """Where `pattern` (case folded) could lie over a code: for each place whose characters
    over the code are letters or digits, what must come before the code and after it."""
    found = []
    size = len(pattern)
    for start in range(1 - size, CODE_LENGTH):  # where it begins, from the code's start
        over = pattern[max(0, -start) : min(size, CODE_LENGTH - start)]
        if over and all(char in _CODE_CHARS for char in over):
            before = pattern[: max(0, -start)]
            after = pattern[CODE_LENGTH - start :] if start + size > CODE_LENGTH else ""
            found.append((before, after))
    return tuple(found)


def _may_read_a_code(pattern: str, pieces: Sequence[str]) -> bool:
    """Whether `pattern` (case folded) could occur in `code.join(pieces)` (case folded)
    over a code's characters, for some code: where the pieces are, it must match them;
    where the code is, any letter or digit. (Reaching past a piece into another code
    counts as a possible match.)"""
    alignments = _alignments(pattern)
    if not alignments:
        return False
    folded = [piece.casefold() for piece in pieces]
    last = len(folded) - 1
    for i in range(1, len(folded)):  # the code between pieces i - 1 and i
        left, right = folded[i - 1], folded[i]
        for before, after in alignments:
            if len(before) > len(left):
                if i == 1 or not before.endswith(left):
                    continue
            elif not left.endswith(before):
                continue
            if len(after) > len(right):
                if i == last or not after.startswith(right):
                    continue
            elif not right.startswith(after):
                continue
            return True
    return False


def code_independent(frame: MessageFrame, body: LinkedBody, base: str) -> bool:
    """Whether composing `body` with any codes reads the same brand and footer answers
    (`MessageFrame.apply`): neither can be found over a code."""
    # the text composition searches: the pieces joined by `{base}{code}`
    cut = [*(piece + base for piece in body.pieces[:-1]), body.pieces[-1]]
    prefix = ""
    if frame.brand is not None:
        if _may_read_a_code(frame.brand.casefold(), cut):
            return False
        if not names_brand(body.shaped(base), frame.brand):
            prefix = f"{frame.brand}: "
    if frame.footer:
        return not _may_read_a_code(frame.footer.casefold(), [prefix + cut[0], *cut[1:]])
    return True


def linked_text(composed: Composed, body: LinkedBody) -> LinkedText | None:
    """The composition of `body` shaped (`LinkedBody.shaped`) cut at its codes; None when
    the placeholders cannot be told apart from the text's own characters."""
    count = len(body.slots)
    text = composed[0]
    assert text is not None
    if text.count(PLACEHOLDER) != count or PLACEHOLDER + "0" in text or "0" + PLACEHOLDER in text:
        return None
    pieces: list[str] = []
    last = 0
    for _ in range(count):
        at = text.index(PLACEHOLDER, last)
        pieces.append(text[last:at])
        last = at + CODE_LENGTH
    pieces.append(text[last:])
    return LinkedText(tuple(pieces), body.slots, body.urls)


#: A `link_codes` row: code, campaign, contact, URL, creation instant (stored form).
CodeRow = tuple[str, int, int, str, Any]


@dataclass(slots=True)
class LinkPage:
    """A page's short codes, written before its outbox rows (in the writer's thread).

    `rows` follow the page's triples: for each triple whose text has links (`texts`, by
    text index), one row per URL of the text, in the order of its URLs.
    """

    campaign_id: int
    created_at: Any  # in stored form
    marker: str
    tally: Tally
    texts: dict[int, LinkedText] = field(default_factory=dict)
    rows: list[CodeRow] = field(default_factory=list)

    def write(self, cursor: Any, triples: list[tuple[Any, ...]]) -> None:
        """Insert the codes; where one did not go in, settle it and rebuild the text."""
        rows = self.rows
        if insert_codes(cursor, rows) == len(rows):
            return
        owners: list[int] = []  # each row's triple
        for at, triple in enumerate(triples):
            text = self.texts.get(triple[2])
            if text is not None:
                owners.extend([at] * len(text.urls))
        changed: set[int] = set()
        pending = list(range(len(rows)))
        for _ in range(_MAX_ROUNDS):
            existing = self._existing(cursor)
            unsettled = []
            for k in pending:
                code, campaign, contact_id, url, created = rows[k]
                found = existing.get((contact_id, url))
                if found is None:  # its code was someone else's: draw again
                    unsettled.append(k)
                elif found != code:  # planned before: that code stays
                    rows[k] = (found, campaign, contact_id, url, created)
                    changed.add(owners[k])
            if not unsettled:
                break
            for k, code in zip(unsettled, draw_codes(len(unsettled)), strict=True):
                rows[k] = (code, *rows[k][1:])
                changed.add(owners[k])
            insert_codes(cursor, [rows[k] for k in unsettled])
            pending = unsettled
        else:
            raise ConflictError(f"could not allocate short codes for campaign {self.campaign_id}")
        codes: dict[int, list[str]] = {}
        for k, at in enumerate(owners):
            codes.setdefault(at, []).append(rows[k][0])
        worst = self.tally.report.worst
        for at in changed:
            contact_id, class_index, text_index, _ = triples[at]
            own = self.texts[text_index].text(codes[at])
            triples[at] = (contact_id, class_index, text_index, own)
            if worst is not None and worst.get("contact_id") == contact_id:
                worst["text"] = own

    def _existing(self, cursor: Any) -> dict[tuple[int, str], str]:
        ids = [row[2] for row in self.rows]
        m = self.marker
        cursor.execute(
            "SELECT contact_id, url, code FROM link_codes "
            f"WHERE campaign_id = {m} AND contact_id BETWEEN {m} AND {m}",
            (self.campaign_id, min(ids), max(ids)),
        )
        return {(contact_id, url): code for contact_id, url, code in cursor.fetchall()}
