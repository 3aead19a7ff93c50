"""An explicit mapping (the dashboard's choices, the CLI's `--map`, the API's `mapping`)."""

from __future__ import annotations

import pytest

from textopt.contacts.csvfile import (
    MAPPING_TARGETS,
    map_columns,
    named_target,
    parse_mapping,
    suggested_targets,
)
from textopt.errors import ValidationError

HEADERS = ["Numéro client", "Adresse", "Accord newsletter", "Ville", "Note interne"]


def test_a_mapping_reads_columns_whose_names_say_nothing() -> None:
    columns = map_columns(
        HEADERS,
        mapping={
            "Numéro client": "phone",
            "Adresse": "email",
            "Accord newsletter": "consent_email_marketing",
            "Note interne": "ignore",
        },
    )
    assert columns.fields == {"phone": 0, "email": 1, "consent_email_marketing": 2}
    assert columns.attributes == ((3, "Ville"),)
    assert columns.targets() == ["phone", "email", "consent_email_marketing", "attribute", "ignore"]
    assert columns.unread_consent == ()


def test_a_mapping_overrides_what_a_header_names() -> None:
    columns = map_columns(
        ["mobile", "email", "source"], mapping={"email": "attribute", "source": "ignore"}
    )
    assert columns.fields == {"phone": 0}
    assert columns.attributes == ((1, "email"),)
    assert columns.targets() == ["phone", "attribute", "ignore"]


def test_a_consent_like_column_kept_as_attribute_on_purpose_is_not_reported() -> None:
    unmapped = map_columns(["mobile", "RGPD"])
    assert unmapped.unread_consent == ("RGPD",)
    chosen = map_columns(["mobile", "RGPD"], mapping={"RGPD": "attribute"})
    assert chosen.unread_consent == ()


def test_columns_and_fields_are_matched_loosely() -> None:
    columns = map_columns(HEADERS, mapping={"numero CLIENT": "Phone number", "adresse": "Email"})
    assert columns.fields == {"phone": 0, "email": 1}


def test_an_unknown_column_is_refused_with_the_columns_of_the_file() -> None:
    with pytest.raises(ValidationError) as caught:
        map_columns(HEADERS, source="clients.csv", mapping={"Portable": "phone"})
    assert caught.value.message.startswith(
        'clients.csv: the mapping names a column "Portable" the file does not have'
    )
    assert '"Numéro client", "Adresse"' in caught.value.message
    assert caught.value.field == "mapping"


def test_an_unknown_field_is_refused_naming_the_column_and_the_choices() -> None:
    with pytest.raises(ValidationError) as caught:
        map_columns(HEADERS, mapping={"Numéro client": "telephone fixe"})
    message = caught.value.message
    assert 'column "Numéro client" cannot be read as "telephone fixe"' in message
    assert all(target in message for target in MAPPING_TARGETS)


def test_two_columns_mapped_to_one_field_are_refused() -> None:
    with pytest.raises(ValidationError, match='columns "mobile" and "Numéro client" both give'):
        map_columns(["mobile", "Numéro client"], mapping={"Numéro client": "phone"})


def test_a_mapping_leaving_neither_phone_nor_email_is_refused() -> None:
    with pytest.raises(ValidationError, match="neither a phone nor an email column"):
        map_columns(["mobile", "Ville"], mapping={"mobile": "ignore"})


def test_cli_pairs_split_on_the_last_equals_sign() -> None:
    assert parse_mapping(["Numéro client=phone", "a=b=email"]) == {
        "Numéro client": "phone",
        "a=b": "email",
    }
    with pytest.raises(ValidationError, match='"Portable" is not a mapping'):
        parse_mapping(["Portable"])


def test_suggestions_start_from_the_names_and_never_refuse_a_file() -> None:
    assert suggested_targets(["Numéro client", "Mobile", "Téléphone", "", "Courriel"]) == [
        "attribute",
        "phone",
        "attribute",  # a second phone column: the user picks
        "ignore",
        "email",
    ]
    assert suggested_targets(["line", "kind", "reason", "phone"])[:3] == ["ignore"] * 3
    assert named_target("Téléphone") == "phone"
    assert named_target("Ville") == "attribute"
