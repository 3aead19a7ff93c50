"""The web face's pure parts: the French catalogue, language choice, charts, safe redirects."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from textopt.inbound.keywords import KeywordKind
from textopt.inbound.models import InboundAction
from textopt.policy import select_pack, sending_calendar
from textopt.web import charts
from textopt.web.catalogue import EN, FR
from textopt.web.i18n import _from_header, translator
from textopt.web.pages_campaigns import send_time_charts
from textopt.web.pages_home import safe_next

WEB = Path(charts.__file__).parent
_TEXT = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def _texts() -> set[str]:
    found = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        found |= {match.group(2) for match in _TEXT.finditer(path.read_text())}
    return found


def test_every_text_of_the_pages_has_a_french_translation() -> None:
    missing = sorted(text for text in _texts() if text not in FR)
    assert missing == []


def test_every_inbound_action_and_keyword_has_words_in_both_languages() -> None:
    codes = [f"inbound.{a}" for a in InboundAction] + ["inbound.pending"]
    codes += [f"keyword.{k}" for k in KeywordKind]
    assert [c for c in codes if c not in EN or c not in FR] == []


def test_the_menu_labels_are_translated_too() -> None:
    menu = re.findall(r'\("/app/[^"]*", "([^"]+)"\)', (WEB / "templates/base.html").read_text())
    assert menu
    assert [label for label in menu if label not in FR] == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.5", "en"),
        ("de-DE,de;q=0.9,en;q=0.3", "en"),
        ("de-DE", None),
        ("fr;q=0, en;q=0.1", "en"),
        ("", None),
    ],
)
def test_the_browsers_preferred_supported_language_wins(header: str, expected: str | None) -> None:
    assert _from_header(header) == expected


def test_codes_read_as_words_in_both_languages() -> None:
    assert translator("en")("no_consent") == "no marketing consent"
    assert translator("fr")("no_consent") == "pas de consentement marketing"
    assert translator("fr")("an unknown text") == "an unknown text"


def test_a_funnel_draws_one_bar_per_stage_with_its_share_and_an_accessible_title() -> None:
    svg = str(charts.funnel_chart([("sent", 200), ("delivered", 150)], title="Funnel <1>"))
    assert svg.count("<rect") == 2
    assert "150 (75 %)" in svg
    assert "<title" in svg
    assert "Funnel &lt;1&gt;" in svg
    assert 'role="img"' in svg


def test_quiet_hours_are_shaded_behind_the_bars() -> None:
    hours = [(f"{h:02d}h", 5 if 8 <= h < 20 else 0) for h in range(24)]
    quiet = {h for h in range(24) if not 8 <= h < 20}
    svg = str(charts.bar_chart(hours, title="Send times", shaded=quiet, shaded_label="quiet"))
    assert svg.count('fill="#e4e7eb"') == len(quiet)
    assert svg.count("<title>") == 12  # one tooltip per non-empty bar
    assert "quiet" in svg


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/app/contacts?q=x", "/app/contacts?q=x"),
        ("https://evil.example/", "/app/"),
        ("//evil.example/", "/app/"),
        ("/\\evil.example", "/app/"),
        ("", "/app/"),
    ],
)
def test_going_back_after_sign_in_stays_on_this_site(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_send_time_charts_shade_the_hours_the_policy_closes_holidays_included() -> None:
    moselle = sending_calendar(select_pack("FR", "57"))
    hours = {"2026-04-02 Thu": [1] * 24, "2026-04-03 Fri": [1] * 24}
    thursday, good_friday = send_time_charts(translator("fr"), hours, moselle)
    assert thursday.count(f'fill="{charts._SHADE}"') == 12  # before 08:00 and from 20:00
    assert "jour férié" not in thursday
    assert good_friday.count(f'fill="{charts._SHADE}"') == 24
    assert "Heures d’envoi, heure locale: vendredi 3 avril 2026 — jour férié" in good_friday


def test_the_dashboard_never_imports_the_api() -> None:
    found = []
    for path in WEB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.startswith("textopt.api")]
    assert found == []


def test_each_days_send_time_chart_is_captioned_with_the_day_in_the_viewers_language() -> None:
    moselle = sending_calendar(select_pack("FR", "57"))
    hours = {"2026-04-02 Thu": [1] * 24, "2026-04-03 Fri": [1] * 24}
    thursday, good_friday = send_time_charts(translator("fr"), hours, moselle)
    assert "<figcaption>jeudi 2 avril 2026</figcaption>" in thursday
    assert "<figcaption>vendredi 3 avril 2026 — jour férié</figcaption>" in good_friday
    (english,) = send_time_charts(translator("en"), {"2026-04-02 Thu": [1] * 24}, moselle)
    assert "<figcaption>Thursday 2 April 2026</figcaption>" in english


def _y_axis_room(svg: str) -> int:
    found = re.search(r'<text x="(\d+)" y="\d+" text-anchor="end"[^>]*>([^<]+)</text>', svg)
    assert found is not None
    return int(found.group(1))


@pytest.mark.parametrize("peak", [9, 20_000, 1_250_000])
def test_the_y_axis_label_has_room_for_its_digits(peak: int) -> None:
    svg = str(charts.bar_chart([("00h", peak), ("01h", 1)], title="t"))
    label = charts._num(peak)
    # right-aligned at x: its width at 11 px (digits ~0.6 em) must fit left of it
    assert _y_axis_room(svg) >= len(label) * 11 * 0.6
    assert _y_axis_room(svg) >= 32


def test_a_funnel_leaves_room_for_the_count_after_the_longest_bar() -> None:
    svg = str(charts.funnel_chart([("decided", 1_250_000), ("sent", 1_000_000)], title="f"))
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))  # type: ignore[union-attr]
    bar = re.search(r'<rect x="(\d+)" y="\d+" width="(\d+)"', svg)
    assert bar is not None
    text_end = int(bar.group(1)) + int(bar.group(2)) + 6 + len("1 250 000") * 13 * 0.6
    assert text_end <= width


def test_charts_write_counts_as_the_pages_language_does() -> None:
    english = str(charts.funnel_chart([("sent", 3019)], title="f", number=lambda n: f"{n:,}"))
    assert ">3,019<" in english
    assert "sent: 3,019" in english  # the description screen readers read
    french = str(charts.bar_chart([("14h", 3019)], title="b"))
    assert "3\u202f019" in french
