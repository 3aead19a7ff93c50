"""A text with tracked links composed once, each recipient's codes put in afterwards, is
the text composed whole with those codes, whenever `code_independent` says so."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from textopt.campaigns.planning.linked import (
    PLACEHOLDER,
    code_independent,
    linked_body,
    linked_text,
)
from textopt.compose import message_frame
from textopt.errors import TextoptError, ValidationError
from textopt.links.service import CODE_ALPHABET, CODE_LENGTH
from textopt.vocab import Purpose

BASE = "https://go.example/"
URLS = ["https://shop.example/a", "http://x.example/b?c=1", "https://shop.example/a"]

codes = st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)
#: Text around the links: the brand's and the footer's letters, accents, characters smart
#: encoding replaces, combining marks, emoji, punctuation that ends a URL.
around = st.lists(
    st.sampled_from([*"Boutiqe STOPau361 0x.,!?)»’\n-éç€…“☀\u0301", "Boutique", "STOP au 36111"]),
    max_size=8,
).map("".join)


def _compose(frame: object, body: str, smart: bool) -> tuple[object, ...]:
    try:
        planned = frame.planned(body, smart_encoding=smart)  # type: ignore[attr-defined]
    except TextoptError as exc:
        return ("error", exc.message)
    return (planned.text, planned.encoding, planned.units, planned.segments, planned.smart_saving)


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(around, min_size=2, max_size=4),
    urls=st.lists(st.sampled_from(URLS), min_size=3, max_size=3),
    drawn=st.lists(codes, min_size=3, max_size=3),
    brand=st.sampled_from(["Boutique", "boutiqu", "AB", "Zz9 shop"]),
    smart=st.booleans(),
)
@example(
    pieces=["Boutique ", ""],
    urls=URLS,
    drawn=["BOUTIQU", "a" * 7, "b" * 7],
    brand="boutiqu",
    smart=False,
)
@example(pieces=["x ", " au 36111"], urls=URLS, drawn=["abcSTOP"] * 3, brand="AB", smart=True)
def test_a_linked_text_is_the_text_composed_whole(
    pieces: list[str], urls: list[str], drawn: list[str], brand: str, smart: bool
) -> None:
    body = "".join(p + u for p, u in zip(pieces, urls, strict=False)) + pieces[-1]
    found = linked_body(body, base=BASE)
    if found is None:
        return
    frame = message_frame(
        purpose=Purpose.MARKETING, country="FR", brand=brand, stop_number="36111", language="fr"
    )
    mine = drawn[: len(found.urls)]
    # as `rewrite_links` writes it: each URL replaced by its code's short link
    real = found.pieces[0] + "".join(
        BASE + mine[slot] + piece for slot, piece in zip(found.slots, found.pieces[1:], strict=True)
    )
    whole = _compose(frame, real, smart)
    if not code_independent(frame, found, BASE):
        return
    shaped = _compose(frame, found.shaped(BASE), smart)
    if shaped[0] == "error":
        assert whole == shaped
        return
    planned = frame.planned(found.shaped(BASE), smart_encoding=smart)
    composed = (planned.text, str(planned.encoding), planned.segments, 0, None, 0, planned.units)
    cut = linked_text(composed, found)
    if cut is None:
        return
    assert (cut.text(mine), *shaped[1:]) == whole


def test_a_brand_or_footer_that_could_be_read_in_a_code_is_not_composed_once() -> None:
    frame = message_frame(purpose=Purpose.MARKETING, country="US", brand="Promo42")
    found = linked_body("Soldes https://shop.example/a !", base=BASE)
    assert found is not None
    assert not code_independent(frame, found, BASE)  # a code may be "PROMO42"
    footer = message_frame(
        purpose=Purpose.MARKETING, country="FR", brand="Boutique", stop_number="36111"
    )
    near = linked_body("Boutique https://shop.example/a au 36111", base=BASE)
    assert near is not None
    assert not code_independent(footer, near, BASE)  # a code may end in "STOP"
    far = linked_body("Boutique https://shop.example/a, au 36111", base=BASE)
    assert far is not None
    assert code_independent(footer, far, BASE)


def test_urls_are_checked_and_placeholders_told_apart() -> None:
    with pytest.raises(ValidationError):
        linked_body("https://" + "x" * 2000, base=BASE)
    found = linked_body(f"Code {PLACEHOLDER} : https://shop.example/a", base=BASE)
    assert found is not None
    composed = (found.shaped(BASE), "GSM-7", 1, 0, None, 0, 40)
    assert linked_text(composed, found) is None  # the text holds a placeholder of its own
