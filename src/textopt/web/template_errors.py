"""Template errors in the viewer's language: what went wrong, on which line, with what name."""

from __future__ import annotations

import re

from textopt.compose.template_problems import ProblemKind, TemplateProblem, read_problem
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import Translate

__all__ = ["EMAIL_PARTS", "describe_template_error"]

# Jinja's own words for the syntax errors a marketer makes most, as sentences of ours.
_JINJA: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^unexpected '(?P<a>[^']*)'$"), "“%(a)s” is not expected here"),
    (
        re.compile(r"^expected token '(?P<a>[^']*)', got '(?P<b>[^']*)'$"),
        "“%(b)s” where “%(a)s” was expected",
    ),
    (
        re.compile(r"^unexpected end of template, expected '(?P<a>[^']*)'\.?$"),
        "the template ends before “%(a)s”",
    ),
    (re.compile(r"^Unexpected end of template\..*$", re.DOTALL), "a block is never closed"),
    (re.compile(r"^Expected an expression, got '(?P<a>[^']*)'$"), "an expression is missing"),
    (
        re.compile(r"^Encountered unknown tag '(?P<a>[^']*)'.*$", re.DOTALL),
        "there is no tag named “%(a)s”",
    ),
)


def _fill(text: str, **values: object) -> str:
    """`text` with its `%(key)s` placeholders filled (a value is never read as one)."""
    return text % values


def _jinja_detail(_: Translate, detail: str) -> str:
    for pattern, sentence in _JINJA:
        if found := pattern.match(detail.strip()):
            return _fill(_(sentence), **found.groupdict())
    return detail


def _sentence(_: Translate, problem: TemplateProblem) -> str:
    kind = problem.kind
    if kind == ProblemKind.SYNTAX:
        return _fill(
            _("Line %(line)s: the template cannot be read: %(detail)s."),
            line=problem.line,
            detail=_jinja_detail(_, problem.detail),
        )
    if kind == ProblemKind.UNKNOWN_FILTER:
        if problem.line is None:
            return _fill(_("There is no filter named “%(name)s”."), name=problem.name)
        return _fill(
            _("Line %(line)s: there is no filter named “%(name)s”."),
            line=problem.line,
            name=problem.name,
        )
    if kind == ProblemKind.MISSING:
        return _fill(
            _(
                "The variable “%(name)s” is missing: check its spelling (first_name, "
                "last_name, attributes.…) or write %(example)s if it is optional."
            ),
            name=problem.name,
            example=f'{{{{ {problem.name} | default("") }}}}',
        )
    if kind == ProblemKind.STOPPED:
        return _("The template stops before its end: it loops or writes too much.")
    if kind == ProblemKind.FAILED:
        return _fill(_("The template fails when it runs: %(detail)s"), detail=problem.detail)
    if kind == ProblemKind.TOO_LONG:
        return _fill(
            _("The message is %(segments)s segments long: at most %(limit)s are allowed."),
            segments=problem.segments,
            limit=problem.limit,
        )
    return translate_message(_, problem.detail)


# The parts of a campaign's email, as an error names them before its problem.
EMAIL_PARTS = {
    "email_subject": "Email subject",
    "email_template": "Email HTML",
    "email_text_template": "Email text part",
}


def describe_template_error(_: Translate, message: str) -> str:
    """A template error's sentence (`TemplateError.message`) in the viewer's language."""
    part, mark, rest = message.partition(": ")
    if mark and part in EMAIL_PARTS:
        return _("%(code_field)s: %(what)s") % {
            "code_field": _(EMAIL_PARTS[part]),
            "what": describe_template_error(_, rest),
        }
    problem = read_problem(message)
    sentence = _sentence(_, problem)
    if problem.who:
        sentence += _fill(_(" (for %(who)s)"), who=problem.who)
    return sentence
