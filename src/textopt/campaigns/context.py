"""What a message template may use about one contact: one definition for every sender."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from textopt.compose.templates import LANGUAGE_KEY

__all__ = ["CONTEXT_FIELDS", "context_builder", "template_context"]

#: The contact's own columns a template may name, beside `attributes` and `tags`.
CONTEXT_FIELDS = ("first_name", "last_name", "email", "phone", "country", "region")

#: Builds the context of one contact row from its decoded attributes and its tags.
ContextBuilder = Callable[[Any, Mapping[str, Any], Sequence[str]], dict[str, Any]]


def template_context(
    contact: Any, *, tags: Sequence[str] = (), attributes: bool = True
) -> dict[str, Any]:
    """The template variables of `contact` (a Contact or a row); None gives empty values.

    Fields the contact does not have (None) are left out.

    `attributes=False` skips decoding them when the template does not use them.
    """
    if contact is None:
        return {"first_name": "", "last_name": "", "attributes": {}, "tags": [], LANGUAGE_KEY: ""}
    # A field the contact lacks is absent, not None: `{{ first_name }}` is then reported
    # missing, and `{{ first_name | default("Bonjour") }}` takes its default.
    context = {
        name: value for name in CONTEXT_FIELDS if (value := getattr(contact, name)) is not None
    }
    context["attributes"] = (contact.attributes or {}) if attributes else {}
    context["tags"] = list(tags)
    context[LANGUAGE_KEY] = contact.language or ""
    return context


def context_builder(
    variables: Collection[str], positions: Mapping[str, int] | None = None
) -> ContextBuilder:
    """A fast `template_context` for planning: only the variables a template uses.

    With `positions` (column name -> index), contacts are plain rows read by position.
    A name the template uses but a contact does not have stays absent, so the template
    reports it as missing exactly as with the full context.
    """
    fields = tuple(name for name in CONTEXT_FIELDS if name in variables)
    getter: Callable[[Any], Any] | None
    if positions is None:
        getter = attrgetter(*fields) if fields else None
        language: Callable[[Any], Any] = attrgetter("language")
    else:
        getter = itemgetter(*(positions[name] for name in fields)) if fields else None
        language = itemgetter(positions["language"])
    wants_attributes = "attributes" in variables
    wants_tags = "tags" in variables

    def build(contact: Any, attributes: Mapping[str, Any], tags: Sequence[str]) -> dict[str, Any]:
        context: dict[str, Any]
        if getter is None:
            context = {}
        elif len(fields) == 1:
            value = getter(contact)
            context = {} if value is None else {fields[0]: value}
        else:
            context = {
                name: value
                for name, value in zip(fields, getter(contact), strict=True)
                if value is not None
            }
        if wants_attributes:
            context["attributes"] = attributes
        if wants_tags:
            context["tags"] = list(tags)
        context[LANGUAGE_KEY] = language(contact) or ""
        return context

    return build
