"""The audience filter language: its grammar, its fields and the tree a filter parses into.

A filter such as ``tag:vip and country:FR and not attributes.city = "Lyon"`` is tokenized,
parsed by recursive descent into a tree of frozen dataclasses (`Filter`), and compiled into a
SQLAlchemy boolean expression over `Contact`. Every value reaches the database as a bound
parameter; no SQL is built from strings. Grammar (``and``/``or``/``not``/``in``, keywords and
field names are case-insensitive; attribute keys are not)::

    filter     := or_expr END
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | primary
    primary    := "(" or_expr ")" | flag | keyword ":" values | comparison
    flag       := "all" | "customer" | "prospect"
    keyword    := tag | country | language | region | consent | consent_status | has
                | active_within | inactive_for | created_after | created_before
                | event                       (event:TYPE,TYPE... ["within" PERIOD])
    values     := value ("," value)*
    comparison := field op value | field "in" "(" values ")"
    op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"        (~ : contains, any case)
    field      := first_name | last_name | email | phone | language | country | region
                | timezone | created_at | last_activity_at | "attributes." key
    value      := STRING | WORD     ("double quoted", \\" \\\\ \\n \\t escapes; a bare WORD
                                     that looks like a number is a number, true/false are
                                     booleans, anything else is text)

Special forms: ``consent:sms`` (current marketing consent granted or confirmed),
``consent:sms.transactional``, ``consent_status:sms=revoked`` (statuses requested, granted,
confirmed, revoked, none), ``has:email``, ``active_within:90d``, ``inactive_for:1y`` (d, w,
m = 30 days, y = 365 days), ``created_after:2026-01-01`` (on or after),
``created_before:2026-02-01``, ``event:order_shipped`` (an event of that type, ever) and
``event:order_shipped within 7d`` (one that occurred in the 7 days before the evaluation
time; windows also take h for hours).

The logic has two values: a comparison on a missing value is false, and ``not X`` always
matches exactly the contacts ``X`` does not (so ``first_name != "Bob"`` includes contacts
without a first name). Erased contacts never match. See docs/segments.md for users.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

__all__ = [
    "DATE_FIELDS",
    "KEYWORDS",
    "TEXT_FIELDS",
    "ActiveWithin",
    "Among",
    "And",
    "Compare",
    "Consent",
    "CreatedAfter",
    "CreatedBefore",
    "Customer",
    "EventHappened",
    "Everyone",
    "Field",
    "Filter",
    "Has",
    "InList",
    "InactiveFor",
    "Moment",
    "Not",
    "Number",
    "Or",
    "Period",
    "TagIs",
    "Text",
    "Truth",
    "Value",
]


TEXT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "country",
    "region",
    "timezone",
)
DATE_FIELDS = ("created_at", "last_activity_at")
KEYWORDS = (
    "tag",
    "country",
    "language",
    "region",
    "consent",
    "consent_status",
    "has",
    "active_within",
    "inactive_for",
    "created_after",
    "created_before",
    "event",
)

_RESERVED = frozenset({"and", "or", "not", "in"})
_STOP = frozenset(" \t\r\n\f\v()\",:=!<>~'")
_PERIOD_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
_PERIOD_HOURS = {"h": 1} | {unit: 24 * days for unit, days in _PERIOD_DAYS.items()}
_GIVEN = ("confirmed", "granted")


# --- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A text value."""

    value: str


@dataclass(frozen=True, slots=True)
class Number:
    """A decimal number, compared numerically."""

    value: Decimal


@dataclass(frozen=True, slots=True)
class Truth:
    """`true` or `false`."""

    value: bool


@dataclass(frozen=True, slots=True)
class Moment:
    """A calendar day (midnight to midnight UTC) or an exact instant with its offset."""

    value: dt.date | dt.datetime


Value: TypeAlias = Text | Number | Truth | Moment


@dataclass(frozen=True, slots=True)
class Field:
    """A contact column (`name`) or a JSON attribute (`name == "attributes"`, `key`)."""

    name: str
    key: str | None = None

    def __str__(self) -> str:
        return f"attributes.{self.key}" if self.key is not None else self.name


@dataclass(frozen=True, slots=True)
class Period:
    """A length of time such as 90d, 6w, 18m (30 days each), 2y (365 days each) or, for
    event windows only, 24h."""

    amount: int
    unit: str

    @property
    def delta(self) -> dt.timedelta:
        """The period as a duration."""
        return dt.timedelta(hours=self.amount * _PERIOD_HOURS[self.unit])


@dataclass(frozen=True, slots=True)
class Everyone:
    """`all`: every contact that is not erased."""


@dataclass(frozen=True, slots=True)
class Customer:
    """`customer` (True) or `prospect` (False)."""

    value: bool


@dataclass(frozen=True, slots=True)
class TagIs:
    """`tag:a,b`: has any of these tags."""

    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Among:
    """`country:FR,BE`, `language:fr`, `region:67`: the field is any of these codes."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Consent:
    """The current consent on (channel, purpose) is one of `statuses` ("none": never asked)."""

    channel: str
    purpose: str
    statuses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Has:
    """`has:email`: the field is set and not empty."""

    field: Field


@dataclass(frozen=True, slots=True)
class ActiveWithin:
    """Last activity within the period before the evaluation time."""

    period: Period


@dataclass(frozen=True, slots=True)
class InactiveFor:
    """No activity (or, never active, no creation) within the period before evaluation."""

    period: Period


@dataclass(frozen=True, slots=True)
class CreatedAfter:
    """Created on or after the start of the moment."""

    moment: Moment


@dataclass(frozen=True, slots=True)
class CreatedBefore:
    """Created before the start of the moment."""

    moment: Moment


@dataclass(frozen=True, slots=True)
class EventHappened:
    """`event:a,b`: an event of any of these types occurred (within `within` before the
    evaluation time, if given; never after it)."""

    types: tuple[str, ...]
    within: Period | None = None


@dataclass(frozen=True, slots=True)
class Compare:
    """`field op value`."""

    field: Field
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class InList:
    """`field in (v1, v2, ...)`."""

    field: Field
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class And:
    """All terms match (never nested in another And)."""

    terms: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Any term matches (never nested in another Or)."""

    terms: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The term does not match."""

    term: Filter


Filter: TypeAlias = (
    Everyone
    | Customer
    | TagIs
    | Among
    | Consent
    | Has
    | ActiveWithin
    | InactiveFor
    | CreatedAfter
    | CreatedBefore
    | EventHappened
    | Compare
    | InList
    | And
    | Or
    | Not
)
