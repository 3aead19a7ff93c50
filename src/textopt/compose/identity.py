"""Who a message is from: sender ID rules per country, the brand in the text, the STOP footer.

Rules are data (one entry per country) so that a country is added by adding a row. Marketing
messages name the brand and end with the destination's opt-out footer; transactional messages
get neither unless asked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from textopt.compose.cost import PriceTable, default_price_table, normalise_country
from textopt.compose.gsm import gsm_units
from textopt.compose.parts import Analysis, Encoding, analyze, measure
from textopt.compose.smart import transliterate
from textopt.errors import ConfigError, ValidationError
from textopt.vocab import Purpose

__all__ = [
    "FOOTERS",
    "SENDER_RULES",
    "BrandMode",
    "ComposedMessage",
    "MessageFrame",
    "PlannedText",
    "SenderId",
    "SenderKind",
    "SenderRules",
    "compose_message",
    "message_frame",
    "names_brand",
    "opt_out_footer",
    "sender_rules",
    "validate_sender_id",
]


class SenderKind(StrEnum):
    """What a sender ID is."""

    ALPHANUMERIC = "alphanumeric"  # a name such as "MaBoutique"; recipients cannot reply
    SHORT_CODE = "short_code"  # a national short number such as 36111
    NUMBER = "number"  # a full phone number in E.164 form


@dataclass(frozen=True)
class SenderRules:
    """What a destination country accepts as sender ID."""

    country: str
    alphanumeric: bool  # whether names are allowed at all
    alphabet: str  # regex of one allowed character of a name
    alphabet_text: str  # the same rule in words, for error messages
    max_length: int
    short_code: str  # regex of the country's short codes
    short_code_text: str
    number: str  # regex of the E.164 numbers accepted as sender
    blocked: frozenset[str]  # generic names operators refuse (compared case-insensitively)
    source: str


_E164 = r"\+[1-9]\d{7,14}"

_FR_BLOCKED = frozenset(
    # Examples given by af2m members since the 10 Mar 2025 rules; the full operator list is
    # not public, so aggregators may refuse more. English and French forms of each.
    {"ALERT", "ALERTE", "RDV", "BANK", "BANQUE", "PAYMENT", "PAIEMENT", "PARCEL", "COLIS"}
)

_DEFAULT_RULES = SenderRules(
    country="*",
    alphanumeric=True,
    alphabet=r"[A-Za-z0-9]",
    alphabet_text="letters and digits only (no spaces or punctuation)",
    max_length=11,
    short_code=r"\d{3,8}",
    short_code_text="3 to 8 digits",
    number=_E164,
    blocked=frozenset(),
    source="GSM 03.40 TP-OA: at most 11 alphanumeric characters",
)

SENDER_RULES: dict[str, SenderRules] = {
    "FR": SenderRules(
        country="FR",
        alphanumeric=True,
        alphabet=r"[A-Za-z0-9]",
        alphabet_text="letters and digits only (no spaces or punctuation)",
        max_length=11,
        short_code=r"3[68]\d{3}",
        short_code_text="5 digits starting with 36 or 38",
        number=r"\+33[67]\d{8}",
        blocked=_FR_BLOCKED,
        source="af2m.org/protection-des-oadc-sensibles; af2m Business Messaging charter",
    ),
    "BE": SenderRules(
        country="BE",
        alphanumeric=True,
        alphabet=r"[A-Za-z0-9]",
        alphabet_text="letters and digits only (no spaces or punctuation)",
        max_length=11,
        short_code=r"\d{4}",
        short_code_text="4 digits",
        number=r"\+324\d{8}",
        blocked=frozenset(),
        source="operator practice (aggregator documentation)",
    ),
    "GB": SenderRules(
        country="GB",
        alphanumeric=True,
        alphabet=r"[A-Za-z0-9 ]",
        alphabet_text="letters, digits and spaces only",
        max_length=11,
        short_code=r"[6-8]\d{4}",
        short_code_text="5 digits starting with 6, 7 or 8",
        number=r"\+447\d{9}",
        blocked=frozenset({"ALERT", "INFO", "VERIFY"}),
        source="BT/EE sender ID restrictions from 10 Jul 2023",
    ),
    "US": SenderRules(
        country="US",
        alphanumeric=False,
        alphabet="",
        alphabet_text="",
        max_length=0,
        short_code=r"\d{5,6}",
        short_code_text="5 or 6 digits",
        number=r"\+1[2-9]\d{9}",
        blocked=frozenset(),
        source="carriers refuse alphanumeric senders: use 10DLC, toll-free or a short code",
    ),
    "CA": SenderRules(
        country="CA",
        alphanumeric=False,
        alphabet="",
        alphabet_text="",
        max_length=0,
        short_code=r"\d{5,6}",
        short_code_text="5 or 6 digits",
        number=r"\+1[2-9]\d{9}",
        blocked=frozenset(),
        source="carriers refuse alphanumeric senders: use a long code, toll-free or a short code",
    ),
}


def sender_rules(country: str) -> SenderRules:
    """The sender ID rules of `country` (a permissive default for countries not listed)."""
    return SENDER_RULES.get(normalise_country(country), _DEFAULT_RULES)


@dataclass(frozen=True)
class SenderId:
    """A sender ID that the destination country accepts."""

    value: str
    kind: SenderKind
    country: str


def check_registered_sender(sender: str, *, registered: Sequence[str]) -> None:
    """Refuse a sender ID the workspace has not registered (`sender_ids`).

    A sender ID is a name the recipient trusts: whoever holds a key with the `send` scope
    must not be able to send as `PAYPAL` or as the recipient's bank.
    """
    if sender not in registered:
        known = ", ".join(registered) if registered else "none yet"
        raise ValidationError(
            f"sender ID {sender!r} is not one the workspace registered (sender_ids: {known})",
            field="sender_id",
        )


def validate_sender_id(sender: str, *, country: str) -> SenderId:
    """Check `sender` against the rules of `country`; raise a ValidationError naming the rule."""
    rules = sender_rules(country)
    code = normalise_country(country)
    where = f"sender ID {sender!r} for {code}"

    def refuse(rule: str) -> ValidationError:
        return ValidationError(f"{where}: {rule}", field="sender_id")

    if not sender:
        raise refuse("a sender ID is required")
    if sender.startswith("+"):
        if re.fullmatch(rules.number, sender):
            return SenderId(sender, SenderKind.NUMBER, code)
        raise refuse(f"a numeric sender must be a valid mobile number ({rules.number})")
    if sender.isdigit():
        if re.fullmatch(rules.short_code, sender):
            return SenderId(sender, SenderKind.SHORT_CODE, code)
        if not rules.alphanumeric:
            raise refuse(
                f"a number is required: +1 and 10 digits, or a short code of "
                f"{rules.short_code_text}"
            )
        raise refuse(
            "an all-digit sender is only allowed as a short code of "
            f"{rules.short_code_text} or a number in +E.164 form; a name needs a letter"
        )
    if not rules.alphanumeric:
        raise refuse(
            f"alphanumeric senders are not allowed in {code}: a number is required (+1 and "
            f"10 digits, or a short code of {rules.short_code_text})"
        )
    if len(sender) > rules.max_length:
        raise refuse(f"at most {rules.max_length} characters, not {len(sender)}")
    bad = sorted({c for c in sender if not re.fullmatch(rules.alphabet, c)})
    if bad:
        raise refuse(f"{rules.alphabet_text}; {''.join(bad)!r} not allowed")
    if sender.strip() != sender:
        raise refuse("no leading or trailing spaces")
    if sender.upper() in rules.blocked:
        raise refuse(f"generic sender names are blocked by operators ({rules.source})")
    return SenderId(sender, SenderKind.ALPHANUMERIC, code)


# Opt-out footers by destination, optionally by (country, language). `{stop_number}` is the
# short number that receives STOP replies when the sender is a name.
FOOTERS: dict[str | tuple[str, str], str] = {
    "FR": "STOP au {stop_number}",
    "BE": "STOP au {stop_number}",
    "LU": "STOP au {stop_number}",
    "DE": "STOP an {stop_number}",
    "ES": "BAJA al {stop_number}",
    "GB": "Reply STOP to opt out",
    "US": "Reply STOP to opt out",
    "CA": "Reply STOP to opt out",
    ("CA", "fr"): "Répondez ARRET pour vous désabonner",
}
DEFAULT_FOOTER = "Reply STOP to opt out"


def opt_out_footer(*, country: str, stop_number: str | None = None, language: str = "") -> str:
    """The opt-out footer of `country` (and `language`), with its STOP number filled in."""
    code = normalise_country(country)
    lang = language.replace("_", "-").split("-")[0].lower()
    template = FOOTERS.get((code, lang)) or FOOTERS.get(code) or DEFAULT_FOOTER
    if "{stop_number}" not in template:
        return template
    if not stop_number:
        raise ConfigError(
            f"the {code} opt-out footer ({template!r}) needs a STOP short number: set stop_number"
        )
    if not stop_number.isdigit():
        raise ConfigError(f"STOP number {stop_number!r} must be digits only")
    return template.format(stop_number=stop_number)


class BrandMode(StrEnum):
    """What to do when a marketing message does not name its brand."""

    PREFIX = "prefix"  # write "Brand: " before the text
    REQUIRE = "require"  # refuse the message


@functools.lru_cache(maxsize=256)
def _brand_pattern(brand: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(brand.casefold())}(?!\w)")


def names_brand(text: str, brand: str) -> bool:
    """Whether `text` names `brand` as a word, ignoring case."""
    return _names_folded(text.casefold(), brand)


def _names_folded(folded: str, brand: str) -> bool:
    """`names_brand` of a text already casefolded."""
    # A match starts where the folded brand does: a substring search (in C) finds the
    # first candidate, and the pattern, which cannot skip ahead on its own because it
    # starts with a look-behind, only checks the word boundaries from there.
    start = folded.find(brand.casefold())
    return start >= 0 and _brand_pattern(brand).search(folded, start) is not None


class PlannedText(NamedTuple):
    """What planning stores and counts of a composed message (`MessageFrame.planned`)."""

    text: str
    encoding: Encoding
    units: int
    segments: int
    unit_price: Decimal
    currency: str
    smart_saving: int  # segments smart encoding saves (or would save), never negative


@dataclass(frozen=True)
class ComposedMessage:
    """The final text of a message, how it was built, and its analysis."""

    text: str
    body: str
    brand_prefixed: bool
    footer: str  # "" when no footer was appended
    analysis: Analysis


@dataclass(frozen=True)
class MessageFrame:
    """Brand and footer rules of one campaign or send, built once and applied to each body."""

    country: str
    brand: str | None = None  # the brand the text must name; None when not required
    brand_mode: BrandMode = BrandMode.PREFIX
    footer: str = ""
    separator: str = "\n"

    def __post_init__(self) -> None:
        if self.brand is not None and not self.brand.strip():
            raise ConfigError("the brand name is empty")

    def apply(self, body: str) -> tuple[str, bool, str]:
        """(final text, whether the brand was prefixed, the footer appended or "")."""
        text = body
        prefixed = False
        # Case folding maps each character on its own: the folded text is folded once,
        # and the brand's prefix folded onto it.
        folded = body.casefold()
        if self.brand is not None and not _names_folded(folded, self.brand):
            if self.brand_mode is BrandMode.REQUIRE:
                raise ValidationError(
                    f"a marketing message must name the brand {self.brand!r}", field="text"
                )
            text = f"{self.brand}: {text}"
            folded = f"{self.brand}: ".casefold() + folded
            prefixed = True
        footer = ""
        if self.footer and self.footer.casefold() not in folded:
            footer = self.footer
            text = f"{text}{self.separator}{footer}" if text else footer
        return text, prefixed, footer

    def compose(
        self,
        body: str,
        *,
        smart_encoding: bool = False,
        fold_accents: bool = False,
        prices: PriceTable | None = None,
    ) -> ComposedMessage:
        """The final message for `body`: brand, footer, optional smart encoding, analysis."""
        text, prefixed, footer = self.apply(body)
        if smart_encoding:
            text = transliterate(text, fold_accents=fold_accents)
        analysis = analyze(text, fold_accents=fold_accents, country=self.country, prices=prices)
        return ComposedMessage(text, body, prefixed, footer, analysis)

    def planned(
        self,
        body: str,
        *,
        smart_encoding: bool = False,
        fold_accents: bool = False,
        prices: PriceTable | None = None,
    ) -> PlannedText:
        """`compose` reduced to what planning needs, for a text composed once per recipient:
        the same text, measure and unit price, and the segments smart encoding saves
        (with it on: against the text without it; off: what it would save), without the
        analysis's details (parts, replacements)."""
        framed = self.apply(body)[0]
        septets = gsm_units(framed)
        text = framed
        if septets is not None:  # all GSM-7: nothing to replace, nothing replacing saves
            encoding, units, segments = measure(text, septets=septets)
            saving = 0
        elif smart_encoding:
            text = transliterate(framed, fold_accents=fold_accents)
            encoding, units, segments = measure(text)
            saving = 0 if text == framed else measure(framed).segments - segments
        else:
            encoding, units, segments = measure(text, gsm=False)
            saving = segments - measure(transliterate(text, fold_accents=fold_accents)).segments
        table = prices or default_price_table()
        unit = table.unit_price(country=self.country, encoding=encoding)
        return PlannedText(text, encoding, units, segments, unit, table.currency, max(saving, 0))


def message_frame(
    *,
    purpose: Purpose,
    country: str,
    brand: str | None = None,
    stop_number: str | None = None,
    language: str = "",
    brand_mode: BrandMode = BrandMode.PREFIX,
    add_brand: bool | None = None,
    add_footer: bool | None = None,
    separator: str = "\n",
) -> MessageFrame:
    """The frame for `purpose` to `country`; marketing gets brand and footer, transactional not."""
    marketing = Purpose(purpose) is Purpose.MARKETING
    with_brand = marketing if add_brand is None else add_brand
    with_footer = marketing if add_footer is None else add_footer
    if with_brand and not (brand and brand.strip()):
        raise ConfigError("a marketing message must name its brand: set brand_name")
    footer = (
        opt_out_footer(country=country, stop_number=stop_number, language=language)
        if with_footer
        else ""
    )
    return MessageFrame(
        country=normalise_country(country),
        brand=brand if with_brand else None,
        brand_mode=brand_mode,
        footer=footer,
        separator=separator,
    )


def compose_message(
    body: str,
    *,
    purpose: Purpose,
    country: str,
    brand: str | None = None,
    stop_number: str | None = None,
    language: str = "",
    brand_mode: BrandMode = BrandMode.PREFIX,
    add_brand: bool | None = None,
    add_footer: bool | None = None,
    smart_encoding: bool = False,
    fold_accents: bool = False,
    prices: PriceTable | None = None,
) -> ComposedMessage:
    """Frame one body for `purpose` and `country` and analyse the result (see MessageFrame)."""
    frame = message_frame(
        purpose=purpose,
        country=country,
        brand=brand,
        stop_number=stop_number,
        language=language,
        brand_mode=brand_mode,
        add_brand=add_brand,
        add_footer=add_footer,
    )
    return frame.compose(
        body, smart_encoding=smart_encoding, fold_accents=fold_accents, prices=prices
    )
