"""Email composition: subject, HTML and text parts from templates, and the unsubscribe footer.

Pure, like the rest of `compose/`. The HTML template is the author's and is trusted; the
values it is given (names, attributes) are not, so every text value of the context is
HTML-escaped before rendering the HTML part, while the subject and a separate text template
see the raw values. The text part is rendered from its own template when the campaign has
one, else derived from the rendered HTML. A marketing email always carries a visible
unsubscribe link: the template places `{{ unsubscribe_url }}` itself, or a footer is added.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from markupsafe import Markup, escape

from textopt.compose.templates import LANGUAGE_KEY, Template, compile_template
from textopt.errors import TemplateError

__all__ = [
    "SUBJECT_MAX",
    "UNSUBSCRIBE_KEY",
    "EmailTemplate",
    "RenderedEmail",
    "escape_context",
    "html_to_text",
]

#: The context key holding the recipient's one-click unsubscribe address.
UNSUBSCRIBE_KEY = "unsubscribe_url"
#: The longest subject stored with a message.
SUBJECT_MAX = 300
_UNSUBSCRIBE_LABELS = {
    "fr": "Se désinscrire",
    "en": "Unsubscribe",
    "es": "Darse de baja",
    "de": "Abmelden",
}
_BLOCK_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "hr", "section"}
)
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """One recipient's email: its subject and its two alternative parts."""

    subject: str
    html: str
    text: str


def escape_context(value: Any) -> Any:
    """`value` with every string inside it HTML-escaped (dicts and lists walked)."""
    if isinstance(value, str):
        return value if isinstance(value, Markup) else escape(value)
    if type(value) is dict:
        return {key: escape_context(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [escape_context(item) for item in value]
    return value


class _TextExtractor(HTMLParser):
    """Readable text from HTML: blocks on their own lines, links followed by their target."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(self._skipping - 1, 0)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and not href.startswith("#") and href != label:
                self.parts.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(_SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    """The text alternative of an HTML body: paragraphs, list items and links kept."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _compile(source: str, field: str, language: str, currency: str) -> Template:
    try:
        return compile_template(source, language=language, currency=currency)
    except TemplateError as exc:
        raise TemplateError(f"{field}: {exc.message}", field=field) from None


class EmailTemplate:
    """A campaign's email, compiled once: subject, HTML and optional text templates."""

    def __init__(
        self,
        *,
        subject: str,
        html: str,
        text: str | None = None,
        language: str = "fr",
        currency: str = "EUR",
    ) -> None:
        if not subject.strip():
            raise TemplateError("an email needs a subject", field="email_subject")
        if not html.strip():
            raise TemplateError("an email needs an HTML template", field="email_template")
        self.subject = _compile(subject, "email_subject", language, currency)
        self.html = _compile(html, "email_template", language, currency)
        self.text = _compile(text, "email_text_template", language, currency) if text else None
        used = self.subject.variables | self.html.variables
        if self.text is not None:
            used |= self.text.variables
        self.variables: frozenset[str] = used
        self._places_link = UNSUBSCRIBE_KEY in self.html.variables
        self._derived: dict[str, str] = {}

    def render(
        self,
        context: Mapping[str, Any],
        *,
        unsubscribe_url: str | None = None,
        footer: bool = True,
    ) -> RenderedEmail:
        """One recipient's email; raise TemplateError naming a missing variable.

        With `footer`, a marketing email whose HTML does not place the unsubscribe link
        gets one added to both parts.
        """
        values = dict(context)
        values[UNSUBSCRIBE_KEY] = unsubscribe_url or ""
        subject = " ".join(_part(self.subject, values, "email_subject").split())  # no folding
        if not subject:
            raise TemplateError("the email subject renders empty", field="email_subject")
        if len(subject) > SUBJECT_MAX:
            raise TemplateError(
                f"the email subject is longer than {SUBJECT_MAX} characters", field="email_subject"
            )
        html = _part(self.html, escape_context(values), "email_template")
        if self.text is not None:
            text = _part(self.text, values, "email_text_template")
        else:
            derived = self._derived.get(html)
            if derived is None:
                derived = html_to_text(html)
                if len(self._derived) > 10_000:
                    self._derived.clear()  # personalised bodies rarely repeat: bound the memory
                self._derived[html] = derived
            text = derived
        if footer and unsubscribe_url and not self._places_link:
            html, text = _with_footer(html, text, unsubscribe_url, str(values.get(LANGUAGE_KEY)))
        return RenderedEmail(subject=subject, html=html, text=text)


def _part(template: Template, values: Mapping[str, Any], field: str) -> str:
    """One part rendered; its error names the part, as a syntax error at compile time does."""
    try:
        return template.render(values)
    except TemplateError as exc:
        raise TemplateError(f"{field}: {exc.message}", field=field) from None


def _with_footer(html: str, text: str, url: str, language: str) -> tuple[str, str]:
    label = _UNSUBSCRIBE_LABELS.get(language.split("-")[0].lower(), _UNSUBSCRIBE_LABELS["fr"])
    link = (
        f'<p style="font-size:12px;color:#666666"><a href="{escape(url)}">{escape(label)}</a></p>'
    )
    ends = [match.start() for match in _BODY_END.finditer(html)]
    cut = ends[-1] if ends else len(html)  # inside the last </body>, else at the end
    html = f"{html[:cut]}{link}\n{html[cut:]}" if ends else f"{html}\n{link}"
    colon = ": " if label != _UNSUBSCRIBE_LABELS["fr"] else " : "  # French typography
    return html, f"{text}\n\n-- \n{label}{colon}{url}"
