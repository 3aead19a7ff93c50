"""Audience filters: a small language over contacts, parsed by hand and compiled to SQL.

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
    values     := value ("," value)*
    comparison := field op value | field "in" "(" values ")"
    op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"        (~ : contains, any case)
    field      := first_name | last_name | email | phone | language | country | region
                | timezone | created_at | last_activity_at | "attributes." key
    value      := STRING | WORD     ("double quoted", \\" \\\\ \\n \\t escapes; a bare WORD
                                     that looks like a number is a number, true/false are
                                     booleans, anything else is text)

Special forms: ``consent:sms`` (current marketing consent granted or confirmed),
``consent:sms.transactional``, ``consent_status:sms=revoked`` (statuses granted, confirmed,
revoked, none), ``has:email``, ``active_within:90d``, ``inactive_for:1y`` (d, w, m = 30 days,
y = 365 days), ``created_after:2026-01-01`` (on or after), ``created_before:2026-02-01``.

The logic has two values: a comparison on a missing value is false, and ``not X`` always
matches exactly the contacts ``X`` does not (so ``first_name != "Bob"`` includes contacts
without a first name). Erased contacts never match. See docs/segments.md for users.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

from sqlalchemy import Select, and_, case, false, func, not_, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean as BooleanType

from textopt.consent.models import ConsentState
from textopt.contacts.fields import FALSY, TRUTHY
from textopt.contacts.models import Contact, ContactTag
from textopt.errors import ValidationError
from textopt.vocab import Channel, Purpose

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
)
_FLAGS = ("all", "customer", "prospect")
_RESERVED = frozenset({"and", "or", "not", "in"})
_OPS = ("!=", "<=", ">=", "=", "<", ">", "~")
_STOP = frozenset(" \t\r\n\f\v()\",:=!<>~'")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PERIOD = re.compile(r"([0-9]{1,6})([dwmy])")
_PERIOD_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
_MAX_PERIOD_DAYS = 100 * 365
_STATUSES = ("confirmed", "granted", "none", "revoked")
_GIVEN = ("confirmed", "granted")
_MAX_LENGTH = 10_000
_MAX_DEPTH = 50
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_FIELD_LIST = ", ".join((*TEXT_FIELDS, *DATE_FIELDS, "attributes.<key>"))


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
    """A length of time such as 90d, 6w, 18m (30 days each) or 2y (365 days each)."""

    amount: int
    unit: str

    @property
    def delta(self) -> dt.timedelta:
        """The period as a duration."""
        return dt.timedelta(days=self.amount * _PERIOD_DAYS[self.unit])


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
    | Compare
    | InList
    | And
    | Or
    | Not
)


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "string", "op", "(", ")", ",", ":" or "end"
    text: str  # the word, the string's value (escapes resolved) or the symbol
    column: int  # 1-based position of the first character


def _error(source: str, column: int, message: str) -> ValidationError:
    line = re.sub(r"\s", " ", source)  # one character each, so the caret stays aligned
    caret = " " * (column - 1) + "^"
    return ValidationError(f"column {column}: {message}\n  {line}\n  {caret}", field="filter")


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, size = 0, len(source)
    while i < size:
        char, column = source[i], i + 1
        if char.isspace():
            i += 1
        elif char in "(),:":
            tokens.append(_Token(char, char, column))
            i += 1
        elif char == '"':
            value, i = _read_string(source, i)
            tokens.append(_Token("string", value, column))
        elif char == "'":
            raise _error(source, column, 'text values use double quotes: "like this"')
        elif op := next((o for o in _OPS if source.startswith(o, i)), None):
            tokens.append(_Token("op", op, column))
            i += len(op)
        elif char == "!":
            raise _error(source, column, 'unexpected "!": write "not" to negate, "!=" for unequal')
        else:
            end = i
            while end < size and source[end] not in _STOP and not source[end].isspace():
                end += 1
            tokens.append(_Token("word", source[i:end], column))
            i = end
    tokens.append(_Token("end", "", size + 1))
    return tokens


def _read_string(source: str, start: int) -> tuple[str, int]:
    parts: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == '"':
            return "".join(parts), i + 1
        if char == "\\":
            escaped = source[i + 1] if i + 1 < len(source) else ""
            if escaped not in _ESCAPES or not escaped:
                shown = f'"\\{escaped}"' if escaped else "a lone \\ at the end"
                raise _error(source, i + 1, f'unknown escape {shown}: use \\" \\\\ \\n or \\t')
            parts.append(_ESCAPES[escaped])
            i += 2
        else:
            parts.append(char)
            i += 1
    raise _error(source, start + 1, 'this text is never closed: add the missing "')


def _show(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the filter"
    if token.kind == "string":
        return "the text " + _quote(token.text)
    return f'"{token.text}"'


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


# --- parser -----------------------------------------------------------------------------------


def parse_filter(text: str) -> Filter:
    """Parse a filter; a `ValidationError` says what is wrong, at which column, with a caret."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        if len(source) > _MAX_LENGTH:
            raise ValidationError(
                f"the filter is longer than {_MAX_LENGTH} characters",
                field="filter",
            )
        self.tokens = _tokenize(source)
        self.pos = 0
        self.depth = 0  # open parentheses and "not"s, bounded so recursion stays shallow

    def fail(self, column: int, message: str) -> ValidationError:
        return _error(self.source, column, message)

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def is_word(self, token: _Token, *words: str) -> bool:
        return token.kind == "word" and token.text.lower() in words

    def parse(self) -> Filter:
        if self.peek().kind == "end":
            raise self.fail(1, "the filter is empty; write all to select every contact")
        tree = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise self.fail(token.column, 'this ")" closes nothing')
        if token.kind != "end":
            raise self.fail(token.column, f'expected "and" or "or" before {_show(token)}')
        return tree

    def parse_or(self) -> Filter:
        terms = [self.parse_and()]
        while self.is_word(self.peek(), "or"):
            self.advance()
            terms.append(self.parse_and())
        flat = [t for term in terms for t in (term.terms if isinstance(term, Or) else (term,))]
        return flat[0] if len(flat) == 1 else Or(tuple(flat))

    def parse_and(self) -> Filter:
        terms = [self.parse_not()]
        while self.is_word(self.peek(), "and"):
            self.advance()
            terms.append(self.parse_not())
        flat = [t for term in terms for t in (term.terms if isinstance(term, And) else (term,))]
        return flat[0] if len(flat) == 1 else And(tuple(flat))

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.fail(token.column, f"more than {_MAX_DEPTH} nested parentheses or nots")

    def parse_not(self) -> Filter:
        token = self.peek()
        if self.is_word(token, "not"):
            self.advance()
            self.nest(token)
            term = Not(self.parse_not())
            self.depth -= 1
            return term
        return self.parse_primary()

    def parse_primary(self) -> Filter:
        token = self.peek()
        if token.kind == "(":
            self.advance()
            self.nest(token)
            inner = self.parse_or()
            closing = self.peek()
            if closing.kind != ")":
                raise self.fail(
                    closing.column,
                    f'expected ")" to close the "(" at column {token.column} '
                    f"but found {_show(closing)}",
                )
            self.advance()
            self.depth -= 1
            return inner
        if token.kind != "word":
            raise self.fail(token.column, f"expected a filter term but found {_show(token)}")
        word, following = token.text.lower(), self.peek(1)
        if word in _RESERVED:
            raise self.fail(token.column, f"expected a filter term before {_show(token)}")
        if following.kind == ":":
            return self.parse_keyword()
        if following.kind == "op" or self.is_word(following, "in"):
            return self.parse_comparison()
        if word in _FLAGS:
            self.advance()
            return Everyone() if word == "all" else Customer(word == "customer")
        if word in KEYWORDS:
            raise self.fail(following.column, f'expected ":" after "{word}" (e.g. {word}:...)')
        if word in TEXT_FIELDS or word in DATE_FIELDS or word.startswith("attributes."):
            raise self.fail(
                following.column,
                f'expected an operator (= != < <= > >= ~ in) after "{token.text}" '
                f"but found {_show(following)}",
            )
        raise self.fail(
            token.column,
            f'unknown term "{token.text}"'
            + (
                _suggest(word, (*_FLAGS, *KEYWORDS, *TEXT_FIELDS, *DATE_FIELDS))
                or ': expected e.g. tag:vip, customer, or a comparison like first_name = "Bob"'
            ),
        )

    # keywords

    def parse_keyword(self) -> Filter:
        name_token = self.advance()
        colon = self.advance()
        name = name_token.text.lower()
        if name not in KEYWORDS:
            if name in TEXT_FIELDS or name in DATE_FIELDS or name.startswith("attributes."):
                raise self.fail(
                    colon.column,
                    f'a field is compared with an operator: write {name_token.text} = "..."',
                )
            raise self.fail(
                name_token.column,
                f'unknown keyword "{name_token.text}"'
                + (_suggest(name, KEYWORDS) or f" (keywords: {', '.join(KEYWORDS)})"),
            )
        values = self.parse_values(after=colon)
        if name == "tag":
            return TagIs(_sorted_unique(self.tag(v) for v in values))
        if name in ("country", "language", "region"):
            return Among(name, _sorted_unique(self.code(name, v) for v in values))
        if name == "consent_status":
            channel, purpose = self.channel_purpose(self.single(name, values))
            equals = self.advance()
            if equals.text != "=":
                raise self.fail(
                    equals.column,
                    f'expected "=" and statuses after "consent_status:{values[0].text}" '
                    f"(e.g. =revoked) but found {_show(equals)}",
                )
            statuses = self.parse_values(after=equals)
            return Consent(channel, purpose, _sorted_unique(self.status(s) for s in statuses))
        value = self.single(name, values)
        if name == "consent":
            channel, purpose = self.channel_purpose(value)
            return Consent(channel, purpose, _GIVEN)
        if name == "has":
            return Has(self.field(value))
        if name in ("active_within", "inactive_for"):
            period = self.period(value)
            return ActiveWithin(period) if name == "active_within" else InactiveFor(period)
        moment = self.moment(value, name)
        return CreatedAfter(moment) if name == "created_after" else CreatedBefore(moment)

    def parse_values(self, *, after: _Token) -> list[_Token]:
        values = [self.value_token(after)]
        while self.peek().kind == ",":
            comma = self.advance()
            values.append(self.value_token(comma))
        return values

    def value_token(self, after: _Token) -> _Token:
        token = self.advance()
        if token.kind == "string" or (token.kind == "word" and token.text.lower() not in _RESERVED):
            return token
        hint = f' (quote it to mean the text: "{token.text}")' if token.kind == "word" else ""
        raise self.fail(
            token.column, f'expected a value after "{after.text}" but found {_show(token)}{hint}'
        )

    def single(self, name: str, values: list[_Token]) -> _Token:
        if len(values) > 1:
            raise self.fail(values[1].column, f"{name} takes one value, not a list")
        return values[0]

    def tag(self, token: _Token) -> str:
        tag = " ".join(token.text.split())
        if not tag:
            raise self.fail(token.column, "a tag cannot be empty")
        return tag

    def code(self, name: str, token: _Token) -> str:
        if name == "country":
            code = token.text.strip().upper()
            if not _COUNTRY.fullmatch(code):
                raise self.fail(
                    token.column, f'"{token.text}" is not a two-letter country code (e.g. FR, BE)'
                )
        elif name == "language":
            code = token.text.strip().lower().replace("_", "-")
            if not _LANGUAGE.fullmatch(code):
                raise self.fail(
                    token.column, f'"{token.text}" is not a language code (e.g. fr, en, fr-ca)'
                )
        else:
            code = token.text.strip().upper()
            if not code or len(code) > 16:
                raise self.fail(token.column, f'"{token.text}" is not a region code (e.g. 67, FL)')
        return code

    def channel_purpose(self, token: _Token) -> tuple[str, str]:
        channel, _, purpose = token.text.lower().partition(".")
        if channel not in tuple(Channel):
            raise self.fail(
                token.column,
                f'unknown channel "{channel}"{_suggest(channel, tuple(Channel))} '
                f"(channels: {', '.join(Channel)})",
            )
        purpose = purpose or str(Purpose.MARKETING)
        if purpose not in tuple(Purpose):
            raise self.fail(
                token.column + len(channel) + 1,
                f'unknown purpose "{purpose}"{_suggest(purpose, tuple(Purpose))} '
                f"(purposes: {', '.join(Purpose)})",
            )
        return channel, purpose  # plain strings: drivers may bind an enum by its name

    def status(self, token: _Token) -> str:
        status = token.text.lower()
        if status not in _STATUSES:
            raise self.fail(
                token.column,
                f'unknown consent status "{token.text}"{_suggest(status, _STATUSES)} '
                f"(statuses: {', '.join(_STATUSES)})",
            )
        return status

    def period(self, token: _Token) -> Period:
        match = _PERIOD.fullmatch(token.text.lower())
        if match is None:
            raise self.fail(token.column, f'"{token.text}" is not a period like 90d, 6w, 18m or 2y')
        period = Period(int(match[1]), match[2])
        if period.delta.days > _MAX_PERIOD_DAYS:
            raise self.fail(token.column, f'"{token.text}" is longer than 100 years')
        return period

    def moment(self, token: _Token, name: str) -> Moment:
        text = token.text.strip()
        if _DATE.fullmatch(text):
            try:
                return Moment(dt.date.fromisoformat(text))
            except ValueError:
                raise self.fail(token.column, f'"{text}" is not a date in the calendar') from None
        if token.kind == "word" and "T" in text[:11]:  # a bare word stops at the first ":"
            raise self.fail(
                token.column, 'write a date-time in double quotes: "2026-01-31T09:00:00+01:00"'
            )
        try:
            instant = dt.datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(
                token.column, f'{name} takes a date like 2026-01-31; "{token.text}" is not one'
            ) from None
        if instant.tzinfo is None:
            raise self.fail(
                token.column,
                f'"{token.text}" has no offset: write e.g. "2026-01-31T09:00:00+01:00" or ...Z',
            )
        return Moment(instant)

    def field(self, token: _Token) -> Field:
        text = token.text
        if text.lower().startswith("attributes."):
            key = text[len("attributes.") :]
            if not key:
                raise self.fail(
                    token.column + len(text),
                    'expected an attribute name after "attributes." (letters, digits, _ and -)',
                )
            bad = next((i for i, c in enumerate(key) if not _ATTRIBUTE_KEY.fullmatch(c)), None)
            if bad is not None:
                raise self.fail(
                    token.column + len("attributes.") + bad,
                    f'"{key[bad]}" cannot appear in an attribute name (letters, digits, _ and -)',
                )
            return Field("attributes", key)
        name = text.lower()
        if name in TEXT_FIELDS or name in DATE_FIELDS:
            return Field(name)
        raise self.fail(
            token.column,
            f'unknown field "{text}"{_suggest(name, (*TEXT_FIELDS, *DATE_FIELDS))} '
            f"(fields: {_FIELD_LIST})",
        )

    # comparisons

    def parse_comparison(self) -> Filter:
        field = self.field(self.advance())
        op = self.advance()
        if op.kind == "word":  # "in"
            if field.name in DATE_FIELDS:
                raise self.fail(op.column, f"{field} is a date: compare it with = < <= > >=")
            opening = self.advance()
            if opening.kind != "(":
                raise self.fail(
                    opening.column, f'expected "(" after "in" but found {_show(opening)}'
                )
            values = [self.value(field, "=", self.value_token(opening))]
            while self.peek().kind == ",":
                values.append(self.value(field, "=", self.value_token(self.advance())))
            closing = self.advance()
            if closing.kind != ")":
                raise self.fail(
                    closing.column,
                    f'expected "," or ")" in the list opened at column {opening.column} '
                    f"but found {_show(closing)}",
                )
            return InList(field, tuple(dict.fromkeys(values)))
        if op.text == "~" and field.name in DATE_FIELDS:
            raise self.fail(op.column, f'"~" (contains) works on text; {field} is a date')
        return Compare(field, op.text, self.value(field, op.text, self.value_token(op)))

    def value(self, field: Field, op: str, token: _Token) -> Value:
        word = token.text.lower() if token.kind == "word" else None
        if field.name in DATE_FIELDS:
            return self.moment(token, str(field))
        if word in ("true", "false"):
            if field.name != "attributes" or op not in ("=", "!="):
                raise self.fail(
                    token.column,
                    f"{field} {op} {word}: true and false only compare with = and != "
                    f'on attributes (quote it to mean the text: "{token.text}")',
                )
            return Truth(word == "true")
        if field.name == "attributes" and word is not None and _NUMBER.fullmatch(token.text):
            if op == "~":
                return Text(token.text)
            return Number(Decimal(token.text))
        if field.name in ("country", "region"):
            return Text(token.text.strip().upper())
        if field.name == "language":
            return Text(token.text.strip().lower().replace("_", "-"))
        return Text(token.text)


def _sorted_unique(values: Any) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


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
    elif isinstance(node, Compare):
        text = f"{node.field} {node.op} {_value_text(node.value)}"
    elif isinstance(node, InList):
        text = f"{node.field} in (" + ", ".join(_value_text(v) for v in node.values) + ")"
    else:  # pragma: no cover - the union is exhaustive
        raise TypeError(f"not a filter node: {node!r}")
    return text


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
