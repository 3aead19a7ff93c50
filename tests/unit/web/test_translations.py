"""Every word of the dashboard in French and English: templates, catalogue, codes, messages.

The templates are read with Jinja's own parser: the literal HTML between expressions is
put back together (each expression a placeholder) and read with an HTML parser, so text
and the attributes people read (title, alt, placeholder, aria-label) are checked wherever
they sit; string constants printed by an expression must go through `_()` or `plural()`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from textopt.consent.models import ConsentSource
from textopt.contacts.importrows import IssueCode
from textopt.links.reach import Unreachable
from textopt.policy import get_pack, pack_names
from textopt.policy.packs import customise_pack
from textopt.web import charts
from textopt.web.catalogue import EN, FR
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import translator
from textopt.web.pages_settings import pack_rules
from textopt.web.reasons import MESSAGE_REASONS, reason_sentence

TEMPLATES = Path(charts.__file__).parent / "templates"
HOLE = "\x00"  # where an expression's output goes
# Calls whose string arguments are catalogue keys.
_TRANSLATING = {"_", "plural"}
# Attributes a person reads or hears.
_READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
# Literal words that are the same in every language, each with why.
_SAME_EVERYWHERE = {
    "textopt",  # the product's name
    "English",  # the language switch names the other language in that language
    "Français",
    "français",  # the signup list's language choice, each in its own language
    "UCS",  # an encoding's name (UCS-2)
}
_LETTERS = re.compile(r"[^\W\d_]{2,}")


class _Visible(HTMLParser):
    """Text and read attributes of an HTML fragment, outside <code>, <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "script", "style", "kbd"):
            self._hidden += 1
        self.found += [v for k, v in attrs if k in _READ_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "script", "style", "kbd"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.found.append(data)


def _walk(node: nodes.Node, out: list[str]) -> None:
    """The template's literal text in order: an expression is a HOLE, with the strings it
    prints untranslated put in its place (so `<code>` or an `href` around them counts)."""
    if isinstance(node, nodes.Output):
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                out.append(child.data)
            else:
                constants: list[str] = []
                _constants(child, constants, translated=False)
                out.append(HOLE + HOLE.join(constants) + HOLE)
        return
    for child in node.iter_child_nodes():
        _walk(child, out)


def _constants(node: nodes.Node, found: list[str], *, translated: bool) -> None:
    """Strings an expression prints without a translating call around them.

    A call's or a filter's arguments and a lookup's key are values handed over (`num(n)`,
    `result.get("rows_read")`, `options["kind"]`), not printed: only what they are applied
    to is followed.
    """
    if isinstance(node, nodes.Call):
        if isinstance(node.node, nodes.Name) and node.node.name in _TRANSLATING:
            return
        _constants(node.node, found, translated=translated)
        return
    if isinstance(node, nodes.Filter | nodes.Getattr | nodes.Getitem):
        if node.node is not None:
            _constants(node.node, found, translated=translated)
        return
    if isinstance(node, nodes.Compare | nodes.Test):
        return  # compared, never printed
    if isinstance(node, nodes.Const) and isinstance(node.value, str) and not translated:
        found.append(node.value)
    for child in node.iter_child_nodes():
        _constants(child, found, translated=translated)


def _untranslated(path: Path) -> list[str]:
    tree = Environment().parse(path.read_text(encoding="utf-8"))
    pieces: list[str] = []
    _walk(tree, pieces)
    parser = _Visible()
    parser.feed("".join(pieces))
    words = [w for text in parser.found for w in _LETTERS.findall(text)]
    return [f"{path.name}: {w}" for w in words if w not in _SAME_EVERYWHERE]


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_shows_a_word_outside_the_catalogue(path: Path) -> None:
    assert _untranslated(path) == []


def test_the_template_check_finds_a_bare_word_text_attribute_and_printed_constant(
    tmp_path: Path,
) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<p title="Hello">{{ _("Fine") }} Bonjour {{ n }}</p><code>tag:vip</code>'
        '{{ "Oops" if x else _("Good") }}{{ plural(n, "row", "rows") }}'
        '<input aria-label="{{ _(\'Ok\') }}">{% if a == "word" %}{% endif %}',
        encoding="utf-8",
    )
    assert _untranslated(page) == ["bad.html: Hello", "bad.html: Bonjour", "bad.html: Oops"]


def _keys_used_by_templates() -> set[str]:
    """Every string constant handed to `_()` or `plural()` in a template."""
    found: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        tree = Environment().parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name in _TRANSLATING:
                found |= {a.value for a in call.args if isinstance(a, nodes.Const) and a.value} - {
                    ""
                }
    return {key for key in found if isinstance(key, str)}


def test_every_key_a_template_translates_has_french_words() -> None:
    missing = sorted(k for k in _keys_used_by_templates() if k not in FR)
    assert missing == []


def _is_code(key: str) -> bool:
    # `no_consent`, `import.bad_row`: a code; `opt-outs` is an English word
    return re.fullmatch(r"[a-z][a-z0-9]*(?:[._][a-z0-9_]+)+", key) is not None


def test_every_catalogue_key_has_both_languages() -> None:
    english_only = sorted(k for k in EN if k not in FR)
    codes_without_english = sorted(k for k in FR if _is_code(k) and k not in EN)
    assert english_only == []
    assert codes_without_english == []


def test_a_translation_keeps_every_placeholder_of_its_key() -> None:
    placeholder = re.compile(r"%\(\w+\)s")
    differing = [
        key
        for catalogue in (EN, FR)
        for key, text in catalogue.items()
        if sorted(placeholder.findall(key)) != sorted(placeholder.findall(text))
    ]
    assert differing == []


def test_every_code_a_page_shows_has_words_in_both_languages() -> None:
    issues = [v for k, v in vars(IssueCode).items() if k.isupper() and isinstance(v, str)]
    assert len(issues) > 15
    codes = [f"import.{code}" for code in issues]
    codes += [f"reach.{problem}" for problem in Unreachable]
    codes += [f"confidence.{level}" for level in "HML"]
    codes += [str(source) for source in ConsentSource]
    codes += [f"rule.{name}" for name in ("hours", "holidays", "consent", "transactional")]
    codes += [f"rule.{name}" for name in ("sender", "footer")]
    assert [c for c in codes if c not in EN or c not in FR] == []


@pytest.mark.parametrize("code", MESSAGE_REASONS)
def test_every_reason_reads_as_a_sentence_in_both_languages(code: str) -> None:
    english = reason_sentence(translator("en"), code)
    french = reason_sentence(translator("fr"), code)
    assert " " in english
    assert english != code
    assert " " in french
    assert french != english
    assert english[0].isupper()
    assert french[0].isupper()


def test_a_refusal_names_the_providers_error_code() -> None:
    sentence = reason_sentence(translator("fr"), "provider_refused", error_code="0x0B")
    assert sentence == "L’opérateur a refusé le message (code d’erreur 0x0B)"


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"\b(?:the|and|or|of|at|per|most|no|only|needed|allowed)\b", text))


@pytest.mark.parametrize("name", pack_names())
def test_every_packs_rules_read_in_french_without_english_words(name: str) -> None:
    pack = get_pack(name)
    french = pack_rules(pack, translator("fr"), lang="fr")
    english = pack_rules(pack, translator("en"), lang="en")
    assert len(french) == len(english) >= 6
    for rule, en_rule in zip(french, english, strict=True):
        assert _english_words(f"{rule.name} {rule.requirement} {rule.confidence}") == set()
        assert (rule.name, rule.confidence) != (en_rule.name, en_rule.confidence)
        assert not en_rule.name.startswith("rule.")
        assert (en_rule.source, en_rule.source_lang) == (rule.source, "en") or (
            rule.source_lang == "fr" and name.startswith("FR")
        )


def test_the_french_packs_cite_their_sources_in_french_words() -> None:
    rules = pack_rules(get_pack("FR"), translator("fr"), lang="fr")
    assert {rule.source_lang for rule in rules} == {"fr"}
    assert rules[0].source.startswith("Pratique courante du secteur")
    customised = customise_pack(
        get_pack("FR"), {"hours": {"end": "19:00", "source": "our own rule"}}
    )
    hours = pack_rules(customised, translator("fr"), lang="fr")[0]
    assert (hours.source, hours.source_lang) == ("our own rule", "en")


@pytest.mark.parametrize(
    ("message", "french"),
    [
        (
            'column 1: unknown keyword "tagg"; did you mean "tag"?\n  tagg:vip\n  ^',
            "colonne 1 : mot-clé inconnu « tagg » ; vouliez-vous dire « tag » ?\n  tagg:vip\n  ^",
        ),
        (
            "column 12: expected a filter term but found the end of the filter\n"
            "  tag:vip and\n             ^",
            "colonne 12 : un terme de filtre était attendu, mais voici la fin du filtre\n"
            "  tag:vip and\n             ^",
        ),
        (
            'column 9: unknown channel "smss"; did you mean "sms"? (channels: sms, email)\n'
            "  consent:smss\n          ^",
            "colonne 9 : canal inconnu « smss » ; vouliez-vous dire « sms » ? "
            "(canaux : sms, email)\n  consent:smss\n          ^",
        ),
        ("this upload is gone: upload the file again", None),
        ("no contact with id 99999", "aucun contact n°99999"),
        (
            "campaign 3 is running: only a draft launches",
            "la campagne n°3 est en cours : seul un brouillon se lance",
        ),
        ("an error nobody wrote a pattern for", "an error nobody wrote a pattern for"),
    ],
)
def test_domain_errors_read_in_french_with_their_values_kept(
    message: str, french: str | None
) -> None:
    assert translate_message(translator("fr"), message) == (french or FR[message])
    assert translate_message(translator("en"), message) == message


def test_the_filter_as_typed_is_never_translated_even_when_it_holds_catalogue_words() -> None:
    message = "column 1: the filter is empty; write all to select every contact\n  sms\n  ^"
    assert translate_message(translator("fr"), message).endswith("\n  sms\n  ^")


@pytest.mark.parametrize(
    ("message", "french"),
    [
        (
            'column 16: "7" is not a period like 24h, 90d, 6w, 18m or 2y\n'
            "  event:x within 7\n                 ^",
            "colonne 16 : « 7 » n’est pas une durée comme 24h, 90d, 6w, 18m ou 2y\n"
            "  event:x within 7\n                 ^",
        ),
        (
            'column 15: expected a period after "within" (e.g. 7d or 24h) but found the end of '
            "the filter\n  event:x within\n                ^",
            "colonne 15 : une durée était attendue après « within » (par ex. 7d ou 24h), mais "
            "voici la fin du filtre\n  event:x within\n                ^",
        ),
        (
            'column 7: "a b" is not an event type: 1 to 64 letters, digits, "_", "." or "-", '
            'starting with a letter or digit\n  event:"a b"\n        ^',
            "colonne 7 : « a b » n’est pas un type d’événement : 1 à 64 lettres, chiffres, « _ », "
            "« . » ou « - », commençant par une lettre ou un chiffre\n"
            '  event:"a b"\n        ^',
        ),
    ],
)
def test_event_filter_errors_read_in_french(message: str, french: str) -> None:
    assert translate_message(translator("fr"), message) == french


@pytest.mark.parametrize(
    ("raw", "french"),
    [
        ("06 12 34 ab", "n’est pas un numéro valide : il contient des lettres ou des symboles"),
        ("06 12", "n’est pas un numéro valide : trop court"),
        ("+999 612345678", "n’est pas un numéro valide : indicatif de pays inconnu"),
    ],
)
def test_a_refused_number_is_explained_in_french(raw: str, french: str) -> None:
    from textopt.contacts.phones import parse_phone
    from textopt.errors import InvalidPhoneNumber

    with pytest.raises(InvalidPhoneNumber) as refused:
        parse_phone(raw, default_region="FR")
    assert translate_message(translator("fr"), refused.value.message) == f"« {raw} » {french}"
