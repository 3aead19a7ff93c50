"""Email templates: personal values escaped in HTML, a readable text part, the unsubscribe link."""

from __future__ import annotations

import pytest

from textopt.compose.email import EmailTemplate, html_to_text
from textopt.errors import TemplateError

URL = "https://shop.example/u/1.email.2.sig"


def test_personal_values_are_escaped_in_the_html_but_not_in_subject_or_text() -> None:
    template = EmailTemplate(subject="Hello {{ first_name }}", html="<p>Hi {{ first_name }}</p>")
    email = template.render({"first_name": "<b>Tom & Jerry</b>"}, unsubscribe_url=URL)
    assert "<p>Hi &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>" in email.html
    assert email.subject == "Hello <b>Tom & Jerry</b>"
    assert email.text.startswith("Hi <b>Tom & Jerry</b>")


def test_nested_attributes_are_escaped_too() -> None:
    template = EmailTemplate(subject="x", html="<p>{{ attributes.city }}</p>")
    email = template.render({"attributes": {"city": "<script>"}}, footer=False)
    assert email.html == "<p>&lt;script&gt;</p>"


def test_the_text_part_keeps_paragraphs_list_items_and_link_targets() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<h1>Soldes</h1><p>Jusqu'à <b>-20%</b></p><ul><li>Manteaux</li><li>Pulls</li></ul>"
        '<p><a href="https://shop.example/x">Voir</a><br>à bientôt</p></body></html>'
    )
    assert html_to_text(html) == (
        "Soldes\n\nJusqu'à -20%\n\n- Manteaux\n- Pulls\n\nVoir (https://shop.example/x)\nà bientôt"
    )


def test_a_marketing_email_gets_the_link_in_both_parts_inside_the_body() -> None:
    template = EmailTemplate(subject="x", html="<html><body><p>Hi</p></body></html>")
    email = template.render({"language": "en"}, unsubscribe_url=URL)
    assert email.html.endswith(f'<a href="{URL}">Unsubscribe</a></p>\n</body></html>')
    assert email.text.endswith(f"-- \nUnsubscribe: {URL}")


def test_a_template_that_places_the_link_itself_gets_no_footer() -> None:
    template = EmailTemplate(subject="x", html='<a href="{{ unsubscribe_url }}">Stop</a>')
    email = template.render({}, unsubscribe_url=URL)
    assert email.html == f'<a href="{URL}">Stop</a>'
    assert email.html.count(URL) == 1


def test_a_separate_text_template_is_used_as_given() -> None:
    template = EmailTemplate(subject="x", html="<p>HTML</p>", text="Plain {{ first_name }}")
    assert template.render({"first_name": "Léa"}, footer=False).text == "Plain Léa"


def test_subjects_are_one_line_and_bounded() -> None:
    template = EmailTemplate(subject="A\n{{ first_name }}\r\nB", html="<p>x</p>")
    assert template.render({"first_name": "Léa"}, footer=False).subject == "A Léa B"
    long = EmailTemplate(subject="{{ first_name }}", html="<p>x</p>")
    with pytest.raises(TemplateError, match="longer than 300"):
        long.render({"first_name": "x" * 301}, footer=False)


@pytest.mark.parametrize(
    ("subject", "html", "text", "field"),
    [
        ("", "<p>x</p>", None, "email_subject"),
        ("Hi {{", "<p>x</p>", None, "email_subject"),
        ("Hi", " ", None, "email_template"),
        ("Hi", "{% if %}", None, "email_template"),
        ("Hi", "<p>x</p>", "{{ a", "email_text_template"),
    ],
)
def test_a_bad_template_names_its_part(
    subject: str, html: str, text: str | None, field: str
) -> None:
    with pytest.raises(TemplateError) as error:
        EmailTemplate(subject=subject, html=html, text=text)
    assert error.value.field == field


def test_a_missing_variable_is_reported() -> None:
    template = EmailTemplate(subject="x", html="<p>{{ first_name }}</p>")
    with pytest.raises(TemplateError, match="first_name"):
        template.render({}, footer=False)
