"""Tokens and the recursive-descent parser of the audience filter language."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from textopt.campaigns.audience.text import _quote
from textopt.campaigns.audience.tree import (
    _GIVEN,
    _RESERVED,
    _STOP,
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
from textopt.contacts.fields import tag_key
from textopt.errors import ValidationError
from textopt.events.types import TYPE_RULE, normalise_type
from textopt.vocab import Channel, Purpose

__all__ = ["parse_filter"]

_FLAGS = ("all", "customer", "prospect")
_OPS = ("!=", "<=", ">=", "=", "<", ">", "~")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PERIOD = re.compile(r"([0-9]{1,6})([dwmy])")
_WINDOW = re.compile(r"([0-9]{1,6})([hdwmy])")
_MAX_PERIOD_DAYS = 100 * 365
_STATUSES = ("confirmed", "granted", "none", "requested", "revoked")
_MAX_LENGTH = 10_000
_MAX_DEPTH = 50
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_FIELD_LIST = ", ".join((*TEXT_FIELDS, *DATE_FIELDS, "attributes.<key>"))


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
        if name == "event":
            types = _sorted_unique(self.event_type(v) for v in values)
            if not self.is_word(self.peek(), "within"):
                return EventHappened(types)
            self.advance()  # "within"
            window = self.advance()
            if window.kind not in ("word", "string"):
                raise self.fail(
                    window.column,
                    f'expected a period after "within" (e.g. 7d or 24h) but found {_show(window)}',
                )
            return EventHappened(types, self.period(window, pattern=_WINDOW))
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
        tag = tag_key(token.text)  # as tags are stored: `tag:VIP` finds `vip`
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

    def event_type(self, token: _Token) -> str:
        try:
            return normalise_type(token.text)
        except ValidationError:
            raise self.fail(
                token.column, f'"{token.text}" is not an event type: {TYPE_RULE}'
            ) from None

    def period(self, token: _Token, *, pattern: re.Pattern[str] = _PERIOD) -> Period:
        match = pattern.fullmatch(token.text.lower())
        if match is None:
            hours = "24h, " if pattern is _WINDOW else ""
            raise self.fail(
                token.column, f'"{token.text}" is not a period like {hours}90d, 6w, 18m or 2y'
            )
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
