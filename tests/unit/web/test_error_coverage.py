"""Every domain error a dashboard page can show reads in French.

The test walks the code the dashboard runs: the modules `textopt.web` imports, directly or
through the domain, read as source. In each it finds the `raise` of a domain error a person
can cause (bad input, a missing or conflicting record, consent refused), rebuilds the
message with a stand-in for each interpolated value, and asks the French catalogue for it.
A message that comes back unchanged, or that keeps three English words of its fixed text in
a row, has no French pattern: the test names it, its module and its line. A new `raise`
anywhere on those paths is covered the day it is written.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import textopt
from textopt import errors
from textopt.contacts.csvfile import open_rows
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import translator

_SRC = Path(textopt.__file__).parent.parent
_STAND_IN = "Q7"

# The errors a marketer causes and reads; configuration, provider and authentication errors
# come from the operator's files, the wire or the sign-in form, which has its own texts.
_USER_FACING = (
    errors.ValidationError,
    errors.NotFoundError,
    errors.ConflictError,
    errors.ConsentError,
)

# Modules the dashboard imports whose errors no page can show: wire encodings, API- and
# CLI-only entries, and state machines whose refusals are programming errors.
_NOT_ON_A_PAGE = {
    "textopt.compose.gsm": "encoding of a text already checked for its alphabet",
    "textopt.compose.parts": "UDH of a message being sent, never typed",
    "textopt.campaigns.sends": "API idempotency keys",
    "textopt.inbound.service": "provider callbacks",
    "textopt.outbox.states": "a message's state machine: a refusal is a bug",
    "textopt.policy.decide": "instants built by the code, never typed",
    "textopt.dispatch.listing": "CLI listing filters",
    "textopt.events.service": "events arrive by the API",
    "textopt.events.types": "events arrive by the API",
    "textopt.webhooks.service": "webhooks are configured by the API and CLI",
    "textopt.webhooks.targets": "webhooks are configured by the API and CLI",
    "textopt.contacts.importer": "file paths and batch sizes of the CLI import",
    "textopt.policy.packs": "pack files are the operator's configuration",
    "textopt.config": "the operator's configuration",
    "textopt.db.engine": "database settings",
    "textopt.http.deps": "API request parameters",
}
_SKIPPED_PACKAGES = ("textopt.providers",)
# Configuration errors a page does show: the composer's email needs an email account.
_CONFIG_ON_A_PAGE = ("textopt.campaigns.emails",)


@dataclass(frozen=True)
class Raised:
    """One message a `raise` can produce, where it is raised."""

    module: str
    line: int
    message: str
    fixed: tuple[str, ...]  # the message's literal text, without the values


def _source(module: str) -> Path | None:
    base = _SRC / module.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _dashboard_modules() -> dict[str, ast.Module]:
    """The source of every textopt module the dashboard imports, directly or not."""
    web = _SRC / "textopt" / "web"
    todo = ["textopt.web", *(f"textopt.web.{p.stem}" for p in web.glob("*.py"))]
    found: dict[str, ast.Module] = {}
    while todo:
        module = todo.pop()
        path = _source(module)
        if module in found or path is None:
            continue
        tree = found[module] = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textopt"):
                todo.append(str(node.module))
                todo.extend(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                todo.extend(a.name for a in node.names if a.name.startswith("textopt"))
    return found


def _constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        if isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _variants(node: ast.expr, constants: dict[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """Every message an expression can build, each with its literal pieces."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value, (node.value,))]
    if isinstance(node, ast.Name) and node.id in constants:
        return [(constants[node.id], (constants[node.id],))]
    if isinstance(node, ast.JoinedStr):
        text, fixed = "", []
        for value in node.values:
            if isinstance(value, ast.Constant):
                text += str(value.value)
                fixed.append(str(value.value))
            else:
                text += _STAND_IN
        return [(text, tuple(fixed))]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [
            (left + right, left_fixed + right_fixed)
            for left, left_fixed in _variants(node.left, constants)
            for right, right_fixed in _variants(node.right, constants)
        ]
    if isinstance(node, ast.IfExp):
        return _variants(node.body, constants) + _variants(node.orelse, constants)
    return []  # a message made elsewhere (a joined list of problems): checked where made


def _raised() -> Iterator[Raised]:
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, _USER_FACING)
    }
    for module, tree in sorted(_dashboard_modules().items()):
        if module in _NOT_ON_A_PAGE or module.startswith(_SKIPPED_PACKAGES):
            continue
        constants = _constants(tree)
        for node in ast.walk(tree):
            call = node.exc if isinstance(node, ast.Raise) else None
            if not isinstance(call, ast.Call) or not call.args:
                continue
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            shown = name in classes or (name == "ConfigError" and module in _CONFIG_ON_A_PAGE)
            if not shown:
                continue
            for message, fixed in _variants(call.args[0], constants):
                yield Raised(module, node.lineno, message, fixed)


def _english_left(raised: Raised, french: str) -> str | None:
    """Three words of the English fixed text still in a row in the French, if any.

    Lists (`fr, en, es`) and commands in backquotes are the same in both languages."""
    prose = re.sub(r"`[^`]*`", " ", french)
    for piece in raised.fixed:
        words = re.findall(r"[A-Za-z]+", piece)
        for i in range(len(words) - 2):
            run = r"\s+".join(re.escape(w) for w in words[i : i + 3])
            if re.search(rf"\b{run}\b", prose):
                return " ".join(words[i : i + 3])
    return None


_RAISED = list(_raised())


def test_the_walk_finds_the_errors_of_the_dashboard_paths() -> None:
    modules = {r.module for r in _RAISED}
    # the domains a marketer works in from the dashboard, each with errors of its own
    for module in (
        "textopt.campaigns.service",
        "textopt.campaigns.segments",
        "textopt.contacts.fields",
        "textopt.contacts.csvfile",
        "textopt.compose.templates",
        "textopt.consent.service",
    ):
        assert module in modules
    assert len(_RAISED) > 100


def test_every_domain_error_on_a_dashboard_path_has_a_french_pattern() -> None:
    french = translator("fr")
    missing = []
    for raised in _RAISED:
        shown = translate_message(french, raised.message)
        left = _english_left(raised, shown)
        if shown == raised.message or left is not None:
            missing.append(f"{raised.module}:{raised.line}: {raised.message!r} ({left})")
    assert missing == []


@pytest.mark.parametrize(
    ("message", "fixed", "fails"),
    [
        # covered: a pattern gives the whole sentence in French
        ("campaign Q7 is running: only a draft changes", ("campaign ", " is "), False),
        # no pattern at all: shown as it came
        (
            "the widget Q7 is broken beyond repair",
            ("the widget ", " is broken beyond repair"),
            True,
        ),
        # a wrapper pattern translates the prefix, the sentence inside stays English
        ("Q7: the frobnicator stalled again", (": the frobnicator stalled again",), True),
    ],
)
def test_the_check_catches_a_sentence_with_no_pattern_and_a_half_translated_one(
    message: str, fixed: tuple[str, ...], fails: bool
) -> None:
    raised = Raised("m", 1, message, fixed)
    shown = translate_message(translator("fr"), message)
    assert (shown == message or _english_left(raised, shown) is not None) is fails


def test_a_file_that_is_not_csv_is_explained_in_french_down_to_the_readers_words() -> None:
    # the reader's own sentence (Python's csv module) is inside the import job's error
    text = "phone,first_name\n0612345678," + "x" * 200_000 + "\n"
    _header, rows = open_rows(io.StringIO(text, newline=""), delimiter=",")
    with pytest.raises(errors.ValidationError) as raised:
        list(rows)
    assert translate_message(translator("fr"), raised.value.message) == (
        "ligne 2 : illisible comme CSV (champ plus grand que la limite de taille d’un champ "
        "(131072))"
    )
