"""The upload folder: an erasure finds the person's rows in any notation."""

from __future__ import annotations

from pathlib import Path

from textopt.config import Settings
from textopt.contacts.uploads import purge_person_files


def test_files_with_the_person_in_any_notation_are_deleted_and_others_kept(
    tmp_path: Path,
) -> None:
    settings = Settings(upload_dir=str(tmp_path), secret_key="k")
    files = {
        "national.csv": "phone;first_name\n06 12 34 56 78;Alice\n",
        "international.csv": "mobile,nom\n0033 6 12 34 56 78,Martin\n",
        "by-email.rejects.csv": "line,kind,reason,phone,email\n2,reject,bad,12,ALICE@example.org\n",
        "someone-else.csv": "phone,email\n+33698765432,bob@example.org\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    deleted = purge_person_files(settings, numbers=["+33612345678"], emails=["alice@example.org"])
    assert deleted == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["someone-else.csv"]
