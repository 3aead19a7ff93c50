"""Message templates: Jinja2 in a sandbox with strict undefined, compiled once, rendered many.

A template sees the contact's fields and attributes (`{{ first_name }}`,
`{{ attributes.city | default("") }}`) and formats dates and money in the contact's
`language` (falling back to the template's). A variable the template uses but a contact lacks
is an error; `validate` reports, before any send, how many contacts of an audience lack each
variable and the worst-case length in segments.

Rendering is the hot path of personalising a campaign: templates made only of text and
`{{ name }}` / `{{ a.b }}` outputs skip Jinja entirely, and templates without variables are
rendered once.

A template is the marketer's code, run for every recipient: Jinja renders it in a sandbox
with a budget (`RENDER_BUDGET`). A render may take at most `seconds`, iterate its loops at
most `steps` times in all, and write at most `max_chars` characters; no value it builds
(`'x' * n`, `'%9999999d' % 1`, `s.ljust(n)`, `s | center(n)`, `10 ** n`) may pass
`max_chars` either. A template over budget fails like any template error (TemplateError), so
a preview or a launch says so and nothing is planned.
"""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes, pass_context
from jinja2.exceptions import TemplateRuntimeError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
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
from textopt.compose.parts import LIMITS, Analysis, analyze, measure
from textopt.compose.smart import transliterate
from textopt.errors import TemplateError, TextoptError

__all__ = [
    "LANGUAGE_KEY",
    "RENDER_BUDGET",
    "RenderBudget",
    "Template",
    "TemplateReport",
    "compile_template",
]

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


@dataclass(frozen=True, slots=True)
class RenderBudget:
    """What one render of a template may spend (see the module's docstring)."""

    seconds: float = 0.25
    steps: int = 100_000  # loop iterations, all loops of the render together
    max_chars: int = 20_000  # the rendered text, and any value built on the way


#: The budget of every render (an SMS of 255 segments is under 40,000 characters).
RENDER_BUDGET = RenderBudget()


class _Spending:
    """The budget one render has left; checked at every loop step, call and output."""

    __slots__ = ("deadline", "steps")

    def __init__(self, budget: RenderBudget) -> None:
        self.deadline = time.monotonic() + budget.seconds
        self.steps = budget.steps

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise _OverBudget(f"its loops ran more than {RENDER_BUDGET.steps:,} times")
        if not self.steps & 255 and time.monotonic() > self.deadline:
            raise _OverBudget(f"it ran longer than {RENDER_BUDGET.seconds:g} s")

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _OverBudget(f"it ran longer than {RENDER_BUDGET.seconds:g} s")


class _OverBudget(Exception):
    """A render went past its budget."""


_SPENDING: ContextVar[_Spending | None] = ContextVar("_SPENDING", default=None)


def _too_big(what: str) -> _OverBudget:
    return _OverBudget(f"{what} would be longer than {RENDER_BUDGET.max_chars:,} characters")


def _size_of(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _budgeted(iterable: Any) -> Any:
    """A loop's items, each paid for with a step of the render's budget."""
    spending = _SPENDING.get()
    if spending is None:
        yield from iterable
        return
    for item in iterable:
        spending.step()
        yield item


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > RENDER_BUDGET.steps:
        raise _OverBudget(f"range() of {len(numbers):,} numbers is more than a loop may run")
    return numbers


_WIDE_FORMAT = re.compile(r"\d{5,}")  # a width or precision of 10,000 or more
_INT_DIGITS = 4300  # Python's own limit on printing an int


def _strings(args: tuple[Any, ...]) -> list[str]:
    return [a for a in args if isinstance(a, str)]


def _sized_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in text filter that refuses to build a value past `max_chars`."""

    @functools.wraps(original)  # keeps Jinja's pass_eval_context / pass_environment mark
    def sized(*args: Any, **kwargs: Any) -> Any:
        limit = RENDER_BUDGET.max_chars
        values = [*args, *kwargs.values()]
        if any(isinstance(v, int) and not isinstance(v, bool) and v > limit for v in values):
            raise _too_big(f"the result of | {name}")
        texts = _strings(args)
        if name == "format" and any(_WIDE_FORMAT.search(t) for t in texts[:1]):
            raise _too_big("the result of | format")
        if name == "replace" and len(texts) >= 3:
            text, new = texts[0], texts[2]
            if len(text) + (len(text) + 1) * len(new) > limit:
                raise _too_big("the result of | replace")
        if name == "join":  # (eval_ctx, items, joiner, attribute)
            items = args[1] if len(args) > 1 else ()
            joiner = args[2] if len(args) > 2 and isinstance(args[2], str) else ""
            items = items if isinstance(items, list | tuple | range | str) else ()
            if len(items) * (len(joiner) + 1) > limit:
                raise _too_big("the result of | join")
        return original(*args, **kwargs)

    return sized


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with a budget on loops, calls and the size of values."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**` and `%`, refused when the value would pass the budget."""
        limit = RENDER_BUDGET.max_chars
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if _size_of(seq) and isinstance(n, int) and _size_of(seq) * n > limit:
                    raise _too_big("a repeated text or list")
        elif operator == "**":
            numbers = isinstance(left, int) and isinstance(right, int) and abs(left) > 1
            if numbers and right * abs(left).bit_length() > _INT_DIGITS * 3:
                raise _too_big("a power")
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise _too_big("a formatted text")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`str.format`, refused with a width past the budget (in the text or an argument)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        owner: str = value.__self__
        limit = RENDER_BUDGET.max_chars

        def sized(*args: Any, **kwargs: Any) -> str:
            values = [*args, *kwargs.values()]
            if _WIDE_FORMAT.search(owner) or any(isinstance(v, int) and v > limit for v in values):
                raise _too_big("a formatted text")
            return wrapped(*args, **kwargs)

        return sized

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A call, refused when it would build a value past the budget or time is up."""
        spending = _SPENDING.get()
        if spending is not None:
            spending.check_time()
        limit = RENDER_BUDGET.max_chars
        values = [*args, *kwargs.values()]
        if any(_size_of(v) > limit for v in values):
            raise _too_big("an argument")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            if any(isinstance(v, int) and v > limit for v in values):
                raise _too_big(f"the result of .{getattr(__obj, '__name__', 'call')}()")
            if any(isinstance(v, str) and _WIDE_FORMAT.search(v) for v in (owner, *values)):
                raise _too_big("a formatted text")
        return super().call(__context, __obj, *args, **kwargs)


_SIZED_FILTERS = ("center", "indent", "wordwrap", "format", "replace", "join")


def _printable(value: Any) -> Any:
    """Refuse to print a method or a function: its text (`<built-in method upper of str
    object at 0x…>`) names a memory address, different for every recipient and every run."""
    if callable(value) and not isinstance(value, Undefined):
        name = getattr(value, "__name__", "")
        if not name or name.startswith("_"):
            raise TemplateError("the template prints a function, not a value", field="template")
        raise TemplateError(
            f"{name!r} is a method, not a value: call it, as in {name}()", field="template"
        )
    return value


def _environment(undefined: type[Undefined]) -> _Sandbox:
    env = _Sandbox(undefined=undefined, autoescape=False, cache_size=0, finalize=_printable)
    env.globals.pop("lipsum", None)  # random text would make rendering non-deterministic
    env.globals.pop("namespace", None)  # state carried across loop steps: no SMS needs it
    env.globals["range"] = _bounded_range
    for name in _SIZED_FILTERS:
        env.filters[name] = _sized_filter(name, env.filters[name])
    env.filters.update(
        date=_date_filter,
        time=_time_filter,
        datetime=_datetime_filter,
        money=_money_filter,
        number=_number_filter,
        _budgeted=_budgeted,
    )
    return env


def _with_budgeted_loops(tree: nodes.Template) -> nodes.Template:
    """`tree` with every loop's iterable passed through `_budgeted` (a step per item)."""
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, "_budgeted", [], [], None, None, lineno=loop.lineno)
    return tree


def _render_within_budget(compiled: Any, context: Mapping[str, Any]) -> str:
    """Render `compiled` chunk by chunk under a fresh budget (the loops' steps check time)."""
    token = _SPENDING.set(_Spending(RENDER_BUDGET))
    try:
        limit = RENDER_BUDGET.max_chars
        written = 0
        chunks: list[str] = []
        append = chunks.append
        # Jinja's own render() joins the same generator; its error rewriting is not needed
        for chunk in compiled.root_render_func(compiled.new_context(dict(context))):
            written += len(chunk)
            if written > limit:
                raise _too_big("the message")
            append(chunk)
        return "".join(chunks)
    finally:
        _SPENDING.reset(token)


_STRICT = _environment(_StrictUndefined)
_RECORDING = _environment(_RecordingUndefined)


class _Fallback(Exception):
    """The fast renderer met something only Jinja can decide."""


@dataclass(frozen=True, slots=True)
class _Defaulted:
    """A path output through Jinja's `default` filter with constant arguments."""

    path: tuple[str, ...]
    value: Any = ""
    boolean: bool = False


_Piece = str | tuple[str, ...] | _Defaulted


def _path_of(node: nodes.Node) -> tuple[str, ...] | None:
    """`("attributes", "city")` for `attributes.city`; None for anything but a variable path."""
    path: list[str] = []
    while isinstance(node, nodes.Getattr):
        if node.attr in _DICT_ATTRIBUTES or node.attr.startswith("_"):
            return None
        path.append(node.attr)
        node = node.node
    if not isinstance(node, nodes.Name) or node.name in _STRICT.globals:
        return None
    path.append(node.name)
    return tuple(reversed(path))


def _outputs(tree: nodes.Template) -> list[nodes.Node] | None:
    """The nodes a template outputs, when it is only outputs (no tags); else None."""
    found: list[nodes.Node] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        found.extend(node.nodes)
    return found


def _defaulted(node: nodes.Filter) -> _Defaulted | None:
    """`path | default(value[, boolean])` with constant arguments, or None."""
    if (
        node.name not in _PURE_FILTERS
        or node.kwargs
        or node.dyn_args is not None
        or node.dyn_kwargs is not None
        or len(node.args) > 2
        or not all(isinstance(a, nodes.Const) for a in node.args)
        or node.node is None
    ):
        return None
    path = _path_of(node.node)
    if path is None:
        return None
    arguments = [cast(nodes.Const, a).value for a in node.args]
    return _Defaulted(path, *arguments)


def _fast_pieces(tree: nodes.Template) -> list[_Piece] | None:
    """Literal text, variable paths and paths through `default` when the template is only
    that; else None."""
    outputs = _outputs(tree)
    if outputs is None:
        return None
    pieces: list[_Piece] = []
    for child in outputs:
        if isinstance(child, nodes.TemplateData):
            pieces.append(child.data)
            continue
        piece: _Piece | None = (
            _defaulted(child) if isinstance(child, nodes.Filter) else _path_of(child)
        )
        if piece is None:
            return None
        pieces.append(piece)
    return pieces


#: Filters whose output depends only on their input and constant arguments (no locale, no
#: other variable): a template using only these still reads nothing but its paths.
_PURE_FILTERS = frozenset({"default", "d"})


def _read_paths(tree: nodes.Template) -> tuple[tuple[str, ...], ...] | None:
    """The variable paths a template reads when its outputs are only paths, each perhaps
    through `default` with constant arguments (`{{ first_name | default('Bonjour') }}`);
    None when it runs any other Jinja code."""
    outputs = _outputs(tree)
    if outputs is None:
        return None
    paths: list[tuple[str, ...]] = []
    for child in outputs:
        if isinstance(child, nodes.TemplateData):
            continue
        while isinstance(child, nodes.Filter):
            pure = (
                child.name in _PURE_FILTERS
                and all(isinstance(a, nodes.Const) for a in child.args)
                and not child.kwargs
                and child.dyn_args is None
                and child.dyn_kwargs is None
            )
            inner = child.node
            if not pure or inner is None:
                return None
            child = inner
        path = _path_of(child)
        if path is None:
            return None
        paths.append(path)
    return tuple(dict.fromkeys(paths))


def _as_dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Fallback
    return value


def _fast_renderer(pieces: list[_Piece]) -> Callable[[Mapping[str, Any]], str]:
    """One function joining the literals and the looked-up values of `pieces`.

    Generated once per template: a lookup is then a subscript, not a loop. Names come
    from Jinja's parser (identifiers) and are written as string literals; the template's
    own text and the defaults are passed as constants, never as code. A path through a
    value that is not a dict raises `_Fallback`, and a missing key `KeyError`, except the
    last key of a path through `default`, which gives Jinja's `default`: the value when
    there is one (and, with `boolean`, when it is true), else the default.
    """
    constants: dict[str, Any] = {"_as_dict": _as_dict, "_str": str, "_missing": missing}
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if isinstance(piece, str):
            constants[f"_text{index}"] = piece
            parts.append(f"_text{index}")
            continue
        path = piece.path if isinstance(piece, _Defaulted) else piece
        expression = f"context[{path[0]!r}]"
        for key in path[1:-1] if isinstance(piece, _Defaulted) else path[1:]:
            expression = f"_as_dict({expression})[{key!r}]"
        if not isinstance(piece, _Defaulted):
            parts.append(f"_str({expression})")
            continue
        if len(path) == 1:
            expression = f"context.get({path[0]!r}, _missing)"
        else:
            expression = f"_as_dict({expression}).get({path[-1]!r}, _missing)"
        constants[f"_default{index}"] = _default_of(piece)
        parts.append(f"_default{index}({expression})")
    source = f"def render(context):\n    return ''.join(({', '.join(parts)},))\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<template>", "exec"), constants, namespace)
    return cast(Callable[[Mapping[str, Any]], str], namespace["render"])


def _default_of(piece: _Defaulted) -> Callable[[Any], str]:
    """Jinja's `default` for one output, then its text."""
    fallback, boolean = str(piece.value), piece.boolean

    def default(value: Any) -> str:
        if value is missing or (boolean and not value):
            return fallback
        return str(value)

    return default


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


def _all_paths(tree: nodes.Template) -> tuple[tuple[str, ...], ...]:
    """Every variable path the template spells (`a.b.c` gives `a.b.c` and `a.b`), in order."""
    found = (_path_of(node) for node in tree.find_all(nodes.Getattr))
    return tuple(dict.fromkeys(path for path in found if path is not None))


def _resolve(context: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at `path` as the template reads it, or `missing`."""
    value: Any = context.get(path[0], missing)
    for key in path[1:]:
        if value is missing:
            break
        value = _STRICT.getattr(value, key)
        if isinstance(value, Undefined):
            return missing
    return value


def _variable_name(
    obj: Any, name: str | None, context: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]
) -> str:
    """The dotted name of what the template could not find: `name` looked up in `obj`.

    The template's own paths come first, in order: the first whose parent is `obj` and
    whose last part is `name` is the one that failed. Searching the context for `obj`
    would be wrong for values that are not unique objects (two attributes both 0 are the
    same object, and the name would depend on the other's place)."""
    if obj is missing:
        return str(name)
    for path in paths:
        if path[-1] == name and len(path) > 1 and _resolve(context, path[:-1]) is obj:
            return ".".join(path)
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
            self._compiled = _STRICT.from_string(
                _with_budgeted_loops(_STRICT.parse(source)), globals=self._globals
            )
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
        self._paths = _read_paths(tree)
        self._all_paths = _all_paths(tree)
        uses_language = any(f.name in _LOCALE_FILTERS for f in tree.find_all(nodes.Filter))
        self._constant: str | None = None
        if not self.variables and not uses_language:
            self._constant = self._render_jinja({})

    @property
    def is_simple(self) -> bool:
        """Whether rendering only reads variables (no Jinja code that could change them)."""
        return self._constant is not None or self._pieces is not None

    @property
    def fixed_text(self) -> str:
        """The text every rendering contains, in order (all of it for a template without
        variables; the literal text around `{{ name }}` outputs; "" when Jinja code runs)."""
        if self._constant is not None:
            return self._constant
        return "".join(p for p in self._pieces or () if isinstance(p, str))

    @property
    def paths(self) -> tuple[tuple[str, ...], ...] | None:
        """The variable paths a template reads (`("attributes", "city")`), in order and
        without repeats, when its text depends on nothing else (outputs of paths, perhaps
        through `default` with constant arguments); None when it runs other Jinja code."""
        if self._constant is not None:
            return ()
        return self._paths

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
            return _render_within_budget(self._compiled, context)
        except _OverBudget as exc:
            raise TemplateError(f"template stopped: {exc}", field="template") from None
        except _MissingVariable as exc:
            if exc.hint:
                raise TemplateError(f"template failed: {exc.hint}", field="template") from None
            name = _variable_name(exc.obj, exc.name, context, self._all_paths)
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
            tree = _with_budgeted_loops(_RECORDING.parse(self.source))
            self._recording = _RECORDING.from_string(tree, globals=self._globals)
        seen: list[Undefined] = []
        token = _SEEN.set(seen)
        failure = ""
        text: str | None = None
        try:
            text = _render_within_budget(self._recording, context)
        except _OverBudget as exc:
            failure = f"template stopped: {exc}"
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
        missing_names: set[str] = set()
        for u in seen:
            if not u._undefined_hint:  # each path named once, in the order they failed
                paths = tuple(p for p in self._all_paths if ".".join(p) not in missing_names)
                missing_names.add(
                    _variable_name(u._undefined_obj, u._undefined_name, context, paths)
                )
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
