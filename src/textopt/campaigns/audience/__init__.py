"""Audience filters: a small language over contacts, parsed by hand and compiled to SQL.

`tree` documents the grammar and holds the parsed tree; `parser` turns text into a tree
with errors that name the column; `text` writes a tree back in canonical form; `sql`
compiles a tree to a condition over contacts with bound parameters only.
"""

from __future__ import annotations

from textopt.campaigns.audience.parser import parse_filter
from textopt.campaigns.audience.sql import audience_select, compile_filter
from textopt.campaigns.audience.text import describe
from textopt.campaigns.audience.tree import (
    DATE_FIELDS,
    KEYWORDS,
    TEXT_FIELDS,
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
    Value,
)

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
    "audience_select",
    "compile_filter",
    "describe",
    "parse_filter",
]
