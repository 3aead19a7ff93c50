"""Every kind of template error reads back into its parts: the sentences and the reader agree."""

from __future__ import annotations

from typing import Any

import pytest

from textopt.compose import compile_template
from textopt.compose.parts import check_segment_limit
from textopt.compose.template_problems import ProblemKind, read_problem
from textopt.errors import TemplateError, TextoptError


def _error(source: str, context: dict[str, Any] | None = None) -> str:
    with pytest.raises(TemplateError) as info:
        compile_template(source).render(context or {})
    return info.value.message


@pytest.mark.parametrize(
    ("source", "kind", "line", "name"),
    [
        ("Bonjour {{ prenom }}", ProblemKind.MISSING, None, "prenom"),
        ("{{ attributes.ville }}", ProblemKind.MISSING, None, "attributes.ville"),
        ("a\n{{ first_name | nope }}", ProblemKind.UNKNOWN_FILTER, 2, "nope"),
        ("{% if x %}{{ y | nope }}{% endif %}", ProblemKind.UNKNOWN_FILTER, None, "nope"),
        ("a\nb\nBonjour {{ first_name }", ProblemKind.SYNTAX, 3, None),
        ("{% for x in y %}", ProblemKind.SYNTAX, 1, None),
        ("{{ 1 / 0 }}", ProblemKind.FAILED, None, None),
        ("{% for i in range(10 ** 6) %}x{% endfor %}", ProblemKind.STOPPED, None, None),
    ],
)
def test_a_template_error_reads_back_as_its_kind_line_and_name(
    source: str, kind: ProblemKind, line: int | None, name: str | None
) -> None:
    message = _error(source, {"x": 1, "attributes": {}})
    problem = read_problem(message)
    assert (problem.kind, problem.line, problem.name) == (kind, line, name), message
    assert problem.message == message


def test_the_contact_named_and_the_segment_limit_read_back_too() -> None:
    named = read_problem("template variable 'prenom' is missing (for Alice Martin)")
    assert (named.kind, named.name, named.who) == (ProblemKind.MISSING, "prenom", "Alice Martin")
    with pytest.raises(TextoptError) as info:
        check_segment_limit(12, limit=10)
    long = read_problem(info.value.message)
    assert (long.kind, long.segments, long.limit) == (ProblemKind.TOO_LONG, 12, 10)
    assert read_problem("something else").kind == ProblemKind.OTHER
