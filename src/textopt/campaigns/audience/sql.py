"""Audience filters compiled to SQL: bound parameters only, one JSON type test per dialect."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, and_, case, false, func, not_, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean as BooleanType

from textopt.campaigns.audience.parser import parse_filter
from textopt.campaigns.audience.tree import (
    DATE_FIELDS,
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
    TagIs,
    Text,
    Truth,
    Value,
)
from textopt.consent.models import ConsentState
from textopt.contacts.fields import FALSY, TRUTHY
from textopt.contacts.models import Contact, ContactTag
from textopt.events.models import ContactEvent

__all__ = ["audience_select", "compile_filter"]

# --- SQL --------------------------------------------------------------------------------------


class _JsonKindIs(ColumnElement[bool]):
    """True when a JSON attribute holds a value of one of `kinds`; never NULL.

    Kinds: string, number, boolean, object, array, and numeric-text (a string holding a
    decimal number, as CSV imports store them). SQLAlchemy has no portable JSON type test,
    and PostgreSQL raises on `CAST('Lyon' AS FLOAT)`, so numeric and boolean comparisons are
    guarded by this (inside a CASE, which PostgreSQL evaluates in order).
    """

    __visit_name__ = "json_kind_is"
    inherit_cache = True
    _traverse_internals = [
        ("index", InternalTraversal.dp_clauseelement),
        ("text_value", InternalTraversal.dp_clauseelement),
        ("kinds", InternalTraversal.dp_string),
    ]
    type = BooleanType()

    def __init__(self, key: str, kinds: str) -> None:
        self.index = Contact.attributes[key]
        self.text_value = Contact.attributes[key].as_string()
        self.kinds = kinds


_SQLITE_KINDS = {
    "string": ("text",),
    "number": ("integer", "real"),
    "boolean": ("true", "false"),
    "object": ("object",),
    "array": ("array",),
}


def _in_list(kinds: tuple[str, ...]) -> str:
    return ", ".join(f"'{k}'" for k in kinds)  # constants of this module, never user input


@compiles(_JsonKindIs, "postgresql")
def _json_kind_postgresql(element: _JsonKindIs, compiler: SQLCompiler, **kw: Any) -> str:
    kind = f"coalesce(jsonb_typeof({compiler.process(element.index, **kw)}), '')"
    kinds = element.kinds.split(",")
    parts = []
    plain = tuple(k for k in kinds if k != "numeric-text")
    if plain:
        parts.append(f"{kind} IN ({_in_list(plain)})")
    if "numeric-text" in kinds:
        text = compiler.process(element.text_value, **kw)
        parts.append(f"({kind} = 'string' AND {text} ~ '^-?([0-9]+\\.?[0-9]*|\\.[0-9]+)$')")
    return "(" + " OR ".join(parts) + ")"


@compiles(_JsonKindIs, "sqlite")
def _json_kind_sqlite(element: _JsonKindIs, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.index.left, **kw)
    path = compiler.process(element.index.right, **kw)
    kind = f"coalesce(json_type({column}, {path}), '')"
    kinds = element.kinds.split(",")
    parts = []
    plain = tuple(name for k in kinds if k != "numeric-text" for name in _SQLITE_KINDS[k])
    if plain:
        parts.append(f"{kind} IN ({_in_list(plain)})")
    if "numeric-text" in kinds:
        # GLOB has no repetition: only digits, "." and "-", one digit at least, "-" first
        # only, one "." at most; the same set as the PostgreSQL pattern.
        text = compiler.process(element.text_value, **kw)
        parts.append(
            f"({kind} = 'text' AND {text} NOT GLOB '*[^0-9.-]*' AND {text} GLOB '*[0-9]*' "
            f"AND {text} NOT GLOB '?*-*' AND {text} NOT GLOB '*.*.*')"
        )
    return "(" + " OR ".join(parts) + ")"


def compile_filter(filter: Filter, *, now: dt.datetime) -> ColumnElement[bool]:
    """The filter as a SQL condition on `Contact` (erased contacts excluded), values bound."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return and_(Contact.erased_at.is_(None), _sql(filter, now))


def audience_select(text_or_filter: str | Filter, *, now: dt.datetime) -> Select[int]:
    """The ids of the matching contacts, ascending (page with `Contact.id > last_id`)."""
    tree = parse_filter(text_or_filter) if isinstance(text_or_filter, str) else text_or_filter
    return select(Contact.id).where(compile_filter(tree, now=now)).order_by(Contact.id)


def _start(moment: Moment) -> dt.datetime:
    if isinstance(moment.value, dt.datetime):
        return moment.value
    return dt.datetime.combine(moment.value, dt.time(), tzinfo=dt.UTC)


def _sql(node: Filter, now: dt.datetime) -> ColumnElement[bool]:
    if isinstance(node, And):
        return and_(*(_sql(t, now) for t in node.terms))
    if isinstance(node, Or):
        return or_(*(_sql(t, now) for t in node.terms))
    if isinstance(node, Not):
        return not_(_sql(node.term, now))
    if isinstance(node, Everyone):
        return true()
    if isinstance(node, Customer):
        return Contact.is_customer.is_(true() if node.value else false())
    if isinstance(node, TagIs):
        return (
            select(ContactTag.contact_id)
            .where(ContactTag.contact_id == Contact.id, ContactTag.tag.in_(node.tags))
            .exists()
        )
    if isinstance(node, Among):
        return _among(node)
    if isinstance(node, Consent):
        return _consent(node)
    if isinstance(node, Has):
        return _has(node.field)
    if isinstance(node, ActiveWithin):
        since = now - node.period.delta
        return and_(Contact.last_activity_at.is_not(None), Contact.last_activity_at >= since)
    if isinstance(node, InactiveFor):
        last_seen = func.coalesce(Contact.last_activity_at, Contact.created_at)
        return last_seen < now - node.period.delta
    if isinstance(node, CreatedAfter):
        return Contact.created_at >= _start(node.moment)
    if isinstance(node, CreatedBefore):
        return Contact.created_at < _start(node.moment)
    if isinstance(node, EventHappened):
        return _event(node, now)
    if isinstance(node, Compare | InList):
        if node.field.name == "attributes":
            assert node.field.key is not None
            return _attribute(node, node.field.key)
        if node.field.name in DATE_FIELDS:
            assert isinstance(node, Compare)
            assert isinstance(node.value, Moment)
            return _date(node.field.name, node.op, node.value)
        return _text_field(node)
    raise TypeError(f"not a filter node: {node!r}")  # pragma: no cover


def _among(node: Among) -> ColumnElement[bool]:
    column = getattr(Contact, node.field)
    if node.field != "language":
        return and_(column.is_not(None), column.in_(node.values))
    # language:fr also matches regional variants such as fr-ca
    exact = [column.in_(node.values)]
    variants = [column.startswith(v + "-", autoescape=True) for v in node.values if "-" not in v]
    return and_(column.is_not(None), or_(*exact, *variants))


def _consent(node: Consent) -> ColumnElement[bool]:
    same = and_(
        ConsentState.contact_id == Contact.id,
        ConsentState.channel == node.channel,
        ConsentState.purpose == node.purpose,
    )
    recorded = [s for s in node.statuses if s != "none"]
    parts: list[ColumnElement[bool]] = []
    if recorded:
        parts.append(
            select(ConsentState.contact_id).where(same, ConsentState.status.in_(recorded)).exists()
        )
    if "none" in node.statuses:
        parts.append(not_(select(ConsentState.contact_id).where(same).exists()))
    return or_(*parts)


def _event(node: EventHappened, now: dt.datetime) -> ColumnElement[bool]:
    # one index range per type: (contact_id, type, occurred_at)
    conditions = [
        ContactEvent.contact_id == Contact.id,
        ContactEvent.type.in_(node.types),
        ContactEvent.occurred_at <= now,  # evaluated as of `now`, also for a past `now`
    ]
    if node.within is not None:
        conditions.append(ContactEvent.occurred_at >= now - node.within.delta)
    return select(ContactEvent.id).where(*conditions).exists()


def _has(field: Field) -> ColumnElement[bool]:
    if field.key is not None:
        filled = _JsonKindIs(field.key, "number,boolean,object,array")
        text = Contact.attributes[field.key].as_string()
        return or_(filled, and_(_JsonKindIs(field.key, "string"), text != ""))
    column = getattr(Contact, field.name)
    if field.name in DATE_FIELDS:
        return column.is_not(None)  # type: ignore[no-any-return]
    return and_(column.is_not(None), column != "")


def _date(name: str, op: str, moment: Moment) -> ColumnElement[bool]:
    column = getattr(Contact, name)
    start = _start(moment)
    # A calendar day covers midnight to midnight UTC; an instant is itself.
    end = start + dt.timedelta(days=1) if not isinstance(moment.value, dt.datetime) else None
    conditions = {
        "=": and_(column >= start, column < end) if end else column == start,
        "<": column < start,
        "<=": column < end if end else column <= start,
        ">": column >= end if end else column > start,
        ">=": column >= start,
    }
    if op == "!=":
        return not_(and_(column.is_not(None), conditions["="]))
    return and_(column.is_not(None), conditions[op])


def _text_field(node: Compare | InList) -> ColumnElement[bool]:
    column = getattr(Contact, node.field.name)
    if isinstance(node, InList):
        return and_(column.is_not(None), column.in_([_text_of(v) for v in node.values]))
    value = _text_of(node.value)
    if node.op == "!=":
        return not_(and_(column.is_not(None), column == value))
    return and_(column.is_not(None), _text_op(column, node.op, value))


def _text_of(value: Value) -> str:
    assert isinstance(value, Text)
    return value.value


def _text_op(column: Any, op: str, value: str) -> ColumnElement[bool]:
    if op == "~":
        return column.icontains(value, autoescape=True)  # type: ignore[no-any-return]
    return {  # type: ignore[no-any-return]
        "=": column == value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


def _attribute(node: Compare | InList, key: str) -> ColumnElement[bool]:
    if isinstance(node, InList):
        return or_(*(_attribute(Compare(node.field, "=", v), key) for v in node.values))
    if node.op == "!=":
        return not_(_attribute(Compare(node.field, "=", node.value), key))
    value = node.value
    if isinstance(value, Number):
        numeric = _JsonKindIs(key, "number,numeric-text")
        number = case((numeric, Contact.attributes[key].as_float()), else_=None)
        return and_(numeric, _text_op(number, node.op, float(value.value)))  # type: ignore[arg-type]
    if isinstance(value, Truth):
        is_boolean = _JsonKindIs(key, "boolean")
        flag = case((is_boolean, Contact.attributes[key].as_boolean()), else_=None)
        spelled = func.lower(func.trim(Contact.attributes[key].as_string()))
        spellings = sorted(TRUTHY if value.value else FALSY)
        return or_(
            and_(is_boolean, flag == value.value),
            and_(_JsonKindIs(key, "string"), spelled.in_(spellings)),
        )
    assert isinstance(value, Text)
    text = Contact.attributes[key].as_string()
    return and_(_JsonKindIs(key, "string"), _text_op(text, node.op, value.value))
