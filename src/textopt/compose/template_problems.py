"""A template error read back into its parts, so that a face can say it in its own words.

`Template` reports an error as one English sentence (`TemplateError.message`, which the
plan report also counts by text). `read_problem` finds in such a sentence what went wrong,
where (the line) and with what (the variable or filter), for the dashboard to say it in the
viewer's language. A unit test raises every kind of error and reads it back, so the
sentences and this reader cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ProblemKind", "TemplateProblem", "read_problem"]


class ProblemKind(StrEnum):
    """What kind of mistake a template holds."""

    SYNTAX = "syntax"  # the text does not parse (line and Jinja's words in `detail`)
    UNKNOWN_FILTER = "unknown_filter"  # `{{ x | nope }}`: no such filter (`name`)
    MISSING = "missing"  # a variable a contact lacks (`name`)
    STOPPED = "stopped"  # the render went past its budget (`detail`)
    FAILED = "failed"  # the render raised (`detail`)
    TOO_LONG = "too_long"  # the message is longer than the workspace allows
    OTHER = "other"  # any other sentence, shown as it is


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One template error in parts; `message` is the sentence it was read from."""

    kind: ProblemKind
    message: str
    line: int | None = None
    name: str | None = None
    detail: str = ""
    who: str | None = None  # the contact it failed for, when named
    segments: int | None = None
    limit: int | None = None


_SYNTAX = re.compile(r"^template syntax error on line (?P<line>\d+): (?P<detail>.*)$", re.DOTALL)
_FILTER = re.compile(r"No filter named '(?P<name>[^']+)'")
_MISSING = re.compile(r"^(?:template )?variable '(?P<name>[^']+)' is missing")
_STOPPED = re.compile(r"^template stopped: (?P<detail>.*)$", re.DOTALL)
_FAILED = re.compile(r"^template failed: (?P<detail>.*)$", re.DOTALL)
_TOO_LONG = re.compile(r"^the message is (?P<segments>\d+) segments long: at most (?P<limit>\d+)")


def read_problem(message: str) -> TemplateProblem:
    """The parts of a template error's sentence (kind OTHER when it is not one)."""
    text, who = message, None
    head, mark, tail = message.rpartition(" (for ")
    if mark and tail.endswith(")"):  # the contact it failed for, added last
        text, who = head, tail[:-1]
    if found := _SYNTAX.match(text):
        line, detail = int(found["line"]), found["detail"]
        if named := _FILTER.search(detail):
            return TemplateProblem(
                ProblemKind.UNKNOWN_FILTER, message, line=line, name=named["name"], who=who
            )
        return TemplateProblem(ProblemKind.SYNTAX, message, line=line, detail=detail, who=who)
    if found := _MISSING.match(text):
        return TemplateProblem(ProblemKind.MISSING, message, name=found["name"], who=who)
    if found := _STOPPED.match(text):
        return TemplateProblem(ProblemKind.STOPPED, message, detail=found["detail"], who=who)
    if found := _FAILED.match(text):
        detail = found["detail"]
        if named := _FILTER.search(detail):
            return TemplateProblem(ProblemKind.UNKNOWN_FILTER, message, name=named["name"], who=who)
        return TemplateProblem(ProblemKind.FAILED, message, detail=detail, who=who)
    if found := _TOO_LONG.match(text):
        return TemplateProblem(
            ProblemKind.TOO_LONG,
            message,
            segments=int(found["segments"]),
            limit=int(found["limit"]),
            who=who,
        )
    return TemplateProblem(ProblemKind.OTHER, message, detail=text, who=who)
