"""Templates: sandboxed, strict, compiled once, validated against a whole audience."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.compose import Encoding, compile_template, message_frame
from textopt.compose.templates import _STRICT
from textopt.errors import TemplateError
from textopt.vocab import Purpose

ALICE = {"first_name": "Alice", "language": "fr", "attributes": {"city": "Lyon"}}


def test_personalises_from_fields_and_attributes() -> None:
    template = compile_template(
        "Bonjour {{ first_name }}{% if attributes.city is defined %} de {{ attributes.city }}"
        '{% endif %} {{ attributes.zip | default("") }}!'
    )
    assert template.render(ALICE) == "Bonjour Alice de Lyon !"
    assert template.variables == {"first_name", "attributes"}


@pytest.mark.parametrize(
    ("source", "context", "variable"),
    [
        ("Hi {{ first_name }}", {}, "first_name"),
        ("Hi {{ attributes.city }}", {"attributes": {}}, "attributes.city"),
        ("Hi {{ attributes.city }}", {}, "attributes"),
        ("{% if vip %}VIP{% endif %}", {}, "vip"),
        ("{{ attributes.shop.name }}", {"attributes": {"shop": {}}}, "attributes.shop.name"),
    ],
)
def test_missing_variable_is_named(source: str, context: dict[str, Any], variable: str) -> None:
    with pytest.raises(TemplateError, match=f"variable '{variable}' is missing") as info:
        compile_template(source).render(context)
    assert info.value.field == variable


def test_sandbox_refuses_internals() -> None:
    template = compile_template("{{ first_name.__class__.__mro__ }}")
    with pytest.raises(TemplateError, match="unsafe"):
        template.render(ALICE)


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError, match="line 2"):
        compile_template("ok\n{{ first_name ")


def test_runtime_errors_become_template_errors() -> None:
    with pytest.raises(TemplateError, match="ZeroDivisionError"):
        compile_template("{{ 1 / n }}").render({"n": 0})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ attributes.city.upper }}", "'upper' is a method, not a value: call it, as in upper()"),
        ("{{ attributes.items }}", "'items' is a method"),
        ("{{ first_name.title }}", "'title' is a method"),
    ],
)
def test_printing_a_method_is_an_error_not_its_address(source: str, message: str) -> None:
    """`<built-in method upper of str object at 0x…>` would differ per recipient and run."""
    template = compile_template(source)
    context = {"first_name": "léa", "attributes": {"city": "Lyon"}}
    with pytest.raises(TemplateError, match=message):
        template.render(context)
    report = template.validate([context, context])
    [(failure, count)] = report.failures.items()
    assert message in failure
    assert count == 2
    assert compile_template("{{ attributes.city.upper() }}").render(context) == "LYON"


@pytest.mark.parametrize(
    ("attributes", "name"),
    [
        ({"city": 0, "profile": 0}, "attributes.city.city"),
        ({"city": {"city": 1}, "profile": 0}, "attributes.profile.city"),
        ({"city": "", "profile": ""}, "attributes.city.city"),
    ],
)
def test_the_missing_variable_is_named_by_its_path_not_by_an_equal_value(
    attributes: dict[str, Any], name: str
) -> None:
    """Two attributes holding 0 are one object: the name follows the template's paths."""
    template = compile_template("{{ attributes.city.city }} {{ attributes.profile.city }}")
    with pytest.raises(TemplateError, match=f"'{name}' is missing"):
        template.render({"attributes": attributes})
    both = {"attributes.city.city", "attributes.profile.city"}
    expected = both if attributes["city"] == attributes["profile"] else {name}
    assert set(template.validate([{"attributes": attributes}]).missing) == expected


def test_lipsum_is_not_available() -> None:
    # Random text would make two renders of one message differ.
    with pytest.raises(TemplateError, match="lipsum"):
        compile_template("{{ lipsum() }}").render({})


def test_filters_follow_the_contact_language() -> None:
    template = compile_template(
        "RDV le {{ at | datetime }} : {{ price | money }}", language="fr", currency="EUR"
    )
    context = {"at": "2026-03-05T14:30", "price": "12.5"}
    assert template.render(context) == "RDV le 5 mars 2026 à 14:30 : 12,50 €"
    english = template.render({**context, "language": "en"})
    assert english == "RDV le March 5, 2026 at 2:30 PM : €12.50"
    # A language textopt does not format falls back to the template's.
    assert template.render({**context, "language": "it"}) == template.render(context)


def test_money_filter_takes_a_currency() -> None:
    assert compile_template("{{ p | money('USD') }}").render({"p": 5, "language": "en"}) == "$5.00"


def test_constant_template_renders_once() -> None:
    template = compile_template("Magasin fermé lundi")
    assert template.variables == frozenset()
    template._compiled = None  # type: ignore[assignment]  # proves Jinja is not called again
    assert template.render({"first_name": "x"}) == "Magasin fermé lundi"


def test_constant_text_with_locale_filter_is_not_frozen() -> None:
    template = compile_template("{{ '2026-03-05' | date }}")
    assert template.render({"language": "de"}) == "5. März 2026"
    assert template.render({"language": "fr"}) == "5 mars 2026"


def test_simple_template_skips_jinja() -> None:
    template = compile_template("Hi {{ first_name }} from {{ attributes.city }}")
    assert template._pieces is not None
    template._compiled = None  # type: ignore[assignment]
    assert template.render(ALICE) == "Hi Alice from Lyon"


names = st.text(alphabet="abcxyz_", min_size=1, max_size=5).filter(
    lambda n: n not in _STRICT.globals and not n.startswith("_")
)
values = st.one_of(st.text(max_size=10), st.integers(), st.none(), st.booleans(), st.floats())


@given(st.lists(st.one_of(st.text(alphabet="ab {}%#é", max_size=8), names), max_size=6), values)
def test_fast_path_renders_what_jinja_renders(chunks: list[str], value: object) -> None:
    source = "".join(
        f"{{{{ {c} }}}}" if c.isidentifier() else c.replace("{", "(").replace("%", "p")
        for c in chunks
    )
    template = compile_template(source)
    context = dict.fromkeys(template.variables, value)
    expected = _STRICT.from_string(source).render(context)
    assert template.render(context) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(alphabet="aé0 ", max_size=4),
    lambda children: (
        st.lists(children, max_size=2)
        | st.dictionaries(st.sampled_from(["city", "zip", "real"]), children, max_size=2)
    ),
    max_leaves=4,
)
outputs = st.sampled_from(
    [
        "first_name",
        "attributes.city",
        "attributes.city.zip",
        "attributes.city.real",
        "first_name | default('Bonjour')",
        "first_name | d('x', true)",
        "attributes.city | default('chez vous', true)",
        "attributes.city | default(0)",
        "attributes.city | default",
        "attributes.city.zip | default('?')",
        "attributes.city.real | default(1, false)",
        "attributes.city | default('a') | default('b')",
    ]
)


@given(
    st.lists(outputs, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["first_name"]), st.text(max_size=3) | st.none()),
    st.dictionaries(st.sampled_from(["city", "zip"]), json_values),
)
def test_fast_path_with_defaults_renders_what_jinja_renders(
    chosen: list[str], fields: dict[str, Any], attributes: dict[str, Any]
) -> None:
    """Paths through `default` (Jinja's rules: the last key missing, or false with
    `boolean`) render without Jinja, as Jinja does, and fail where Jinja fails."""
    source = " - ".join(f"{{{{ {output} }}}}" for output in chosen)
    template = compile_template(source)
    context = {**fields, "attributes": attributes}
    try:
        expected: str | None = _STRICT.from_string(source).render(context)
    except Exception:
        expected = None
    if expected is None:
        with pytest.raises(TemplateError):
            template.render(context)
    else:
        assert template.render(context) == expected


def test_a_template_with_defaults_skips_jinja() -> None:
    template = compile_template("{{ first_name | default('Bonjour') }} de {{ attributes.city }}")
    template._compiled = None  # type: ignore[assignment]
    assert template.render({"attributes": {"city": "Lyon"}}) == "Bonjour de Lyon"
    assert template.render({"first_name": "", "attributes": {"city": 0}}) == " de 0"


def test_validate_counts_contacts_lacking_each_variable() -> None:
    template = compile_template("{{ first_name }} {{ attributes.city }} {{ last_name }}")
    contexts: list[dict[str, Any]] = [
        {"first_name": "A", "last_name": "B", "attributes": {"city": "Lyon"}},
        {"first_name": "A", "attributes": {}},
        {"attributes": {}},
    ]
    report = template.validate(contexts)
    assert not report.ok
    assert report.contexts == 3
    assert report.missing == {"attributes.city": 2, "last_name": 2, "first_name": 1}
    with pytest.raises(TemplateError, match="variable 'last_name' is missing for 2 of 3"):
        report.raise_for_problems()


def test_validate_reports_the_worst_case_in_segments() -> None:
    template = compile_template("Bonjour {{ first_name }}, offre du jour !")
    contexts = [{"first_name": "Al"}, {"first_name": "Zoë"}, {"first_name": "Maximilien"}]
    report = template.validate(contexts)
    assert report.ok
    assert report.worst_index == 1  # the ë makes it UCS-2, not the longest name
    assert report.worst is not None
    assert report.worst.encoding is Encoding.UCS2


def test_validate_includes_brand_and_footer() -> None:
    frame = message_frame(
        purpose=Purpose.MARKETING, country="FR", brand="Boutique", stop_number="36111"
    )
    template = compile_template("{{ body }}")
    report = template.validate([{"body": "x" * 140}], frame=frame)
    assert report.worst is not None
    assert report.worst.text.endswith("\nSTOP au 36111")
    assert report.worst.segments == 2  # 140 alone fits; with "Boutique: " and the footer not
    assert report.worst.cost is not None


def test_validate_counts_other_failures() -> None:
    report = compile_template("{{ p | money }}").validate([{"p": "1"}, {"p": "x"}])
    assert report.failures == {"template failed: 'x' is not an amount": 1}
