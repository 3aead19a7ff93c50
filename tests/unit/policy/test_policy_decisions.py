# ruff: noqa: E501
"""Decisions expected from the rules (COMPLIANCE.md and the packs' sources), one case per line.

Each line: id, recipient number, the instant `now` (with its offset), the expected decision,
options; the comment says which rule gives that answer. Unless an option says otherwise the
message is a marketing SMS, the recipient consented to SMS marketing, the workspace uses its
default caps (1 per day, 4 per 30 days) and has sent nothing before.

Expected decisions: `SEND`, `DEFER <earliest allowed instant> <reason>`, `BLOCK <reason>`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from policy_builders import (
    AK,
    AU,
    BE,
    DE,
    ES,
    FL,
    FR,
    GF,
    GG,
    GP,
    ID,
    INVALID,
    JP,
    MD,
    MD2,
    MQ,
    NL,
    NY,
    OK,
    RE,
    RU,
    TOLL_FREE,
    TORONTO,
    UK,
    YT,
    contact,
    expected_text,
    history,
    instant,
    message,
    verdict_text,
)

from textopt.policy import WorkspacePolicy, decide

TX = {"purpose": "transactional", "consent": None}  # a transactional message, no consent at all
NO_CAPS = WorkspacePolicy(max_per_day=None, max_per_30_days=None)
ACROSS = WorkspacePolicy(caps_across_channels=True)
ZERO = WorkspacePolicy(max_per_day=0)
HOURS_9_19 = WorkspacePolicy(earliest=dt.time(9), latest=dt.time(19))
LATE_22 = WorkspacePolicy(latest=dt.time(22))
WEEKDAYS = WorkspacePolicy(days=frozenset(range(5)))
HOLIDAYS = WorkspacePolicy(block_holidays=True)
FL_THREE = ["2026-06-09T12:00-04:00", "2026-06-09T18:00-04:00", "2026-06-10T09:00-04:00"]
MONTH_FOUR = [
    "2026-05-12T10:00+02:00",
    "2026-05-20T10:00+02:00",
    "2026-05-28T10:00+02:00",
    "2026-06-05T10:00+02:00",
]

# fmt: off
CASES: list[tuple[str, str | None, str, str, dict[str, Any]]] = [
    # --- France, strict default: Mon-Sat 08:00-20:00 Europe/Paris, no Sundays, no holidays
    ("fr-saturday-1959", FR, "2026-03-28T19:59+01:00", "SEND", {}),  # Saturday is a working day; 19:59 is before 20:00
    ("fr-saturday-2000", FR, "2026-03-28T20:00+01:00", "DEFER 2026-03-30T08:00+02:00 quiet_hours", {}),  # 20:00 closes; Sunday skipped; Monday is in summer time
    ("fr-sunday-noon", FR, "2026-03-29T12:00+02:00", "DEFER 2026-03-30T08:00+02:00 sunday", {}),  # no Sundays
    ("fr-monday-0759", FR, "2026-03-30T07:59+02:00", "DEFER 2026-03-30T08:00+02:00 quiet_hours", {}),  # before 08:00
    ("fr-monday-0800", FR, "2026-03-30T08:00+02:00", "SEND", {}),  # the window opens at 08:00 inclusive
    ("fr-utc-input-open", FR, "2026-03-30T06:00+00:00", "SEND", {}),  # 06:00 UTC is 08:00 in Paris in summer
    ("fr-utc-input-closed", FR, "2026-03-30T05:59+00:00", "DEFER 2026-03-30T06:00+00:00 quiet_hours", {}),  # 07:59 in Paris
    ("fr-night", FR, "2026-06-10T03:00+02:00", "DEFER 2026-06-10T08:00+02:00 quiet_hours", {}),  # night: same day 08:00
    ("fr-last-second", FR, "2026-06-10T19:59:59+02:00", "SEND", {}),  # 20:00 is exclusive
    ("fr-14-july", FR, "2026-07-14T10:00+02:00", "DEFER 2026-07-15T08:00+02:00 holiday", {}),  # National Day
    ("fr-eve-of-14-july", FR, "2026-07-13T20:30+02:00", "DEFER 2026-07-15T08:00+02:00 quiet_hours", {}),  # next day is a holiday
    ("fr-good-friday-paris", FR, "2026-04-03T10:00+02:00", "SEND", {}),  # Good Friday is not a holiday in Paris
    ("fr-good-friday-75", FR, "2026-04-03T10:00+02:00", "SEND", {"region": "75"}),  # nor in department 75
    ("fr-good-friday-67", FR, "2026-04-03T10:00+02:00", "DEFER 2026-04-04T08:00+02:00 holiday", {"region": "67"}),  # Strasbourg: Alsace-Moselle holiday
    ("fr-good-friday-68", FR, "2026-04-03T10:00+02:00", "DEFER 2026-04-04T08:00+02:00 holiday", {"region": "68"}),  # Haut-Rhin
    ("fr-good-friday-57", FR, "2026-04-03T10:00+02:00", "DEFER 2026-04-04T08:00+02:00 holiday", {"region": "57"}),  # Moselle
    ("fr-st-stephen-67", FR, "2026-12-26T10:00+01:00", "DEFER 2026-12-28T08:00+01:00 holiday", {"region": "67"}),  # 26 Dec in Alsace, then Sunday
    ("fr-st-stephen-paris", FR, "2026-12-26T10:00+01:00", "SEND", {}),  # 26 Dec is a plain Saturday in Paris
    ("fr-easter-weekend", FR, "2026-04-04T20:00+02:00", "DEFER 2026-04-07T08:00+02:00 quiet_hours", {}),  # Easter Sunday, then Easter Monday
    ("fr-ascension", FR, "2026-05-14T09:00+02:00", "DEFER 2026-05-15T08:00+02:00 holiday", {}),  # Ascension Thursday
    ("fr-labour-day", FR, "2026-05-01T09:00+02:00", "DEFER 2026-05-02T08:00+02:00 holiday", {}),  # 1 May; Saturday is allowed
    ("fr-victory-day", FR, "2026-05-08T09:00+02:00", "DEFER 2026-05-09T08:00+02:00 holiday", {}),  # 8 May
    ("fr-christmas", FR, "2026-12-25T12:00+01:00", "DEFER 2026-12-26T08:00+01:00 holiday", {}),  # 25 Dec
    ("fr-armistice", FR, "2026-11-11T08:30+01:00", "DEFER 2026-11-12T08:00+01:00 holiday", {}),  # 11 Nov
    ("fr-new-year", FR, "2026-01-01T11:00+01:00", "DEFER 2026-01-02T08:00+01:00 holiday", {}),  # 1 Jan
    ("fr-whit-monday", FR, "2026-05-25T10:00+02:00", "DEFER 2026-05-26T08:00+02:00 holiday", {}),  # Pentecost Monday
    ("fr-assumption-saturday", FR, "2026-08-15T10:00+02:00", "DEFER 2026-08-17T08:00+02:00 holiday", {}),  # holiday on Saturday, then Sunday
    ("fr-all-saints-sunday", FR, "2026-11-01T10:00+01:00", "DEFER 2026-11-02T08:00+01:00 holiday", {}),  # a holiday on a Sunday reads as holiday
    # --- France, DST (spring forward 2026-03-29 02:00->03:00, fall back 2026-10-25 03:00->02:00)
    ("fr-spring-forward-night", FR, "2026-03-29T01:30+01:00", "DEFER 2026-03-30T08:00+02:00 sunday", {}),  # Sunday; Monday in summer time
    ("fr-fall-back-second-0230", FR, "2026-10-25T02:30+01:00", "DEFER 2026-10-26T08:00+01:00 sunday", {}),  # second 02:30, winter time
    ("fr-fall-back-first-0230", FR, "2026-10-25T02:30+02:00", "DEFER 2026-10-26T08:00+01:00 sunday", {}),  # first 02:30, summer time
    ("fr-saturday-before-fall-back", FR, "2026-10-24T20:00+02:00", "DEFER 2026-10-26T08:00+01:00 quiet_hours", {}),  # Monday in winter time
    ("af2m-spring-forward-0800", FR, "2026-03-29T08:00+02:00", "SEND", {"pack": "FR-af2m-2026"}),  # legal minimum tolerates Sundays; 08:00 summer time
    ("af2m-spring-forward-0759", FR, "2026-03-29T07:59+02:00", "DEFER 2026-03-29T08:00+02:00 quiet_hours", {"pack": "FR-af2m-2026"}),  # one minute early
    ("af2m-spring-forward-before-jump", FR, "2026-03-29T01:59+01:00", "DEFER 2026-03-29T08:00+02:00 quiet_hours", {"pack": "FR-af2m-2026"}),  # only 5 h of real time to wait
    ("af2m-fall-back", FR, "2026-10-25T02:30+01:00", "DEFER 2026-10-25T08:00+01:00 quiet_hours", {"pack": "FR-af2m-2026"}),  # 08:00 winter time
    ("af2m-2100", FR, "2026-06-10T21:00+02:00", "SEND", {"pack": "FR-af2m-2026"}),  # legal minimum runs to 21:30
    ("af2m-2130", FR, "2026-06-10T21:30+02:00", "DEFER 2026-06-11T08:00+02:00 quiet_hours", {"pack": "FR-af2m-2026"}),  # 21:30 exclusive
    ("af2m-14-july", FR, "2026-07-14T10:00+02:00", "SEND", {"pack": "FR-af2m-2026"}),  # holidays tolerated
    ("af2m-sunday", FR, "2026-06-14T10:00+02:00", "SEND", {"pack": "FR-af2m-2026"}),  # Sundays tolerated
    # --- overseas France: the FR pack in the local zone, with local holidays
    ("re-morning", RE, "2026-06-10T07:30+04:00", "DEFER 2026-06-10T08:00+04:00 quiet_hours", {}),  # judged in Indian/Reunion time
    ("re-evening-paris-open", RE, "2026-06-10T21:00+04:00", "DEFER 2026-06-11T08:00+04:00 quiet_hours", {}),  # 19:00 in Paris does not matter
    ("re-paris-night", RE, "2026-06-10T06:00+02:00", "SEND", {}),  # 06:00 in Paris is 08:00 in Réunion
    ("re-14-july", RE, "2026-07-14T10:00+04:00", "DEFER 2026-07-15T08:00+04:00 holiday", {}),  # national holidays apply overseas
    ("re-good-friday", RE, "2026-04-03T10:00+04:00", "SEND", {}),  # Good Friday is Alsace-Moselle only
    ("yt-abolition-day", YT, "2026-04-27T10:00+03:00", "DEFER 2026-04-28T08:00+03:00 holiday", {}),  # Mayotte: 27 April
    ("gp-abolition-day", GP, "2026-05-27T10:00-04:00", "DEFER 2026-05-28T08:00-04:00 holiday", {}),  # Guadeloupe: 27 May
    ("mq-abolition-day", MQ, "2026-05-22T10:00-04:00", "DEFER 2026-05-23T08:00-04:00 holiday", {}),  # Martinique: 22 May
    ("gp-on-martinique-day", GP, "2026-05-22T10:00-04:00", "SEND", {}),  # 22 May is not a Guadeloupe holiday
    ("gf-abolition-day", GF, "2026-06-10T10:00-03:00", "DEFER 2026-06-11T08:00-03:00 holiday", {}),  # French Guiana: 10 June
    # --- United States: federal 08:00-21:00 every day; FL, OK, MD 08:00-20:00
    ("us-ny-2030", NY, "2026-06-10T20:30-04:00", "SEND", {}),  # federal window runs to 21:00
    ("us-ny-2100", NY, "2026-06-10T21:00-04:00", "DEFER 2026-06-11T08:00-04:00 quiet_hours", {}),  # 21:00 exclusive
    ("us-fl-2030", FL, "2026-06-10T20:30-04:00", "DEFER 2026-06-11T08:00-04:00 quiet_hours", {}),  # Florida closes at 20:00
    ("us-fl-1959", FL, "2026-06-10T19:59-04:00", "SEND", {}),  # before 20:00 in Florida
    ("us-ok-2000", OK, "2026-06-10T20:00-05:00", "DEFER 2026-06-11T08:00-05:00 quiet_hours", {}),  # Oklahoma, Central time
    ("us-md-2015", MD, "2026-06-10T20:15-04:00", "DEFER 2026-06-11T08:00-04:00 quiet_hours", {}),  # Maryland (410)
    ("us-md-240-2015", MD2, "2026-06-10T20:15-04:00", "DEFER 2026-06-11T08:00-04:00 quiet_hours", {}),  # Maryland (240)
    ("us-ny-number-lives-in-fl", NY, "2026-06-10T20:30-04:00", "DEFER 2026-06-11T08:00-04:00 quiet_hours", {"region": "FL"}),  # the address wins over the area code
    ("us-fl-number-lives-in-ny", FL, "2026-06-10T20:30-04:00", "SEND", {"region": "NY"}),  # the address wins over the area code
    ("us-region-with-prefix", NY, "2026-06-10T20:30-04:00", "DEFER 2026-06-11T08:00-04:00 quiet_hours", {"region": "US-FL"}),  # ISO 3166-2 form
    ("us-sunday", NY, "2026-06-14T12:00-04:00", "SEND", {}),  # no federal Sunday rule
    ("us-july-4", NY, "2026-07-04T12:00-04:00", "SEND", {}),  # no federal holiday rule
    ("us-spring-forward-0730", NY, "2026-03-08T07:30-04:00", "DEFER 2026-03-08T08:00-04:00 quiet_hours", {}),  # 08:00 EDT on the jump day
    ("us-spring-forward-0130", NY, "2026-03-08T01:30-05:00", "DEFER 2026-03-08T08:00-04:00 quiet_hours", {}),  # before the jump
    ("us-fall-back-first-0130", NY, "2026-11-01T01:30-04:00", "DEFER 2026-11-01T08:00-05:00 quiet_hours", {}),  # first 01:30 (EDT)
    ("us-fall-back-second-0130", NY, "2026-11-01T01:30-05:00", "DEFER 2026-11-01T08:00-05:00 quiet_hours", {}),  # second 01:30 (EST)
    ("us-fall-back-2059", NY, "2026-11-01T20:59-05:00", "SEND", {}),  # evening after the fall back
    ("us-fall-back-2100", NY, "2026-11-01T21:00-05:00", "DEFER 2026-11-02T08:00-05:00 quiet_hours", {}),  # 21:00 EST
    ("us-idaho-boise-open-la-closed", ID, "2026-06-10T08:30-06:00", "DEFER 2026-06-10T08:00-07:00 quiet_hours", {}),  # 07:30 in Los Angeles
    ("us-idaho-both-open", ID, "2026-06-10T20:30-06:00", "SEND", {}),  # 20:30 Boise, 19:30 Los Angeles
    ("us-idaho-boise-closed", ID, "2026-06-10T21:00-06:00", "DEFER 2026-06-11T08:00-07:00 quiet_hours", {}),  # next instant open in both zones
    ("us-idaho-explicit-zone", ID, "2026-06-10T08:30-06:00", "SEND", {"tz": "America/Boise"}),  # the contact's zone wins
    ("us-alaska-adak-closed", AK, "2026-06-10T08:00-08:00", "DEFER 2026-06-10T08:00-09:00 quiet_hours", {}),  # 07:00 in Adak
    ("us-toll-free-morning", TOLL_FREE, "2026-06-10T12:00+00:00", "DEFER 2026-06-10T18:00+00:00 quiet_hours", {}),  # Honolulu opens last (08:00 HST)
    ("us-toll-free-open", TOLL_FREE, "2026-06-10T18:00+00:00", "SEND", {}),  # 08:00 Honolulu, 14:00 New York
    ("us-toll-free-ny-closed", TOLL_FREE, "2026-06-11T01:00+00:00", "DEFER 2026-06-11T18:00+00:00 quiet_hours", {}),  # 21:00 in New York
    # --- Canada, UK, EU packs and the DEFAULT pack: Mon-Sat 08:00-20:00
    ("ca-toronto-sunday", TORONTO, "2026-06-14T12:00-04:00", "DEFER 2026-06-15T08:00-04:00 sunday", {}),  # strict default: no Sundays
    ("ca-toronto-1959", TORONTO, "2026-06-10T19:59-04:00", "SEND", {}),  # within the window
    ("ca-newfoundland-two-zones", NL, "2026-06-10T08:00-02:30", "DEFER 2026-06-10T08:00-03:00 quiet_hours", {}),  # 07:30 in Halifax
    ("uk-saturday-1959", UK, "2026-06-13T19:59+01:00", "SEND", {}),  # Saturday allowed
    ("uk-sunday", UK, "2026-06-14T10:00+01:00", "DEFER 2026-06-15T08:00+01:00 sunday", {}),  # strict default: no Sundays
    ("uk-bank-holiday", UK, "2026-05-04T10:00+01:00", "SEND", {}),  # UK pack has no holiday rule
    ("de-sunday", DE, "2026-06-14T10:00+02:00", "DEFER 2026-06-15T08:00+02:00 sunday", {}),  # no Sundays
    ("es-canary-closed", ES, "2026-06-10T08:30+02:00", "DEFER 2026-06-10T09:00+02:00 quiet_hours", {}),  # 07:30 in the Canaries
    ("es-evening", ES, "2026-06-10T19:59+02:00", "SEND", {}),  # open in Madrid and the Canaries
    ("es-explicit-madrid", ES, "2026-06-10T08:30+02:00", "SEND", {"tz": "Europe/Madrid"}),  # the contact's zone wins
    ("be-2000", BE, "2026-06-10T20:00+02:00", "DEFER 2026-06-11T08:00+02:00 quiet_hours", {}),  # 20:00 closes
    ("jp-default-2000", JP, "2026-06-10T20:00+09:00", "DEFER 2026-06-11T08:00+09:00 quiet_hours", {}),  # DEFAULT in Asia/Tokyo
    ("jp-default-sunday", JP, "2026-06-14T10:00+09:00", "DEFER 2026-06-15T08:00+09:00 sunday", {}),  # DEFAULT: no Sundays
    ("au-sydney-evening", AU, "2026-06-10T10:00+00:00", "DEFER 2026-06-11T00:00+00:00 quiet_hours", {}),  # 20:00 Brisbane; Perth opens last
    ("au-saturday-evening", AU, "2026-06-13T10:00+00:00", "DEFER 2026-06-15T00:00+00:00 quiet_hours", {}),  # Sunday everywhere, then Monday 08:00 Perth
    ("ru-before-moscow", RU, "2026-06-10T04:00+00:00", "DEFER 2026-06-10T05:00+00:00 quiet_hours", {}),  # 07:00 in Moscow
    ("ru-after-kamchatka", RU, "2026-06-10T08:00+00:00", "DEFER 2026-06-11T05:00+00:00 quiet_hours", {}),  # 20:00 in Kamchatka
    ("no-common-window", JP, "2026-06-10T10:00+00:00", "BLOCK no_window", {"zones": ("Etc/UTC", "Asia/Kamchatka")}),  # 12 h apart: 08-20 never overlaps
    # --- consent
    ("no-consent", FR, "2026-06-10T10:00+02:00", "BLOCK no_consent", {"consent": None}),  # marketing needs consent
    ("consent-revoked", FR, "2026-06-10T10:00+02:00", "BLOCK consent_revoked", {"consent": "revoked"}),  # STOP withdrew it
    ("consent-confirmed", FR, "2026-06-10T10:00+02:00", "SEND", {"consent": "confirmed"}),  # double opt-in confirmed
    ("revoked-customer", FR, "2026-06-10T10:00+02:00", "BLOCK consent_revoked", {"consent": "revoked", "customer": True}),  # soft opt-in never overrides STOP
    ("soft-opt-in-fr", FR, "2026-06-10T10:00+02:00", "SEND", {"consent": None, "customer": True}),  # CPCE L34-5 soft opt-in
    ("account-only-fr", FR, "2026-06-10T10:00+02:00", "BLOCK no_consent", {"consent": None, "account_only": True}),  # an account alone is not enough
    ("eligible-not-customer", FR, "2026-06-10T10:00+02:00", "BLOCK no_consent", {"consent": None, "eligible_only": True}),  # soft opt-in needs a customer
    ("soft-opt-in-de", DE, "2026-06-10T10:00+02:00", "BLOCK no_consent", {"consent": None, "customer": True}),  # Germany: consent only
    ("soft-opt-in-de-email", DE, "2026-06-10T10:00+02:00", "SEND", {"consent": None, "customer": True, "channel": "email", "email": "kunde@example.de"}),  # UWG s. 7(3): email only
    ("soft-opt-in-us-sms", FL, "2026-06-10T10:00-04:00", "BLOCK no_consent", {"consent": None, "customer": True}),  # TCPA: express consent for SMS
    ("soft-opt-in-es", ES, "2026-06-10T10:00+02:00", "SEND", {"consent": None, "customer": True}),  # LSSI art. 21
    ("soft-opt-in-uk", UK, "2026-06-10T10:00+01:00", "SEND", {"consent": None, "customer": True}),  # PECR reg. 22(3)
    ("soft-opt-in-be", BE, "2026-06-10T10:00+02:00", "SEND", {"consent": None, "customer": True}),  # Belgian soft opt-in
    ("soft-opt-in-ca", TORONTO, "2026-06-10T10:00-04:00", "SEND", {"consent": None, "customer": True}),  # CASL implied consent
    ("soft-opt-in-us", NY, "2026-06-10T10:00-04:00", "BLOCK no_consent", {"consent": None, "customer": True}),  # TCPA: written consent
    ("soft-opt-in-guernsey", GG, "2026-06-10T10:00+01:00", "BLOCK no_consent", {"consent": None, "customer": True}),  # +44 but not UK: DEFAULT, consent only
    ("email-consent-only", FR, "2026-06-10T10:00+02:00", "BLOCK no_consent", {"consent_channel": "email"}),  # consent is per channel
    ("soft-opt-in-at-night", FR, "2026-06-10T22:00+02:00", "DEFER 2026-06-11T08:00+02:00 quiet_hours", {"consent": None, "customer": True}),  # consent does not lift hours
    # --- transactional: no consent, exempt from hours and caps, never from hard blocks
    ("tx-0300", FR, "2026-06-10T03:00+02:00", "SEND", TX),  # exempt from quiet hours
    ("tx-sunday", FR, "2026-06-14T10:00+02:00", "SEND", TX),  # exempt from Sundays
    ("tx-14-july", FR, "2026-07-14T10:00+02:00", "SEND", TX),  # exempt from holidays
    ("tx-florida-2300", FL, "2026-06-10T23:00-04:00", "SEND", TX),  # TCPA hours cover solicitations only
    ("tx-invalid-number", INVALID, "2026-06-10T10:00+02:00", "BLOCK invalid_number", {**TX, "country": "FR"}),  # hard block
    ("tx-opt-out", FR, "2026-06-10T10:00+02:00", "BLOCK transactional_opt_out", {**TX, "opt_out": True}),  # explicit opt-out
    ("tx-consent-revoked", FR, "2026-06-10T10:00+02:00", "BLOCK transactional_opt_out", {**TX, "tx_consent": "revoked"}),  # revoked transactional consent
    ("tx-erased-number", FR, "2026-06-10T10:00+02:00", "BLOCK suppressed", {**TX, "suppressed": ("erasure",)}),  # suppression always wins
    ("tx-caps-exempt", FR, "2026-06-10T10:00+02:00", "SEND", {**TX, "sent": ["2026-06-10T08:00+02:00", "2026-06-10T09:00+02:00"]}),  # caps do not count it
    ("tx-expired", FR, "2026-06-10T03:00+02:00", "BLOCK expired", {**TX, "expires": "2026-06-10T02:00+02:00"}),  # expiry is a hard block
    # --- suppression and destination
    ("suppressed-with-consent", FR, "2026-06-10T10:00+02:00", "BLOCK suppressed", {"suppressed": ("keyword",)}),  # suppression wins over consent
    ("pending-double-opt-in", FR, "2026-06-10T10:00+02:00", "BLOCK no_consent", {"consent": "requested"}),  # not consent until the OUI
    ("tx-after-stop", FR, "2026-06-10T03:00+02:00", "SEND", {**TX, "suppressed": ("keyword",)}),  # STOP stops marketing, not an order notice
    ("tx-after-complaint", FR, "2026-06-10T10:00+02:00", "BLOCK suppressed", {**TX, "suppressed": ("complaint",)}),  # a complaint stops everything
    ("marketing-invalid-number", INVALID, "2026-06-10T10:00+02:00", "BLOCK invalid_number", {"country": "FR"}),  # no valid number
    # --- expiry: never sent late
    ("expires-before-monday", FR, "2026-03-28T20:00+01:00", "BLOCK expired", {"expires": "2026-03-29T12:00+02:00"}),  # next window is Monday
    ("expires-at-window-start", FR, "2026-03-28T20:00+01:00", "BLOCK expired", {"expires": "2026-03-30T08:00+02:00"}),  # must go before expiry
    ("expires-after-window-start", FR, "2026-03-28T20:00+01:00", "DEFER 2026-03-30T08:00+02:00 quiet_hours", {"expires": "2026-03-30T08:01+02:00"}),  # one minute to spare
    ("expiry-reached", FR, "2026-06-10T10:00+02:00", "BLOCK expired", {"expires": "2026-06-10T10:00+02:00"}),  # expired at this instant
    ("expires-later", FR, "2026-06-10T10:00+02:00", "SEND", {"expires": "2026-06-10T12:00+02:00"}),  # still valid
    # --- frequency caps over rolling windows
    ("cap-day-23h", FR, "2026-06-10T10:00+02:00", "DEFER 2026-06-10T11:00+02:00 frequency_cap", {"sent": ["2026-06-09T11:00+02:00"]}),  # 1 per 24 h frees at 11:00
    ("cap-day-24h", FR, "2026-06-10T10:00+02:00", "SEND", {"sent": ["2026-06-09T10:00+02:00"]}),  # exactly 24 h later
    ("cap-30-days", FR, "2026-06-10T10:00+02:00", "DEFER 2026-06-11T10:00+02:00 frequency_cap", {"sent": MONTH_FOUR}),  # 4 per 30 days: oldest leaves 11 June
    ("cap-30-days-freed", FR, "2026-06-11T10:00+02:00", "SEND", {"sent": MONTH_FOUR}),  # the oldest has left the window
    ("cap-frees-in-quiet-hours", FR, "2026-06-10T19:00+02:00", "DEFER 2026-06-11T08:00+02:00 frequency_cap", {"sent": ["2026-06-09T20:30+02:00"]}),  # frees 20:30, closed
    ("cap-frees-after-expiry", FR, "2026-06-10T19:00+02:00", "BLOCK frequency_cap", {"sent": ["2026-06-09T20:30+02:00"], "expires": "2026-06-10T21:00+02:00"}),  # the cap, not the hours, holds it past expiry
    ("cap-before-opening-expires", FR, "2026-06-10T07:00+02:00", "BLOCK frequency_cap", {"sent": ["2026-06-10T08:00+02:00"], "expires": "2026-06-10T20:00+02:00"}),  # another campaign's message planned at 08:00 takes the day's budget
    ("hours-before-opening-expires", FR, "2026-06-10T07:00+02:00", "BLOCK expired", {"expires": "2026-06-10T08:00+02:00"}),  # no allowed instant before expiry: the hours
    ("cap-defers-past-opening", FR, "2026-06-10T07:00+02:00", "DEFER 2026-06-11T08:00+02:00 frequency_cap", {"sent": ["2026-06-10T08:00+02:00"]}),  # opens 08:00 but the budget is taken
    ("cap-planned-later-today", FR, "2026-06-10T10:00+02:00", "DEFER 2026-06-11T15:00+02:00 frequency_cap", {"sent": ["2026-06-10T15:00+02:00"]}),  # a planned send counts too
    ("cap-email-separate", FR, "2026-06-10T10:00+02:00", "SEND", {"sent_email": ["2026-06-10T08:00+02:00"]}),  # per channel by default
    ("cap-email-shared", FR, "2026-06-10T10:00+02:00", "DEFER 2026-06-11T08:00+02:00 frequency_cap", {"sent_email": ["2026-06-10T08:00+02:00"], "ws": ACROSS}),  # one budget across channels
    ("cap-ignores-transactional", FR, "2026-06-10T10:00+02:00", "SEND", {"sent_transactional": ["2026-06-10T09:00+02:00"]}),  # only marketing counts
    ("fl-cap-three-in-24h", FL, "2026-06-10T10:00-04:00", "DEFER 2026-06-10T12:00-04:00 frequency_cap", {"sent": FL_THREE, "ws": NO_CAPS}),  # FTSA 3 per 24 h
    ("fl-cap-two-in-24h", FL, "2026-06-10T10:00-04:00", "SEND", {"sent": FL_THREE[1:], "ws": NO_CAPS}),  # a third is allowed
    ("ny-no-state-cap", NY, "2026-06-10T10:00-04:00", "SEND", {"sent": FL_THREE, "ws": NO_CAPS}),  # no federal cap
    ("workspace-cap-zero", FR, "2026-06-10T10:00+02:00", "BLOCK frequency_cap", {"ws": ZERO}),  # a cap of 0: no marketing
    ("workspace-caps-off", FR, "2026-06-10T10:00+02:00", "SEND", {"sent": [*MONTH_FOUR, "2026-06-10T09:00+02:00"], "ws": NO_CAPS}),  # FR has no legal cap
    # --- sender IDs
    ("sender-fr-brand", FR, "2026-06-10T10:00+02:00", "SEND", {"sender": "MYSHOP"}),  # letters, at most 11
    ("sender-fr-generic", FR, "2026-06-10T10:00+02:00", "BLOCK sender_not_allowed", {"sender": "RDV"}),  # generic senders blocked
    ("sender-fr-space", FR, "2026-06-10T10:00+02:00", "BLOCK sender_not_allowed", {"sender": "MY SHOP"}),  # letters and digits only
    ("sender-fr-too-long", FR, "2026-06-10T10:00+02:00", "BLOCK sender_not_allowed", {"sender": "ABCDEFGHIJKL"}),  # 12 characters
    ("sender-fr-short-code", FR, "2026-06-10T10:00+02:00", "SEND", {"sender": "36111"}),  # a numeric short code
    ("sender-us-alphanumeric", NY, "2026-06-10T10:00-04:00", "BLOCK sender_not_allowed", {"sender": "MYSHOP"}),  # no alphanumeric senders in the US
    ("sender-us-number", NY, "2026-06-10T10:00-04:00", "SEND", {"sender": "+12025550123"}),  # a long code
    ("sender-ca-alphanumeric", TORONTO, "2026-06-10T10:00-04:00", "BLOCK sender_not_allowed", {"sender": "MYSHOP"}),  # nor in Canada
    # --- the workspace's own stricter rules
    ("workspace-hours-0830", FR, "2026-06-10T08:30+02:00", "DEFER 2026-06-10T09:00+02:00 quiet_hours", {"ws": HOURS_9_19}),  # workspace starts at 09:00
    ("workspace-hours-1900", FR, "2026-06-10T19:00+02:00", "DEFER 2026-06-11T09:00+02:00 quiet_hours", {"ws": HOURS_9_19}),  # workspace ends at 19:00
    ("workspace-weekdays", FR, "2026-06-13T10:00+02:00", "DEFER 2026-06-15T08:00+02:00 closed_day", {"ws": WEEKDAYS}),  # no Saturdays in this workspace
    ("workspace-holidays-uk", UK, "2026-05-04T10:00+01:00", "DEFER 2026-05-05T08:00+01:00 holiday", {"ws": HOLIDAYS}),  # Early May bank holiday
    ("workspace-cannot-loosen", FR, "2026-06-10T20:30+02:00", "DEFER 2026-06-11T08:00+02:00 quiet_hours", {"ws": LATE_22}),  # the pack's 20:00 still holds
    # --- email
    ("email-marketing", None, "2026-06-10T10:00+02:00", "SEND", {"channel": "email", "email": "a@example.com", "country": "FR"}),  # email consent, workspace zone
    ("email-no-address", None, "2026-06-10T10:00+02:00", "BLOCK invalid_email", {"channel": "email", "country": "FR"}),  # nowhere to send
    ("email-at-night", FR, "2026-06-10T22:00+02:00", "DEFER 2026-06-11T08:00+02:00 quiet_hours", {"channel": "email", "email": "a@example.com"}),  # hours apply to email marketing too
]
# fmt: on


@pytest.mark.parametrize(
    ("number", "now", "expect", "opts"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decision_follows_the_rules(
    number: str | None, now: str, expect: str, opts: dict[str, Any]
) -> None:
    workspace = opts.get("ws", WorkspacePolicy())
    decision = decide(
        contact(number, **opts), message(**opts), instant(now), history(**opts), workspace
    )
    assert verdict_text(decision) == expected_text(expect), decision.sentence


def test_table_has_at_least_eighty_distinct_cases() -> None:
    assert len(CASES) >= 80
    assert len({c[0] for c in CASES}) == len(CASES)
