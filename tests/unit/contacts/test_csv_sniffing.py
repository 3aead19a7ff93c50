"""Sniffing spreadsheets: encodings, delimiters, header aliases and physical line numbers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from textopt.contacts.csvfile import (
    header_key,
    map_columns,
    open_rows,
    sniff_delimiter,
    sniff_encoding,
    sniff_format,
)
from textopt.errors import ValidationError

TEXT = "téléphone;prénom;tags\n06 12 34 56 78;Léa;vip,paris\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("cp1252"), "cp1252"),
        (TEXT.encode("utf-16"), "utf-16"),
        ("phone\n0612345678\n".encode("ascii"), "utf-8"),
        # 0x81 is undefined in Windows-1252: only Latin-1 reads it
        (b"phone;note\n0612345678;\x81\xe9\n", "latin-1"),
    ],
)
def test_encoding_is_sniffed(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    assert sniff_encoding(path)[0] == expected


def test_latin1_byte_far_into_the_file_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    body = "phone;name\n" + "0612345678;Jean\n" * 200_000 + "0612345679;Hélène\n"
    path.write_bytes(body.encode("cp1252"))
    encoding, lines = sniff_encoding(path)
    assert encoding == "cp1252"
    assert lines == 200_002


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("phone,email,tags\n0612345678,a@b.fr,vip\n", ","),
        ("téléphone;prénom;tags\n06 12 34 56 78;Léa;vip,paris\n", ";"),
        ("phone\ttags\n0612345678\tvip;paris\n", "\t"),
        # commas inside the tags of a `;` file must not fool the sniffer
        ("phone;tags\n0612345678;a,b,c,d\n0612345679;e,f,g\n", ";"),
        ("phone\n0612345678\n", ","),
    ],
)
def test_delimiter_is_sniffed(sample: str, expected: str) -> None:
    assert sniff_delimiter(sample) == expected


def test_format_combines_encoding_delimiter_and_line_count(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(TEXT.encode("utf-8-sig"))
    fmt = sniff_format(path)
    assert (fmt.encoding, fmt.delimiter, fmt.lines) == ("utf-8-sig", ";", 2)


@pytest.mark.parametrize(
    ("header", "key"),
    [("Téléphone", "telephone"), ("\ufeffPrénom ", "prenom"), ("E-mail", "e_mail"),
     ("First Name", "first_name"), ("Fuseau horaire", "fuseau_horaire")],
)  # fmt: skip
def test_header_key_drops_case_accents_and_punctuation(header: str, key: str) -> None:
    assert header_key(header) == key


def test_headers_map_to_fields_and_attributes() -> None:
    columns = map_columns(
        ["Portable", "Courriel", "Prénom", "NOM", "Langue", "Pays", "Département", "TZ",
         "Étiquettes", "Client", "Ville", "", "consent_sms_marketing"]
    )  # fmt: skip
    assert columns.fields == {
        "phone": 0,
        "email": 1,
        "first_name": 2,
        "last_name": 3,
        "language": 4,
        "country": 5,
        "region": 6,
        "timezone": 7,
        "tags": 8,
        "is_customer": 9,
        "consent_sms_marketing": 12,
    }
    assert columns.attributes == ((10, "Ville"),)


def test_file_without_phone_or_email_column_is_refused_with_the_columns_found() -> None:
    with pytest.raises(ValidationError) as caught:
        map_columns(["name", "city"], source="list.csv")
    assert caught.value.message.startswith("list.csv has neither a phone nor an email column")
    assert '"name", "city"' in caught.value.message


def test_file_with_only_an_email_column_is_read() -> None:
    assert map_columns(["Courriel", "Prénom"]).fields == {"email": 0, "first_name": 1}


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(ValidationError, match='columns "mobile" and "Téléphone" both give'):
        map_columns(["mobile", "Téléphone"])


def test_rows_carry_their_physical_line_numbers() -> None:
    text = 'phone,note\n0612345678,one\n\n0612345679,"two\nlines"\n0612345670,three\n'
    header, rows = open_rows(io.StringIO(text, newline=""), delimiter=",")
    assert header == ["phone", "note"]
    assert [(line, cells[0]) for line, cells in rows] == [
        (2, "0612345678"),
        (4, "0612345679"),
        (6, "0612345670"),
    ]


def test_rejects_file_columns_are_skipped_only_as_its_first_three() -> None:
    rejects = map_columns(["line", "kind", "reason", "phone", "note"])
    assert (rejects.fields, rejects.attributes) == ({"phone": 3}, ((4, "note"),))
    ordinary = map_columns(["phone", "reason"])
    assert ordinary.attributes == ((1, "reason"),)


@pytest.mark.parametrize("sample", ["\r0", "phone;first_name\rx;y\r", "\r\r\r"])
def test_lone_carriage_returns_end_lines(sample: str) -> None:
    """Old Mac line ends (and stray carriage returns) are lines, never a crash."""
    assert sniff_delimiter(sample) in (",", ";", "\t")


def test_cells_over_the_size_limit_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("phone,first_name\n0612345678," + "x" * 200_000 + "\n", encoding="utf-8")
    assert sniff_delimiter(path.read_text(encoding="utf-8")[:65_536]) == ","
    with path.open(encoding="utf-8", newline="") as handle:
        header, rows = open_rows(handle, delimiter=",")
        assert header == ["phone", "first_name"]
        with pytest.raises(ValidationError, match="line 2: not readable as CSV"):
            list(rows)
