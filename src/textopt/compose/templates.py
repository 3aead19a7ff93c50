"""Message templates: Jinja2 in a sandbox with strict undefined, compiled once, rendered many.

A template sees the contact's fields and attributes (`{{ first_name }}`,
`{{ attributes.city | default("") }}`) and formats dates and money in the contact's
`language` (falling back to the template's). A variable the template uses but a contact lacks
is an error; `validate` reports, before any send, how many contacts of an audience lack each
variable and the worst-case length in segments.

Rendering is the hot path of personalising a campaign: templates made only of text and
`{{ name }}` / `{{ a.b }}` outputs skip Jinja entirely, and templates without variables are
rendered once.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes, pass_context
from jinja2.exceptions import TemplateRuntimeError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from textopt.compose.formats import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_time,
    parse_language,
)
from textopt.compose.identity import MessageFrame
from textopt.compose.segments import LIMITS, Analysis, analyze, measure
from textopt.compose.smart import transliterate
from textopt.errors import TemplateError, TextoptError

__all__ = ["LANGUAGE_KEY", "Template", "TemplateReport", "compile_template"]

LANGUAGE_KEY = "language"  # context key holding the contact's language ("fr", "en-GB"...)
_DEFAULT_LANGUAGE = "_textopt_default_language"
_DEFAULT_CURRENCY = "_textopt_default_currency"
_LOCALE_FILTERS = frozenset({"date", "time", "datetime", "money", "number"})
# Attribute names a dict has: `{{ a.items }}` means the method to Jinja, never a key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _MissingVariable(UndefinedError):
    """Raised for an undefined value; keeps what was looked up so the error can name it."""

    def __init__(self, message: str | None, *, obj: Any, name: str | None, hint: str | None):
        super().__init__(message)
        self.obj, self.name, self.hint = obj, name, hint


class _Tracking(Undefined):
    """An undefined whose error keeps the object and name that were looked up."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
    ) -> None:
        factory = functools.partial(_MissingVariable, obj=obj, name=name, hint=hint)
        super().__init__(hint, obj, name, cast(type[TemplateRuntimeError], factory))


class _StrictUndefined(_Tracking, StrictUndefined):
    __slots__ = ()


# Undefined values met while validating one context; validation renders on, to find them all.
_SEEN: ContextVar[list[Undefined] | None] = ContextVar("_SEEN", default=None)


class _RecordingUndefined(_Tracking):
    __slots__ = ()

    def _record(self) -> None:
        seen = _SEEN.get()
        if seen is not None:
            seen.append(self)

    def __str__(self) -> str:
        self._record()
        return ""

    def __iter__(self) -> Any:
        self._record()
        return iter(())

    def __len__(self) -> int:
        self._record()
        return 0

    def __bool__(self) -> bool:
        self._record()
        return False

    def __eq__(self, other: object) -> bool:
        self._record()
        return False

    def __ne__(self, other: object) -> bool:
        self._record()
        return True

    def __hash__(self) -> int:
        self._record()
        return 0

    def __contains__(self, item: object) -> bool:
        self._record()
        return False


def _language(context: Context) -> str:
    default = cast(str, context.get(_DEFAULT_LANGUAGE))
    wanted = context.get(LANGUAGE_KEY)
    if isinstance(wanted, str) and wanted:
        try:
            parse_language(wanted)
        except TextoptError:
            return default  # a contact in a language we do not format gets the template's
        return wanted
    return default


@pass_context
def _date_filter(context: Context, value: object, style: str = "long") -> str:
    return format_date(value, language=_language(context), style=style)


@pass_context
def _time_filter(context: Context, value: object) -> str:
    return format_time(value, language=_language(context))


@pass_context
def _datetime_filter(context: Context, value: object, style: str = "long") -> str:
    return format_datetime(value, language=_language(context), style=style)


@pass_context
def _money_filter(context: Context, value: object, currency: str | None = None) -> str:
    code = currency or cast(str, context.get(_DEFAULT_CURRENCY))
    return format_money(value, currency=code, language=_language(context))


@pass_context
def _number_filter(context: Context, value: object, decimals: int | None = None) -> str:
    return format_number(value, language=_language(context), decimals=decimals)


def _environment(undefined: type[Undefined]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=undefined, autoescape=False, cache_size=0)
    env.globals.pop("lipsum", None)  # random text would make rendering non-deterministic
    env.filters.update(
        date=_date_filter,
        time=_time_filter,
        datetime=_datetime_filter,
        money=_money_filter,
        number=_number_filter,
    )
    return env


_STRICT = _environment(_StrictUndefined)
_RECORDING = _environment(_RecordingUndefined)


class _Fallback(Exception):
    """The fast renderer met something only Jinja can decide."""


_Piece = str | tuple[str, ...]


def _fast_pieces(tree: nodes.Template) -> list[_Piece] | None:
    """Literal text and variable paths when the template is only that; else None."""
    pieces: list[_Piece] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append(child.data)
                continue
            path: list[str] = []
            while isinstance(child, nodes.Getattr):
                if child.attr in _DICT_ATTRIBUTES or child.attr.startswith("_"):
                    return None
                path.append(child.attr)
                child = child.node
            if not isinstance(child, nodes.Name) or child.name in _STRICT.globals:
                return None
            path.append(child.name)
            pieces.append(tuple(reversed(path)))
    return pieces


def _as_dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Fallback
    return value


def _fast_renderer(pieces: list[_Piece]) -> Callable[[Mapping[str, Any]], str]:
    """One function joining the literals and the looked-up values of `pieces`.

    Generated once per template: a lookup is then a subscript, not a loop. Names come
    from Jinja's parser (identifiers) and are written as string literals; the template's
    own text is passed as constants, never as code.
    """
    constants: dict[str, Any] = {"_as_dict": _as_dict, "_str": str}
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if isinstance(piece, str):
            constants[f"_text{index}"] = piece
            parts.append(f"_text{index}")
            continue
        expression = f"context[{piece[0]!r}]"
        for key in piece[1:]:
            expression = f"_as_dict({expression})[{key!r}]"
        parts.append(f"_str({expression})")
    source = f"def render(context):\n    return ''.join(({', '.join(parts)},))\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<template>", "exec"), constants, namespace)
    return cast(Callable[[Mapping[str, Any]], str], namespace["render"])


def _find_path(context: Mapping[str, Any], target: object, depth: int = 3) -> str | None:
    """The dotted name under which `target` sits in `context`, by identity."""
    for key, value in context.items():
        if value is target:
            return str(key)
        if depth > 1 and isinstance(value, Mapping):
            inner = _find_path(value, target, depth - 1)
            if inner is not None:
                return f"{key}.{inner}"
    return None


def _variable_name(obj: Any, name: str | None, context: Mapping[str, Any]) -> str:
    if obj is missing:
        return str(name)
    parent = _find_path(context, obj)
    return f"{parent}.{name}" if parent else str(name)


@dataclass(frozen=True)
class TemplateReport:
    """What validating a template against an audience found."""

    contexts: int
    missing: dict[str, int]  # variable -> contacts lacking it, most frequent first
    failures: dict[str, int]  # other render error -> contacts it happened for
    worst: Analysis | None  # the rendered message costing the most segments
    worst_index: int | None  # its position in the contexts

    @property
    def ok(self) -> bool:
        """Whether every context rendered."""
        return not self.missing and not self.failures

    def problems(self) -> list[str]:
        """One sentence per problem, naming the variable and how many contacts it affects."""
        of = f"of {self.contexts:,} contact{'s' if self.contexts != 1 else ''}"
        lines = [
            f"variable {name!r} is missing for {count:,} {of}"
            + (f' (write {{{{ {name} | default("") }}}} if it is optional)' if "." in name else "")
            for name, count in self.missing.items()
        ]
        lines += [f"{message} ({count:,} {of})" for message, count in self.failures.items()]
        return lines

    def raise_for_problems(self) -> None:
        """Raise a TemplateError listing every problem, if there is one."""
        if not self.ok:
            raise TemplateError("; ".join(self.problems()), field="template")

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {
            "contexts": self.contexts,
            "ok": self.ok,
            "missing": self.missing,
            "failures": self.failures,
            "problems": self.problems(),
            "worst_index": self.worst_index,
            "worst": None if self.worst is None else self.worst.to_dict(),
        }


class Template:
    """A compiled message template: `render` one context, `validate` a whole audience."""

    def __init__(self, source: str, *, language: str = "fr", currency: str = "EUR") -> None:
        parse_language(language)
        self.source = source
        self.language = language
        self.currency = currency.upper()
        self._globals = {_DEFAULT_LANGUAGE: language, _DEFAULT_CURRENCY: self.currency}
        try:
            tree = _STRICT.parse(source)
            self._compiled = _STRICT.from_string(source, globals=self._globals)
        except TemplateSyntaxError as exc:
            raise TemplateError(
                f"template syntax error on line {exc.lineno}: {exc.message}", field="template"
            ) from None
        self.variables: frozenset[str] = frozenset(
            meta.find_undeclared_variables(tree) - set(_STRICT.globals)
        )
        self._recording: Any = None
        self._pieces = _fast_pieces(tree)
        self._fast = _fast_renderer(self._pieces) if self._pieces else None
        uses_language = any(f.name in _LOCALE_FILTERS for f in tree.find_all(nodes.Filter))
        self._constant: str | None = None
        if not self.variables and not uses_language:
            self._constant = self._render_jinja({})

    @property
    def is_simple(self) -> bool:
        """Whether rendering only reads variables (no Jinja code that could change them)."""
        return self._constant is not None or self._pieces is not None

    @property
    def paths(self) -> tuple[tuple[str, ...], ...] | None:
        """The variable paths a simple template reads (`("attributes", "city")`), in order
        and without repeats; None when the template runs Jinja code."""
        if self._constant is not None:
            return ()
        if self._pieces is None:
            return None
        return tuple(dict.fromkeys(p for p in self._pieces if not isinstance(p, str)))

    def render(self, context: Mapping[str, Any]) -> str:
        """The text for one contact; raise TemplateError naming a missing variable."""
        if self._constant is not None:
            return self._constant
        if self._fast is not None:
            try:
                return self._fast(context)
            except (_Fallback, KeyError, TypeError):
                pass  # let Jinja give the exact behaviour or the exact error
        return self._render_jinja(context)

    def _render_jinja(self, context: Mapping[str, Any]) -> str:
        try:
            return self._compiled.render(context)
        except _MissingVariable as exc:
            if exc.hint:
                raise TemplateError(f"template failed: {exc.hint}", field="template") from None
            name = _variable_name(exc.obj, exc.name, context)
            raise TemplateError(f"template variable {name!r} is missing", field=name) from None
        except TextoptError as exc:
            raise TemplateError(f"template failed: {exc.message}", field="template") from None
        except Exception as exc:  # anything a user's template can raise: 1/0, "a" + 1...
            raise TemplateError(
                f"template failed: {type(exc).__name__}: {exc}", field="template"
            ) from None

    def _validate_one(self, context: Mapping[str, Any]) -> tuple[str | None, set[str], str]:
        """(text or None, missing variable names, failure message or "")."""
        if self._constant is not None:
            return self._constant, set(), ""
        if self._pieces is not None:
            try:
                return self.render(context), set(), ""
            except TemplateError:
                pass  # collect every missing variable below, not only the first
        if self._recording is None:
            self._recording = _RECORDING.from_string(self.source, globals=self._globals)
        seen: list[Undefined] = []
        token = _SEEN.set(seen)
        failure = ""
        text: str | None = None
        try:
            text = cast(str, self._recording.render(context))
        except _MissingVariable as exc:
            if exc.hint:
                failure = f"template failed: {exc.hint}"
            else:
                seen.append(_StrictUndefined(obj=exc.obj, name=exc.name))
        except TextoptError as exc:
            failure = f"template failed: {exc.message}"
        except Exception as exc:
            failure = f"template failed: {type(exc).__name__}: {exc}"
        finally:
            _SEEN.reset(token)
        missing_names = {
            _variable_name(u._undefined_obj, u._undefined_name, context)
            for u in seen
            if not u._undefined_hint
        }
        hints = [u._undefined_hint for u in seen if u._undefined_hint]
        if hints and not failure:
            failure = f"template failed: {hints[0]}"
        if missing_names or failure:
            return None, missing_names, failure
        return text, set(), ""

    def validate(
        self,
        contexts: Iterable[Mapping[str, Any]],
        *,
        frame: MessageFrame | None = None,
        smart_encoding: bool = False,
        fold_accents: bool = False,
    ) -> TemplateReport:
        """Render every context: count missing variables and find the worst-case message."""
        missing: Counter[str] = Counter()
        failures: Counter[str] = Counter()
        finish: Callable[[str], str] = (lambda t: frame.apply(t)[0]) if frame else (lambda t: t)
        worst_key: tuple[int, float] = (-1, -1.0)
        worst_text: str | None = None
        worst_index: int | None = None
        count = 0
        for index, context in enumerate(contexts):
            count += 1
            text, names, failure = self._validate_one(context)
            missing.update(names)
            if failure:
                failures[failure] += 1
            if text is None:
                continue
            try:
                final = finish(text)
                if smart_encoding:
                    final = transliterate(final, fold_accents=fold_accents)
                encoding, units, segments = measure(final)
            except TextoptError as exc:
                failures[exc.message] += 1
                continue
            # Among equal segment counts, the worst is the one closest to needing another.
            limits = LIMITS[encoding]
            capacity = limits.single if segments <= 1 else limits.per_part * segments
            key = (segments, units / capacity)
            if key > worst_key:
                worst_key, worst_text, worst_index = key, final, index
        worst = None
        if worst_text is not None:
            country = frame.country if frame else None
            worst = analyze(worst_text, fold_accents=fold_accents, country=country)
        return TemplateReport(
            contexts=count,
            missing=dict(sorted(missing.items(), key=lambda kv: (-kv[1], kv[0]))),
            failures=dict(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
            worst=worst,
            worst_index=worst_index,
        )


def compile_template(source: str, *, language: str = "fr", currency: str = "EUR") -> Template:
    """Compile `source` once; `language` and `currency` apply when a contact gives none."""
    return Template(source, language=language, currency=currency)
