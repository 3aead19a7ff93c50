"""`textopt contacts` as a user runs it: every command, its JSON, and its errors."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.config import Settings
from textopt.contacts.models import ImportJob
from textopt.db.engine import session_scope
from textopt.errors import ConflictError, InvalidPhoneNumber, NotFoundError, ValidationError

runner = CliRunner()
TEXTOPT = Path(sys.executable).with_name("textopt")


def run(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


def fails(*args: str) -> BaseException | None:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0
    return result.exception


def test_add_with_every_option_then_show(engine: Engine) -> None:
    added = run_json(
        "contacts", "add", "06 12 34 56 78", "--email", "lea@example.fr", "--first-name", "Léa",
        "--last-name", "Müller", "--language", "fr", "--region", "67", "--timezone",
        "Europe/Paris", "--tag", "vip", "--tag", "alsace", "--attr", "ville=Strasbourg",
        "--attr", "magasin=centre", "--customer",
    )  # fmt: skip
    assert added["phone"] == "+33612345678"
    assert (added["first_name"], added["last_name"], added["email"]) == (
        "Léa",
        "Müller",
        "lea@example.fr",
    )
    assert (added["country"], added["region"], added["timezone"]) == ("FR", "67", "Europe/Paris")
    assert added["tags"] == ["alsace", "vip"]
    assert added["attributes"] == {"ville": "Strasbourg", "magasin": "centre"}
    assert added["is_customer"] is True
    by_phone = run_json("contacts", "show", "+33 6 12 34 56 78")
    by_id = run_json("contacts", "show", str(added["id"]))
    assert by_phone == by_id
    assert by_phone["consent"] == []
    text = run("contacts", "show", "0612345678")
    assert "Léa Müller" in text
    assert "ville" in text
    assert "none recorded" in text
    assert f"added contact {added['id'] + 1}: +262692123456" in run(
        "contacts", "add", "+262 692 12 34 56"
    )


def test_add_with_only_an_email_then_show_by_email(engine: Engine) -> None:
    added = run_json("contacts", "add", "--email", "Lea@Example.fr", "--first-name", "Léa")
    assert (added["phone"], added["email"], added["timezones"]) == (None, "Lea@example.fr", [])
    assert f"added contact {added['id'] + 1}: paul@example.fr" in run(
        "contacts", "add", "--email", "paul@example.fr"
    )
    shown = run_json("contacts", "show", "lea@example.fr")
    assert (shown["id"], shown["first_name"]) == (added["id"], "Léa")
    assert "Lea@example.fr" in run("contacts", "list")
    again = fails("contacts", "add", "--email", "lea@example.fr")
    assert isinstance(again, ConflictError)
    assert str(again) == f"a contact with email lea@example.fr already exists (id {added['id']})"
    neither = fails("contacts", "add", "--first-name", "Personne")
    assert isinstance(neither, ValidationError)
    assert str(neither) == "a contact needs a phone number or an email address (or both)"


def test_show_includes_current_consent(engine: Engine) -> None:
    run("contacts", "add", "0612345678")
    run("consent", "grant", "0612345678", "--at", "2026-03-01T10:00:00+01:00")
    [state] = run_json("contacts", "show", "0612345678")["consent"]
    assert (state["channel"], state["purpose"], state["status"]) == ("sms", "marketing", "granted")
    assert state["since"].startswith("2026-03-01T09:00:00")
    assert "consent sms/marketing" in run("contacts", "show", "0612345678")


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["add", "06 12"], InvalidPhoneNumber, '"06 12" is not a valid number: too short'),
        (["add", "0612345678", "--attr", "oops"], ValidationError, 'attribute "oops"'),
        (["add", "0612345678", "--timezone", "Mars/Base"], ValidationError, "unknown time zone"),
        (["show", "0699999999"], NotFoundError, r"no contact with number +33699999999"),
        (["show", "42"], NotFoundError, "no contact with id 42"),
        (["tag", "0699999999", "vip"], NotFoundError, "no contact with number"),
    ],
)
def test_bad_input_raises_the_domain_error(
    engine: Engine, args: list[str], error: type[Exception], message: str
) -> None:
    exception = fails("contacts", *args)
    assert isinstance(exception, error)
    assert message in str(exception)


def test_list_filters_pages_and_prints_a_table(engine: Engine) -> None:
    people = [
        ("0612345601", "Alice", "vip"),
        ("0612345602", "Bruno", ""),
        ("0612345603", "Chloé", "vip"),
        ("+32 470 12 34 56", "Bob", "vip"),
        ("+1 305 555 0142", "Sophia", ""),
    ]
    for phone, name, tag in people:
        run("contacts", "add", phone, "--first-name", name, *(["--tag", tag] if tag else []))
    everyone = run_json("contacts", "list")
    assert [c["first_name"] for c in everyone] == ["Alice", "Bruno", "Chloé", "Bob", "Sophia"]
    page = run_json("contacts", "list", "--limit", "2", "--after", str(everyone[1]["id"]))
    assert [c["first_name"] for c in page] == ["Chloé", "Bob"]
    vip = run_json("contacts", "list", "--tag", "vip", "--country", "FR")
    assert [c["first_name"] for c in vip] == ["Alice", "Chloé"]
    assert [c["first_name"] for c in run_json("contacts", "list", "--search", "sop")] == ["Sophia"]
    table = run("contacts", "list", "--limit", "2")
    assert "5 contact(s)" in table
    assert "+33612345601" in table
    assert f"next page: --after {everyone[1]['id']}" in table


def test_tag_and_untag(engine: Engine) -> None:
    run("contacts", "add", "0612345678", "--tag", "vip")
    assert "2 tag(s) added; +33612345678 has: promo, soldes, vip" in run(
        "contacts", "tag", "06 12 34 56 78", "promo", "soldes", "vip"
    )
    assert "1 tag(s) removed; +33612345678 has: promo, soldes" in run(
        "contacts", "untag", "0612345678", "vip", "absent"
    )
    assert run_json("contacts", "show", "0612345678")["tags"] == ["promo", "soldes"]


def test_delete_asks_unless_yes(engine: Engine) -> None:
    run("contacts", "add", "0612345678")
    refused = runner.invoke(app, ["contacts", "delete", "0612345678"], input="n\n")
    assert refused.exit_code == 1
    assert run_json("contacts", "list") != []
    assert "deleted contact" in run("contacts", "delete", "0612345678", input="y\n")
    run("contacts", "add", "0612345679")
    assert "deleted contact" in run("contacts", "delete", "0612345679", "--yes")
    assert run_json("contacts", "list") == []


def test_delete_with_consent_history_points_to_gdpr_erase(engine: Engine) -> None:
    run("contacts", "add", "0612345678")
    run("consent", "grant", "0612345678")
    exception = fails("contacts", "delete", "0612345678", "--yes")
    assert isinstance(exception, ConflictError)
    assert "textopt gdpr erase +33612345678" in str(exception)


def _contacts_file(path: Path) -> Path:
    path.write_text(
        "Téléphone;Prénom;E-mail;Étiquettes;consent_sms_marketing;consent_at;consent_source\n"
        "06 12 34 56 78;Léa;lea@example.fr;vip,rdv;oui;01/03/2024 14:30;form\n"
        "06 12;Court;;;;;\n"
        ";Paul;paul@;;;;\n"  # a bad email and no number: nothing to keep
        "+33 6 12 34 56 78;Doublon;;;;;\n"
        "07 52 34 56 78;Max;;;oui;;\n",
        encoding="utf-8-sig",
    )
    return path


def test_import_json_summary_and_rejects_file(engine: Engine, tmp_path: Path) -> None:
    source = _contacts_file(tmp_path / "clients.csv")
    summary = run_json("contacts", "import", str(source), "--batch-size", "2")
    assert summary["rows_read"] == 5
    assert (summary["created"], summary["rejected"], summary["warnings"]) == (2, 3, 1)
    assert summary["rejected_by_reason"] == {
        "bad_email": 1,
        "duplicate_in_file": 1,
        "invalid_number": 1,
    }
    assert summary["warnings_by_reason"] == {"consent_incomplete": 1}
    assert (summary["consents_recorded"], summary["batches_committed"]) == (1, 3)
    assert summary["rejects_path"] == str(tmp_path / "clients.rejects.csv")
    with open(summary["rejects_path"], encoding="utf-8-sig", newline="") as handle:
        issues = list(csv.DictReader(handle, delimiter=";"))
    assert [(i["line"], i["kind"], i["Prénom"]) for i in issues] == [
        ("3", "reject", "Court"),
        ("4", "reject", "Paul"),
        ("5", "reject", "Doublon"),
        ("6", "warning", "Max"),
    ]
    again = run_json("contacts", "import", str(source), "--rejects", str(tmp_path / "r.csv"))
    assert (again["created"], again["unchanged"], again["consents_recorded"]) == (0, 2, 0)
    assert again["rejects_path"] == str(tmp_path / "r.csv")


def test_import_prints_a_summary_table(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "be.csv"
    source.write_text("phone\n0470 12 34 56\n", encoding="utf-8")
    output = run("contacts", "import", str(source), "--region", "BE")
    assert "rows read" in output
    assert "created" in output
    assert run_json("contacts", "show", "+32470123456")["country"] == "BE"


def test_import_without_phone_or_email_column_is_a_file_error(
    engine: Engine, tmp_path: Path
) -> None:
    source = tmp_path / "names.csv"
    source.write_text("name,city\nLéa,Lyon\n", encoding="utf-8")
    exception = fails("contacts", "import", str(source))
    assert isinstance(exception, ValidationError)
    assert "names.csv has neither a phone nor an email column" in str(exception)
    assert run_json("contacts", "list") == []


def test_import_map_reads_columns_whose_headers_say_nothing(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "crm.csv"
    source.write_text(
        "Numéro client;Adresse;Accord;Note\n06 12 34 56 78;lea@example.fr;oui;x\n",
        encoding="utf-8",
    )
    summary = run_json(
        "contacts", "import", str(source), "--map", "Numéro client=phone",
        "--map", "Adresse=email", "--map", "Accord=attribute", "--map", "Note=ignore",
    )  # fmt: skip
    assert (summary["created"], summary["warnings"]) == (1, 0)  # Accord kept on purpose
    lea = run_json("contacts", "show", "+33612345678")
    assert lea["email"] == "lea@example.fr"
    assert lea["attributes"] == {"Accord": "oui"}


def test_import_map_naming_an_unknown_column_or_field_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    source = tmp_path / "crm.csv"
    source.write_text("Numéro client;Ville\n06 12 34 56 78;Lyon\n", encoding="utf-8")
    exception = fails("contacts", "import", str(source), "--map", "Portable=phone")
    assert isinstance(exception, ValidationError)
    assert 'names a column "Portable" the file does not have' in str(exception)
    exception = fails("contacts", "import", str(source), "--map", "Numéro client=fixe")
    assert 'column "Numéro client" cannot be read as "fixe"' in str(exception)
    exception = fails("contacts", "import", str(source), "--map", "Numéro client")
    assert '"Numéro client" is not a mapping' in str(exception)
    assert run_json("contacts", "list") == []


def test_imports_lists_background_jobs_and_marks_one_whose_process_died(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        s.add_all(
            [
                ImportJob(
                    upload_token="a" * 24, filename="done.csv", mapping={"Numéro": "phone"},
                    state="finished", rows_done=2, rows_total=2, owner="elsewhere:1:x",
                    started_by="marie@boutique.example", result={"created": 2, "rejected": 0},
                ),
                # started by a process of this host that no longer exists
                ImportJob(
                    upload_token="b" * 24, filename="cut.csv", mapping={}, state="running",
                    rows_done=1_000, rows_total=5_000, owner=f"{socket.gethostname()}:999999:x",
                    started_by="marie@boutique.example", result={"created": 1_000},
                ),
            ]
        )  # fmt: skip
    jobs = run_json("contacts", "imports")
    assert [(j["filename"], j["state"], j["rows_done"]) for j in jobs] == [
        ("cut.csv", "interrupted", 1_000),
        ("done.csv", "finished", 2),
    ]
    assert jobs[0]["error"] == "the process running the import stopped"
    assert jobs[1]["mapping"] == {"Numéro": "phone"}
    table = run("contacts", "imports")
    assert "interrupted" in table
    assert "1000/5000" in table


def test_export_to_stdout_and_to_a_file(engine: Engine, tmp_path: Path) -> None:
    run("contacts", "import", str(_contacts_file(tmp_path / "clients.csv")))
    rows = list(csv.DictReader(io.StringIO(run("contacts", "export"))))
    assert [(r["phone"], r["tags"], r["consent_sms_marketing"]) for r in rows] == [
        ("+33612345678", "rdv|vip", "yes"),
        ("+33752345678", "", "no"),
    ]
    target = tmp_path / "out.csv"
    summary = run_json("contacts", "export", str(target), "--delimiter", ";")
    assert (summary["path"], summary["rows"]) == (str(target), 2)
    assert target.read_text(encoding="utf-8").startswith("phone;email;first_name;")
    assert "exported 1 contact(s)" in run("contacts", "export", str(target), "--tag", "vip")
    again = run_json("contacts", "import", str(target))
    assert (again["unchanged"], again["consents_recorded"]) == (1, 0)


def test_user_errors_are_one_clear_line_with_exit_code_2(engine: Engine, tmp_path: Path) -> None:
    bad = subprocess.run(
        [str(TEXTOPT), "contacts", "add", "06 12"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == 'error: "06 12" is not a valid number: too short'
    assert "Traceback" not in bad.stderr + bad.stdout
    source = tmp_path / "names.csv"
    source.write_text("name\nLéa\n", encoding="utf-8")
    missing = subprocess.run(
        [str(TEXTOPT), "contacts", "import", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    [line] = missing.stderr.strip().splitlines()
    assert line.startswith("error: names.csv has neither a phone nor an email column")


def test_tags_match_whatever_their_case_in_lists_and_segments(engine: Engine) -> None:
    run("contacts", "add", "0612345678", "--tag", "VIP")
    run("contacts", "add", "0612345679", "--tag", "vip")
    assert run_json("contacts", "show", "0612345678")["tags"] == ["vip"]
    assert len(run_json("contacts", "list", "--tag", "Vip")) == 2
    assert run_json("segment", "count", "tag:vIP")["count"] == 2
    assert "1 tag(s) removed" in run("contacts", "untag", "0612345679", "VIP")
