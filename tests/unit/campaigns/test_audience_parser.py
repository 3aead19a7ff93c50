"""The audience filter language: trees, precedence, canonical text and error columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.campaigns.audience import (
    ActiveWithin,
    Among,
    And,
    Compare,
    Consent,
    CreatedAfter,
    CreatedBefore,
    Customer,
    EventHappened,
    Everyone,
    Field,
    Filter,
    Has,
    InactiveFor,
    InList,
    Moment,
    Not,
    Number,
    Or,
    Period,
    TagIs,
    Text,
    Truth,
    describe,
    parse_filter,
)
from textopt.errors import ValidationError

VIP = TagIs(("vip",))
FR = Among("country", ("FR",))
CUSTOMER = Customer(True)
LYON = Compare(Field("attributes", "city"), "=", Text("Lyon"))


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("tag:vip", VIP),
        ("tag:vip,gold,vip", TagIs(("gold", "vip"))),
        ('tag:"Black  Friday"', TagIs(("black friday",))),  # tags are stored in lower case
        ("tag:VIP,Vip", VIP),
        ("country:fr,BE", Among("country", ("BE", "FR"))),
        ("language:FR_ca", Among("language", ("fr-ca",))),
        ("region:67", Among("region", ("67",))),
        ("customer", CUSTOMER),
        ("prospect", Customer(False)),
        ("all", Everyone()),
        ("consent:sms", Consent("sms", "marketing", ("confirmed", "granted"))),
        ("consent:EMAIL", Consent("email", "marketing", ("confirmed", "granted"))),
        ("consent:sms.transactional", Consent("sms", "transactional", ("confirmed", "granted"))),
        ("consent_status:sms=revoked", Consent("sms", "marketing", ("revoked",))),
        ("consent_status:sms=none,revoked", Consent("sms", "marketing", ("none", "revoked"))),
        ("has:email", Has(Field("email"))),
        ("has:attributes.City", Has(Field("attributes", "City"))),
        ("active_within:90d", ActiveWithin(Period(90, "d"))),
        ("inactive_for:1Y", InactiveFor(Period(1, "y"))),
        ("created_after:2026-01-01", CreatedAfter(Moment(dt.date(2026, 1, 1)))),
        (
            'created_before:"2026-01-01T09:30:00+01:00"',
            CreatedBefore(
                Moment(dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))))
            ),
        ),
        ('attributes.city = "Lyon"', LYON),
        ("attributes.age >= 30", Compare(Field("attributes", "age"), ">=", Number(Decimal(30)))),
        ('attributes.age >= "30"', Compare(Field("attributes", "age"), ">=", Text("30"))),
        (
            "attributes.score < -1.5",
            Compare(Field("attributes", "score"), "<", Number(Decimal("-1.5"))),
        ),
        ("attributes.vip = TRUE", Compare(Field("attributes", "vip"), "=", Truth(True))),
        ('First_Name != "Bob"', Compare(Field("first_name"), "!=", Text("Bob"))),
        ('last_name ~ "mart"', Compare(Field("last_name"), "~", Text("mart"))),
        ("country = fr", Compare(Field("country"), "=", Text("FR"))),
        ("region = 67", Compare(Field("region"), "=", Text("67"))),
        ("phone=+33612345678", Compare(Field("phone"), "=", Text("+33612345678"))),
        (
            "created_at <= 2026-01-31",
            Compare(Field("created_at"), "<=", Moment(dt.date(2026, 1, 31))),
        ),
        (
            'attributes.city in ("Lyon", Paris, "Lyon")',
            InList(Field("attributes", "city"), (Text("Lyon"), Text("Paris"))),
        ),
        (
            'first_name = "a \\"b\\" \\\\ \\n\\t"',
            Compare(Field("first_name"), "=", Text('a "b" \\ \n\t')),
        ),
    ],
)  # fmt: skip
def test_terms_parse_to_their_tree(text: str, tree: Filter) -> None:
    assert parse_filter(text) == tree


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("tag:vip or customer and country:FR", Or((VIP, And((CUSTOMER, FR))))),
        ("tag:vip and customer or country:FR", Or((And((VIP, CUSTOMER)), FR))),
        ("not tag:vip and customer", And((Not(VIP), CUSTOMER))),
        ("not (tag:vip and customer)", Not(And((VIP, CUSTOMER)))),
        ("not not tag:vip", Not(Not(VIP))),
        ("(tag:vip or customer) and country:FR", And((Or((VIP, CUSTOMER)), FR))),
        ("tag:vip and (customer and country:FR)", And((VIP, CUSTOMER, FR))),
        ("((tag:vip))", VIP),
        ("TAG:vip AND NOT Customer OR Country:FR", Or((And((VIP, Not(CUSTOMER))), FR))),
        ('tag:vip and country:FR and not attributes.city = "Lyon"', And((VIP, FR, Not(LYON)))),
    ],
)
def test_precedence_is_not_then_and_then_or(text: str, tree: Filter) -> None:
    assert parse_filter(text) == tree


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("TAG:vip AND  country:fr", "tag:vip and country:FR"),
        ("tag:vip or (customer and country:FR)", "tag:vip or customer and country:FR"),
        ("(tag:vip or customer) and country:FR", "(tag:vip or customer) and country:FR"),
        ("not (tag:vip or customer)", "not (tag:vip or customer)"),
        ("tag:vip and (customer and prospect)", "tag:vip and customer and prospect"),
        ('tag:gold,vip,"Black Friday"', 'tag:"black friday",gold,vip'),
        ('tag:"and"', 'tag:"and"'),
        ("consent_status:sms.marketing=granted,confirmed", "consent:sms"),
        ("consent_status:SMS.transactional=None", "consent_status:sms.transactional=none"),
        ("country = fr", 'country = "FR"'),
        ("attributes.age>=30.50", "attributes.age >= 30.5"),
        ("attributes.age = 1e3", 'attributes.age = "1e3"'),
        ('attributes.x in (1, "1", true)', 'attributes.x in (1, "1", true)'),
        ('first_name = "say \\"hi\\""', 'first_name = "say \\"hi\\""'),
        ("created_at >= 2026-01-01", "created_at >= 2026-01-01"),
        ('created_after:"2026-01-01T10:00:00Z"', 'created_after:"2026-01-01T10:00:00+00:00"'),
        ("inactive_for:18M", "inactive_for:18m"),
    ],
)
def test_describe_gives_the_canonical_text(text: str, canonical: str) -> None:
    assert describe(parse_filter(text)) == canonical
    assert parse_filter(canonical) == parse_filter(text)


_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12
)
_tags = _words.map(lambda t: " ".join(t.split()).lower()).filter(bool)
_keys = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)
_numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=2).map(Number)
_fields = st.sampled_from(["first_name", "last_name", "email", "phone", "timezone"]).map(Field)
_leaves: st.SearchStrategy[Filter] = st.one_of(
    st.just(Everyone()),
    st.booleans().map(Customer),
    st.lists(_tags, min_size=1, max_size=3).map(lambda ts: TagIs(tuple(sorted(set(ts))))),
    st.builds(Compare, _fields, st.sampled_from(["=", "!=", "<", "~"]), _words.map(Text)),
    st.builds(
        Compare,
        _keys.map(lambda k: Field("attributes", k)),
        st.sampled_from(["=", ">=", "<"]),
        st.one_of(_numbers, _words.map(Text)),
    ),
    st.builds(ActiveWithin, st.builds(Period, st.integers(1, 99), st.sampled_from("dwmy"))),
    st.builds(
        EventHappened,
        st.lists(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,8}", fullmatch=True), min_size=1).map(
            lambda ts: tuple(sorted(set(ts)))
        ),
        st.none() | st.builds(Period, st.integers(0, 99), st.sampled_from("hdwmy")),
    ),
)


def _join(kind: type[And] | type[Or], terms: list[Filter]) -> Filter:
    flat = [t for term in terms for t in (term.terms if isinstance(term, kind) else (term,))]
    return kind(tuple(flat))


_trees = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: _join(And, ts)),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: _join(Or, ts)),
    ),
    max_leaves=8,
)


@given(_trees)
def test_describe_then_parse_gives_back_the_same_tree(tree: Filter) -> None:
    assert parse_filter(describe(tree)) == tree


# Each bad filter, the column of the mistake and the first line of the message.
ERRORS = [
    ('attributes.city =', 18, 'expected a value after "=" but found the end of the filter'),
    ("tagg:vip", 1, 'unknown keyword "tagg"; did you mean "tag"?'),
    ("tag:vip and", 12, "expected a filter term but found the end of the filter"),
    ("tag:vip country:FR", 9, 'expected "and" or "or" before "country"'),
    ("(tag:vip or customer", 21,
     'expected ")" to close the "(" at column 1 but found the end of the filter'),
    ("tag:vip)", 8, 'this ")" closes nothing'),
    ('frist_name = "Bob"', 1, 'unknown field "frist_name"; did you mean "first_name"? (fields: '
     "first_name, last_name, email, phone, language, country, region, timezone, created_at, "
     "last_activity_at, attributes.<key>)"),
    ('first_name = "Bob', 14, 'this text is never closed: add the missing "'),
    ("first_name = 'Bob'", 14, 'text values use double quotes: "like this"'),
    ("tag:", 5, 'expected a value after ":" but found the end of the filter'),
    ("country:France", 9, '"France" is not a two-letter country code (e.g. FR, BE)'),
    ("active_within:90", 15, '"90" is not a period like 90d, 6w, 18m or 2y'),
    ("active_within:200y", 15, '"200y" is longer than 100 years'),
    ("created_after:2026-02-30", 15, '"2026-02-30" is not a date in the calendar'),
    ("created_after:2026-01-01T10:00:00Z", 15,
     'write a date-time in double quotes: "2026-01-31T09:00:00+01:00"'),
    ('created_after:"2026-01-01T10:00:00"', 15,
     '"2026-01-01T10:00:00" has no offset: write e.g. "2026-01-31T09:00:00+01:00" or ...Z'),
    ("consent:fax", 9, 'unknown channel "fax" (channels: sms, email)'),
    ("consent:sms.promo", 13, 'unknown purpose "promo" (purposes: marketing, transactional)'),
    ("consent:emial", 9, 'unknown channel "emial"; did you mean "email"? (channels: sms, email)'),
    ("consent_status:sms", 19, 'expected "=" and statuses after "consent_status:sms" (e.g. '
     "=revoked) but found the end of the filter"),
    ("consent_status:sms=maybe", 20,
     'unknown consent status "maybe" (statuses: confirmed, granted, none, requested, revoked)'),
    ("consent:sms,email", 13, "consent takes one value, not a list"),
    ("has:attributes.", 16,
     'expected an attribute name after "attributes." (letters, digits, _ and -)'),
    ("attributes.a.b = 1", 13, '"." cannot appear in an attribute name (letters, digits, _ and -)'),
    ("first_name = true", 14, "first_name = true: true and false only compare with = and != on "
     'attributes (quote it to mean the text: "true")'),
    ("created_at ~ 2026", 12, '"~" (contains) works on text; created_at is a date'),
    ("created_at in (2026-01-01)", 12, "created_at is a date: compare it with = < <= > >="),
    ("created_at = yesterday", 14,
     'created_at takes a date like 2026-01-31; "yesterday" is not one'),
    ("", 1, "the filter is empty; write all to select every contact"),
    ("vip", 1, 'unknown term "vip": expected e.g. tag:vip, customer, or a comparison like '
     'first_name = "Bob"'),
    ("custmer", 1, 'unknown term "custmer"; did you mean "customer"?'),
    ("tag vip", 5, 'expected ":" after "tag" (e.g. tag:...)'),
    ("first_name Bob", 12,
     'expected an operator (= != < <= > >= ~ in) after "first_name" but found "Bob"'),
    ("not", 4, "expected a filter term but found the end of the filter"),
    ("and tag:vip", 1, 'expected a filter term before "and"'),
    ("tag:vip or or customer", 12, 'expected a filter term before "or"'),
    ("attributes.city:Lyon", 16,
     'a field is compared with an operator: write attributes.city = "..."'),
    ('first_name = "a\\q"', 16, 'unknown escape "\\q": use \\" \\\\ \\n or \\t'),
    ("tag:vip ! customer", 9, 'unexpected "!": write "not" to negate, "!=" for unequal'),
    ('attributes.c in ("a" "b")', 22,
     'expected "," or ")" in the list opened at column 17 but found the text "b"'),
    ("attributes.c in 3", 17, 'expected "(" after "in" but found "3"'),
    ("first_name = and", 14,
     'expected a value after "=" but found "and" (quote it to mean the text: "and")'),
    ("language:french", 10, '"french" is not a language code (e.g. fr, en, fr-ca)'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "column", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_say_what_and_at_which_column(text: str, column: int, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filter(text)
    first, shown, caret = caught.value.message.split("\n")
    assert first == f"column {column}: {message}"
    assert shown == f"  {text}"
    assert caret == " " * (column + 1) + "^"
    assert caught.value.field == "filter"


def test_caret_stays_aligned_when_the_filter_has_tabs_and_newlines() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filter("tag:vip\n\tand")
    first, shown, caret = caught.value.message.split("\n")
    assert first.startswith("column 13: ")
    assert shown == "  tag:vip  and"
    assert caret.index("^") == len("  tag:vip  and")


def test_nesting_is_bounded_with_the_column_of_the_first_level_too_many() -> None:
    assert parse_filter("(" * 50 + "all" + ")" * 50) == Everyone()
    assert describe(parse_filter("not " * 50 + "all")) == "not " * 50 + "all"
    with pytest.raises(ValidationError, match=r"^column 51: more than 50 nested"):
        parse_filter("(" * 51 + "all" + ")" * 51)
    with pytest.raises(ValidationError, match=r"^column 201: more than 50 nested"):
        parse_filter("not " * 51 + "all")


def test_a_filter_longer_than_ten_thousand_characters_is_refused() -> None:
    assert isinstance(parse_filter(" or ".join(["tag:a"] * 1000)), Or)
    with pytest.raises(ValidationError, match="longer than 10000 characters"):
        parse_filter(" or ".join(["tag:a"] * 1112))


@pytest.mark.parametrize(
    ("text", "tree", "canonical"),
    [
        ("event:order_shipped", EventHappened(("order_shipped",)), "event:order_shipped"),
        ("EVENT:Order_Shipped", EventHappened(("order_shipped",)), "event:order_shipped"),
        (
            "event:visit,order_shipped WITHIN 7D",
            EventHappened(("order_shipped", "visit"), Period(7, "d")),
            "event:order_shipped,visit within 7d",
        ),
        ("event:x within 24h", EventHappened(("x",), Period(24, "h")), "event:x within 24h"),
        (
            "not event:x within 2w and tag:vip",
            And((Not(EventHappened(("x",), Period(2, "w"))), VIP)),
            "not event:x within 2w and tag:vip",
        ),
        ("event:within within 1y", EventHappened(("within",), Period(1, "y")), None),
        # a type that is a word of the language is written quoted, and read back
        ('event:"in",x', EventHappened(("in", "x")), 'event:"in",x'),
        ('event:"NOT"', EventHappened(("not",)), 'event:"not"'),
    ],
)
def test_event_terms_parse_and_read_back(text: str, tree: Filter, canonical: str | None) -> None:
    assert parse_filter(text) == tree
    assert parse_filter(describe(tree)) == tree
    if canonical is not None:
        assert describe(tree) == canonical


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ('event:"order shipped"', 7, '"order shipped" is not an event type'),
        ("event:x within", 15, 'expected a period after "within" (e.g. 7d or 24h)'),
        ("event:x within 7", 16, '"7" is not a period like 24h, 90d, 6w, 18m or 2y'),
        ("event:x within 7x", 16, '"7x" is not a period'),
        ("active_within:24h", 15, '"24h" is not a period like 90d, 6w, 18m or 2y'),
        ("event order_shipped", 7, 'expected ":" after "event"'),
    ],
)
def test_event_terms_errors_name_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filter(text)
    assert caught.value.message.startswith(f"column {column}: {message}")
