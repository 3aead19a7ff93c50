"""Messages from the domain (errors above all) in the viewer's language.

Domain errors are English sentences with values in them (`column 5: unknown keyword
"tagg"; did you mean "tag"?`). A catalogue text with `%(name)s` placeholders doubles as the
pattern of such a sentence: the message is matched against each, and the translation gets
the values back. Values that are themselves sentences ("the end of the filter", a
suggestion) are translated the same way; names starting with `raw` never are (the filter
as typed), names starting with `code` are codes given words (`running`) or short phrases
without a sentence's spaces rule (`trigger`, `step 2 (wait)`). A message no
pattern matches is shown as it came.
"""

from __future__ import annotations

import re
from functools import cache

from textopt.web.catalogue import FR
from textopt.web.i18n import Translate

__all__ = ["translate_message"]

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    found = []
    for key in FR:
        if "%(" not in key:
            continue
        parts = _PLACEHOLDER.split(key)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)" for i, part in enumerate(parts)
        )
        found.append((re.compile(rf"{regex}\Z", re.DOTALL), key))
    # the sentence with the most fixed words first: the most specific pattern wins
    found.sort(key=lambda item: -len(_PLACEHOLDER.sub("", item[1])))
    return tuple(found)


def translate_message(_: Translate, message: str) -> str:
    """`message` in the language of `_`: a catalogue text, a sentence pattern, or as is."""
    direct = _(message)
    if direct != message:
        return direct
    for pattern, key in _patterns():
        found = pattern.match(message)
        if found is None:
            continue
        values = {name: _value(_, name, value) for name, value in found.groupdict().items()}
        return _(key) % values
    return message


def _value(_: Translate, name: str, value: str) -> str:
    if name.startswith("raw"):
        return value
    if name.startswith("code"):
        # a code given words (`running`), or a short phrase such as `step 2 (wait)`
        return translate_message(_, value)
    # words of a sentence, not a code or a name the user typed (those have no space)
    return translate_message(_, value) if " " in value.strip() else value
