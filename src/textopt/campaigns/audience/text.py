"""The canonical text of a filter tree, so a saved segment is shown one way."""

from __future__ import annotations

import datetime as dt

from textopt.campaigns.audience.tree import (
    _GIVEN,
    _RESERVED,
    _STOP,
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
from textopt.vocab import Purpose

__all__ = ["describe"]

# --- canonical text ---------------------------------------------------------------------------


def describe(filter: Filter) -> str:
    """The canonical text of a filter: parsing it gives back the same tree."""
    return _describe(filter)[0]


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _word(text: str) -> str:
    """A keyword value: bare when it reads back unchanged, quoted otherwise."""
    bare = text and not any(c in _STOP or c.isspace() for c in text)
    return text if bare and text.lower() not in _RESERVED else _quote(text)


def _moment_text(moment: Moment) -> str:
    if isinstance(moment.value, dt.datetime):
        return _quote(moment.value.isoformat())
    return moment.value.isoformat()


def _value_text(value: Value) -> str:
    if isinstance(value, Text):
        return _quote(value.value)
    if isinstance(value, Number):
        return format(value.value.normalize(), "f")
    if isinstance(value, Truth):
        return "true" if value.value else "false"
    return _moment_text(value)


def _describe(node: Filter) -> tuple[str, int]:
    """The text and its precedence (1 or, 2 and, 3 not, 4 term)."""

    def wrapped(child: Filter, least: int) -> str:
        text, precedence = _describe(child)
        return f"({text})" if precedence < least else text

    if isinstance(node, Or):
        return " or ".join(wrapped(t, 2) for t in node.terms), 1
    if isinstance(node, And):
        return " and ".join(wrapped(t, 3) for t in node.terms), 2
    if isinstance(node, Not):
        return "not " + wrapped(node.term, 3), 3
    return _describe_term(node), 4


def _describe_term(node: Filter) -> str:
    text: str
    if isinstance(node, Everyone):
        text = "all"
    elif isinstance(node, Customer):
        text = "customer" if node.value else "prospect"
    elif isinstance(node, TagIs):
        text = "tag:" + ",".join(_word(t) for t in node.tags)
    elif isinstance(node, Among):
        text = f"{node.field}:" + ",".join(_word(v) for v in node.values)
    elif isinstance(node, Consent):
        target = node.channel
        if node.purpose != Purpose.MARKETING:
            target += f".{node.purpose}"
        if tuple(node.statuses) == _GIVEN:
            text = f"consent:{target}"
        else:
            text = f"consent_status:{target}=" + ",".join(node.statuses)
    elif isinstance(node, Has):
        text = f"has:{node.field}"
    elif isinstance(node, ActiveWithin | InactiveFor):
        name = "active_within" if isinstance(node, ActiveWithin) else "inactive_for"
        text = f"{name}:{node.period.amount}{node.period.unit}"
    elif isinstance(node, CreatedAfter | CreatedBefore):
        name = "created_after" if isinstance(node, CreatedAfter) else "created_before"
        text = f"{name}:{_moment_text(node.moment)}"
    elif isinstance(node, EventHappened):
        # a type that is a word of the language (`in`, `and`, `not`) reads back only quoted
        text = "event:" + ",".join(_quote(t) if t in _RESERVED else t for t in node.types)
        if node.within is not None:
            text += f" within {node.within.amount}{node.within.unit}"
    elif isinstance(node, Compare):
        text = f"{node.field} {node.op} {_value_text(node.value)}"
    elif isinstance(node, InList):
        text = f"{node.field} in (" + ", ".join(_value_text(v) for v in node.values) + ")"
    else:  # pragma: no cover - the union is exhaustive
        raise TypeError(f"not a filter node: {node!r}")
    return text
