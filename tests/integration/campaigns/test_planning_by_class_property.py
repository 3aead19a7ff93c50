"""Planning by class equals planning one by one, byte for byte, over generated audiences
and templates (a property, on SQLite and PostgreSQL).

Attributes hold values of every JSON type (numbers, strings, nested objects, lists, null)
or are missing; templates read contact fields, flat and nested attribute paths, paths
through values that are not objects (`attributes.points.real`), methods (`.upper`, called
or not) and filters. Some recipients had marketing an hour ago: they are planned one by one
inside a run planned by class, and may tie with the others for the report's worst message.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.integration.campaigns.test_planning_by_class import _plan, _run_context
from tests.integration.campaigns.test_tracked_links import _plan_linked

from textopt.campaigns.planning import RunContext, classes
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import TemplateError
from textopt.links.service import link_base
from textopt.outbox.models import Message

_numbers = itertools.count(1000)

#: What a template outputs: contact fields, attribute paths flat, nested and through
#: values that are not objects, methods, and filters (pure or not).
PIECES = [
    "{{ first_name }}",
    "{{ last_name }}",
    "{{ attributes.city }}",
    "{{ attributes.points }}",
    "{{ attributes.points.real }}",
    "{{ attributes.city.upper }}",
    "{{ attributes.city.upper() }}",
    "{{ attributes.profile.city }}",
    "{{ attributes.profile.city.name }}",
    "{{ attributes.profile.zip | default('?') }}",
    "{{ attributes.city | default('chez vous', true) }}",
    "{{ attributes.points | default(0) }}",
    "{{ attributes.city | upper }}",
    "{{ attributes.profile | length }}",
    "{{ first_name.title() }}",
]
KEYS = ["city", "points", "profile", "name", "zip", "real", "upper"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet="aéZ€ ☀{}0.", max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=6,
)
attributes = st.dictionaries(st.sampled_from(["city", "points", "profile"]), json_values)
person = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(["Léa", "Hugo", "zoé", None]),
        "attributes": attributes,
        "recent": st.booleans(),  # marketing an hour ago: planned one by one
    }
)
template = st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map(
    lambda pieces: " et ".join(pieces) + " : -20% !"
)


def _outcome(engine: Engine, settings: Settings, campaign_id: int) -> Any:
    with session_scope(engine) as session:
        session.execute(delete(Message).where(Message.campaign_id == campaign_id))
    try:
        return _plan(engine, settings, campaign_id)
    except TemplateError as exc:
        return ("refused", exc.message)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(person, min_size=1, max_size=6), text=template, old_sqlite=st.booleans())
def test_planning_by_class_equals_planning_one_by_one(
    engine: Engine,
    campaign_settings: Settings,
    people: list[dict[str, Any]],
    text: str,
    old_sqlite: bool,
) -> None:
    """`old_sqlite`: a SQLite without `->` (the texts are keyed by the whole attributes)."""
    tag = f"p{next(_numbers)}"
    with session_scope(engine) as session:
        for fields in people:
            n = next(_numbers)
            contact = add_contact(
                session,
                f"+33 6 12 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}",
                tags=(tag,),
                first_name=fields["first_name"],
                attributes=fields["attributes"],
            )
            if fields["recent"]:
                session.add(
                    Message(
                        contact_id=contact.id,
                        channel="sms",
                        purpose="marketing",
                        recipient=contact.phone,
                        body="Une autre promotion chez Boutique",
                        segments=1,
                        status="submitted",
                        send_at=WEDNESDAY_10H - dt.timedelta(hours=1),
                        provider="sandbox",
                        idempotency_key=f"other-{n}",
                    )
                )
        campaign_id = new_campaign(session, campaign_settings, text=text, audience=f"tag:{tag}").id
    by_class = _run_context(engine, campaign_settings, campaign_id).by_class()
    event(f"planned by class: {by_class}")
    with pytest.MonkeyPatch.context() as patched:
        if old_sqlite:
            patched.setattr(classes.sqlite3, "sqlite_version_info", (3, 37, 2))
        planned = _outcome(engine, campaign_settings, campaign_id)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(RunContext, "by_class", lambda run: False)
        alone = _outcome(engine, campaign_settings, campaign_id)
    event(f"refused: {planned[0] == 'refused'}")
    assert planned == alone, (text, by_class, _difference(planned, alone))


def _difference(planned: Any, alone: Any) -> Any:
    """What differs, for the failure's message."""
    if planned[0] == "refused" or alone[0] == "refused":
        return planned, alone
    rows = {k: (v, alone[0].get(k)) for k, v in planned[0].items() if v != alone[0].get(k)}
    report = {k: (v, alone[1].get(k)) for k, v in planned[1].items() if v != alone[1].get(k)}
    return rows, report


#: URLs a template with tracked links holds: fixed, personalised, repeated, at the end of a
#: sentence, next to the footer's words.
LINK_PIECES = [
    "https://shop.example/soldes",
    "https://shop.example/p?ville={{ attributes.city }}",
    "https://shop.example/{{ first_name }}.",
    "https://shop.example/soldes au 36111",
    "(https://shop.example/soldes)",
]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person, min_size=1, max_size=6),
    pieces=st.lists(st.sampled_from(PIECES + LINK_PIECES), min_size=1, max_size=3),
    brand=st.sampled_from(["Boutique", "Soldes42"]),
)
def test_tracked_links_by_class_equal_planning_one_by_one(
    engine: Engine,
    campaign_settings: Settings,
    people: list[dict[str, Any]],
    pieces: list[str],
    brand: str,
) -> None:
    """With tracked links: the same rows, report and coded URLs, each code read back as
    the URL it stands for (codes are drawn at random)."""
    tag = f"p{next(_numbers)}"
    text = " et ".join(pieces) + " : -20% !"
    with session_scope(engine) as session:
        for fields in people:
            n = next(_numbers)
            add_contact(
                session,
                f"+33 6 13 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}",
                tags=(tag,),
                first_name=fields["first_name"],
                attributes=fields["attributes"],
            )
        campaign_id = new_campaign(
            session,
            campaign_settings,
            text=text,
            audience=f"tag:{tag}",
            track_links=True,
            brand_name=brand,
        ).id
    base = link_base(campaign_settings)

    def outcome() -> Any:
        try:
            return _plan_linked(engine, campaign_settings, campaign_id, base)
        except TemplateError as exc:
            return ("refused", exc.message)

    planned = outcome()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(RunContext, "by_class", lambda run: False)
        alone = outcome()
    event(f"refused: {planned[0] == 'refused'}")
    assert planned == alone, text
