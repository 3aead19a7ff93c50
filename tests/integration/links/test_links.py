"""Tracked links on both backends: bulk shortening, reuse, the redirect, clicks per campaign."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact, new_campaign

from textopt.config import Settings
from textopt.db import utcnow
from textopt.errors import NotFoundError, ValidationError
from textopt.links import service as links_service
from textopt.links.models import LinkClick, LinkCode
from textopt.links.service import (
    CODE_LENGTH,
    clicks_by_campaign,
    clicks_by_contact,
    follow_link,
    link_base,
    preview_links,
    rewrite_links,
)

BASE = "https://go.example.com/"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def campaign_and_contacts(session: Session, settings: Settings) -> tuple[int, list[int]]:
    contacts = [add_contact(session, f"+3361234567{i}") for i in range(3)]
    campaign = new_campaign(session, settings)
    session.commit()
    return campaign.id, [c.id for c in contacts]


def test_each_recipient_gets_their_own_code_for_each_url(
    session: Session, campaign_and_contacts: tuple[int, list[int]]
) -> None:
    campaign_id, (alice, bob, _) = campaign_and_contacts
    texts = [
        (alice, "Soldes sur https://shop.example.fr/soldes?x=1. Et https://shop.example.fr/b !"),
        (bob, "Soldes sur https://shop.example.fr/soldes?x=1."),
    ]
    out = rewrite_links(session, texts=texts, campaign_id=campaign_id, base=BASE)
    assert out[0].startswith(f"Soldes sur {BASE}")
    assert out[0].endswith(" !")
    assert "shop.example.fr" not in "".join(out)
    alice_codes = [w.removeprefix(BASE).rstrip(".") for w in out[0].split() if w.startswith(BASE)]
    bob_code = out[1].split()[-1].removeprefix(BASE).rstrip(".")
    assert len({*alice_codes, bob_code}) == 3
    assert all(len(code) == CODE_LENGTH and code.isalnum() for code in alice_codes)
    assert session.scalar(select(func.count()).select_from(LinkCode)) == 3


def test_planning_again_reuses_the_codes(
    session: Session, campaign_and_contacts: tuple[int, list[int]]
) -> None:
    campaign_id, (alice, *_) = campaign_and_contacts
    texts = [(alice, "Voir https://shop.example.fr/a")]
    first = rewrite_links(session, texts=texts, campaign_id=campaign_id, base=BASE)
    session.commit()
    again = rewrite_links(session, texts=texts, campaign_id=campaign_id, base=BASE)
    assert first == again
    assert session.scalar(select(func.count()).select_from(LinkCode)) == 1


def test_a_code_drawn_twice_is_drawn_again_and_every_link_is_the_stored_one(
    session: Session, campaign_and_contacts: tuple[int, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clash on the code (already another contact's) skips that row and draws anew."""
    campaign_id, (alice, bob, carol) = campaign_and_contacts
    url = "https://shop.example.fr/a"
    first = rewrite_links(session, texts=[(alice, url)], campaign_id=campaign_id, base=BASE)
    taken = first[0].removeprefix(BASE)
    draws = iter([[taken, "Bbbbbbb"], ["Ccccccc"]])
    monkeypatch.setattr(links_service, "draw_codes", lambda count: next(draws)[:count])
    out = rewrite_links(
        session, texts=[(bob, url), (carol, url)], campaign_id=campaign_id, base=BASE
    )
    assert out == [f"{BASE}Ccccccc", f"{BASE}Bbbbbbb"]
    stored = dict(session.execute(select(LinkCode.contact_id, LinkCode.code)).all())
    assert stored == {alice: taken, bob: "Ccccccc", carol: "Bbbbbbb"}
    created = session.scalars(select(LinkCode.created_at)).all()
    assert all(at.tzinfo is not None and abs(at - utcnow()).total_seconds() < 600 for at in created)


def test_codes_are_drawn_evenly_from_the_alphabet() -> None:
    codes = links_service.draw_codes(20_000)
    assert len(set(codes)) == 20_000
    assert all(len(code) == CODE_LENGTH and links_service.is_link_code(code) for code in codes)
    counts = Counter("".join(codes))
    assert set(counts) == set(links_service.CODE_ALPHABET)
    expected = 20_000 * CODE_LENGTH / len(links_service.CODE_ALPHABET)  # 2,258 each
    assert all(abs(count - expected) < 0.15 * expected for count in counts.values())


def test_texts_without_urls_and_links_already_short_are_left_alone(
    session: Session, campaign_and_contacts: tuple[int, list[int]]
) -> None:
    campaign_id, (alice, bob, _) = campaign_and_contacts
    texts = [(alice, "Rien à raccourcir"), (bob, f"Déjà court : {BASE}AbCdEf1")]
    assert rewrite_links(session, texts=texts, campaign_id=campaign_id, base=BASE) == [
        t for _, t in texts
    ]
    assert session.scalar(select(func.count()).select_from(LinkCode)) == 0


def test_the_preview_has_the_length_of_the_real_short_link(
    session: Session, campaign_and_contacts: tuple[int, list[int]]
) -> None:
    campaign_id, (alice, *_) = campaign_and_contacts
    text = "Offre : https://shop.example.fr/a/very/long/path?utm_source=sms&utm_medium=x, vite"
    real = rewrite_links(session, texts=[(alice, text)], campaign_id=campaign_id, base=BASE)[0]
    assert len(preview_links(text, base=BASE)) == len(real)
    assert preview_links(text, base=BASE).endswith(", vite")


def test_following_a_link_redirects_and_counts_the_click_for_that_contact(
    session: Session, campaign_and_contacts: tuple[int, list[int]]
) -> None:
    campaign_id, (alice, bob, _) = campaign_and_contacts
    out = rewrite_links(
        session,
        texts=[(alice, "https://shop.example.fr/a"), (bob, "https://shop.example.fr/a")],
        campaign_id=campaign_id,
        base=BASE,
    )
    session.commit()
    code = out[0].removeprefix(BASE)
    for _ in range(2):
        url = follow_link(session, code=code, user_agent="Mozilla/5.0", now=NOW)
        assert url == "https://shop.example.fr/a"
    session.commit()
    summary = clicks_by_campaign(session, campaign_id=campaign_id)
    assert (summary.clicks, summary.contacts, summary.links) == (2, 1, 2)
    assert summary.by_url == {"https://shop.example.fr/a": 2}
    assert clicks_by_contact(session, contact_id=alice) == {campaign_id: 2}
    assert clicks_by_contact(session, contact_id=bob) == {}
    click = session.scalars(select(LinkClick)).first()
    assert click is not None
    assert click.user_agent_hash
    assert "Mozilla" not in click.user_agent_hash


@pytest.mark.parametrize("code", ["AAAAAAA", "short", "../etc/pas", "AAAAAAAAAAAA"])
def test_an_unknown_or_malformed_code_is_not_found_and_records_nothing(
    session: Session, code: str
) -> None:
    with pytest.raises(NotFoundError):
        follow_link(session, code=code, user_agent=None, now=NOW)
    assert session.scalar(select(func.count()).select_from(LinkClick)) == 0


def test_a_url_too_long_to_shorten_is_refused_with_nothing_written(
    session: Session, campaign_and_contacts: tuple[int, list[int]]
) -> None:
    campaign_id, (alice, *_) = campaign_and_contacts
    with pytest.raises(ValidationError, match="2000"):
        rewrite_links(
            session,
            texts=[(alice, "https://shop.example.fr/" + "a" * 2100)],
            campaign_id=campaign_id,
            base=BASE,
        )
    assert session.scalar(select(func.count()).select_from(LinkCode)) == 0


def test_the_link_base_is_the_link_domain_or_the_servers_own_path(settings: Settings) -> None:
    assert link_base(settings.model_copy(update={"link_domain": "go.example.com"})) == BASE
    plain = settings.model_copy(update={"public_base_url": "https://sms.example.com/"})
    assert link_base(plain) == "https://sms.example.com/l/"
