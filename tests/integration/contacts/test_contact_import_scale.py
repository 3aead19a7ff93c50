"""A large import streams: its memory peak is bounded by the batch, not by the file.

The default run compares the peaks of a small and a four times larger import. The 100k-row
import (20k on PostgreSQL) takes over a minute under tracemalloc, so it runs only when
`TEXTOPT_SLOW_TESTS=1`.
"""

from __future__ import annotations

import csv
import os
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.contacts.importer import ImportReport, import_contacts
from textopt.contacts.models import Contact

# Holding 100k parsed rows at once would take well over 100 MB; a batch of 2,000 a few MB,
# plus the compact duplicate check (about 100 bytes per distinct number).
PEAK_LIMIT_MB = 40


def _write(path: Path, rows: int, *, first: int = 0) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["telephone", "prenom", "nom", "email", "tags", "ville", "code_postal"])
        for n in range(first, first + rows):
            digits = f"{10_000_000 + n:08d}"
            writer.writerow(
                [
                    f"06{digits}",
                    "Léa",
                    "Martin",
                    f"lea.{n}@example.fr",
                    "vip|promo",
                    "Strasbourg",
                    "67000",
                ]
            )
    return path


def _traced_import(
    engine: Engine, settings: Settings, path: Path, batch_size: int
) -> tuple[ImportReport, float]:
    """The import's report and its peak of traced memory in MB."""
    tracemalloc.start()
    try:
        report = import_contacts(engine, settings=settings, path=path, batch_size=batch_size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, peak / 1e6


def test_import_memory_does_not_grow_with_the_file(
    engine: Engine, tmp_path: Path, settings: Settings
) -> None:
    import_contacts(
        engine, settings=settings, path=_write(tmp_path / "warm.csv", 100, first=900_000)
    )
    small, small_peak = _traced_import(engine, settings, _write(tmp_path / "s.csv", 1_500), 500)
    large, large_peak = _traced_import(
        engine, settings, _write(tmp_path / "l.csv", 6_000, first=100_000), 500
    )
    assert (small.created, large.created) == (1_500, 6_000)
    # 4x the rows: only the duplicate check (under 1 MB here) may grow
    assert large_peak < small_peak * 1.25 + 1, (small_peak, large_peak)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TEXTOPT_SLOW_TESTS") != "1", reason="set TEXTOPT_SLOW_TESTS=1 to run"
)
def test_100k_row_import_streams_in_bounded_memory(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    rows = 100_000 if engine.dialect.name == "sqlite" else 20_000
    report, peak_mb = _traced_import(engine, settings, _write(tmp_path / "large.csv", rows), 2_000)
    assert (report.created, report.rejected_total, report.batches_committed) == (
        rows,
        0,
        rows // 2_000,
    )
    assert session.scalar(select(func.count()).select_from(Contact)) == rows
    assert peak_mb < PEAK_LIMIT_MB
