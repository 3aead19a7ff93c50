"""A template renders within a budget: time, loop steps, and the size of what it builds.

Each template here ran for seconds, or built megabytes to gigabytes, before the budget; each
is now refused quickly with a TemplateError saying why. Everyday templates render as before.
"""

from __future__ import annotations

import pytest

from textopt.compose import compile_template
from textopt.errors import TemplateError

CONTEXT = {"first_name": "Alice", "tags": ["vip", "club"], "language": "fr"}

OVER_BUDGET = [
    ("{{ 'x' * 100000 }}", "repeated text"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loops"),
    ("{% for a in 'x' * 10000 %}{% for b in 'x' * 10000 %}{% endfor %}{% endfor %}", "loops"),
    ("{{ range(10 ** 8) | list }}", "range()"),
    ("{% for i in range(1000) %}{{ 'y' * 1000 }}{% endfor %}", "the message"),
    ("{{ '%099999d' % 1 }}", "formatted text"),
    ("{{ '{:>999999999}'.format(1) }}", "formatted text"),
    ("{{ '{:>{}}'.format(1, 999999999) }}", "formatted text"),
    ("{{ 'x'.ljust(10 ** 9) }}", ".ljust()"),
    ("{{ 'x' | center(10 ** 9) }}", "| center"),
    ("{{ 9 ** 99999999 }}", "a power"),
    ("{{ range(10000) | join('x' * 5000) }}", "| join"),
    ("{{ ('x' * 10000) | replace('', 'y' * 1000) }}", "| replace"),
    (
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s | length }}"
        "{% endif %}{% endmacro %}{{ d('x', 60) }}",
        "an argument",
    ),
]


@pytest.mark.parametrize(("source", "why"), OVER_BUDGET)
def test_a_template_over_its_budget_is_refused_saying_why(source: str, why: str) -> None:
    with pytest.raises(TemplateError) as refused:
        compile_template(source).render(CONTEXT)
    assert refused.value.field == "template"
    assert "template stopped" in refused.value.message
    assert why in refused.value.message


@pytest.mark.parametrize(("source", "why"), OVER_BUDGET[:3])
def test_validation_reports_a_template_over_its_budget(source: str, why: str) -> None:
    report = compile_template("{{ first_name }}" + source).validate([CONTEXT])
    assert not report.ok
    assert any(why in problem for problem in report.problems())


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("{{ first_name | default('') }}, -20 % sur {{ 12000000 | money }}", "Alice, -20 %"),
        ("{% for t in tags %}{{ t }} {% endfor %}", "vip club "),
        ("{{ 'ab' * 3 }} {{ '%05d' % 42 }} {{ '{:>6}'.format('x') }}", "ababab 00042      x"),
        ("{{ range(3) | join(', ') }} {{ 2 ** 10 }}", "0, 1, 2 1024"),
        ("{% for i in range(50) %}{% for j in range(50) %}{% endfor %}{% endfor %}ok", "ok"),
    ],
)
def test_everyday_templates_render_as_before(source: str, text: str) -> None:
    assert compile_template(source).render(CONTEXT).startswith(text)
