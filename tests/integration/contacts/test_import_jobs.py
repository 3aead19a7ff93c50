"""Background imports of uploads: the mapping reaches the importer, the job row says what
was kept after each batch, a stopped or dead process leaves the job interrupted."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.api import OPERATOR
from tests.factories.contacts import count

from textopt.accounts.models import AuditEntry
from textopt.config import Settings
from textopt.contacts import uploads
from textopt.contacts.importer import ImportProgress
from textopt.contacts.importjobs import ImportRunner, get_import_job, start_import_job
from textopt.contacts.models import Contact, ImportJob, ImportJobState
from textopt.db.engine import session_scope
from textopt.errors import InvalidTransition, NotFoundError, ValidationError

HEADER = "Numéro client;Adresse;Ville;Note interne\n"


def _csv(rows: int) -> bytes:
    lines = [HEADER]
    for n in range(rows):
        number = (
            ""
            if n % 10 == 9
            else f"06 {n // 10000 + 10:02d} {n % 10000 // 100:02d} {n % 100:02d} 00"
        )
        lines.append(f"{number};p{n}@example.fr;Lyon;n{n}\n")
    return "".join(lines).encode()


MAPPING = {"Numéro client": "phone", "Adresse": "email", "Note interne": "ignore"}


def _upload(settings: Settings, rows: int) -> str:
    stored = uploads.store_upload(
        settings, actor=OPERATOR, source=io.BytesIO(_csv(rows)), filename="clients.csv"
    )
    return stored.token


def _wait_ended(engine: Engine, job_id: int) -> ImportJob:
    deadline = time.monotonic() + 60  # a bound on the wait, not a measure
    while True:
        with session_scope(engine) as session:
            job = get_import_job(session, job_id=job_id)
        if job.state != ImportJobState.RUNNING or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_a_job_imports_the_upload_with_its_mapping_and_keeps_the_report(
    engine: Engine, session: Session, settings: Settings
) -> None:
    token = _upload(settings, 30)
    runner = ImportRunner(engine, settings)
    job = start_import_job(
        engine, settings, actor=OPERATOR, runner=runner, token=token,
        filename="clients.csv", region="fr", mapping=MAPPING,
    )  # fmt: skip
    assert (job.state, job.rows_total, job.region) == ("running", 30, "FR")
    ended = _wait_ended(engine, job.id)
    assert ended.state == ImportJobState.FINISHED, ended.error
    assert ended.rows_done == 30
    assert ended.result is not None
    assert (ended.result["created"], ended.result["rejected"]) == (30, 0)
    assert "path" not in ended.result
    assert "rejects_path" not in ended.result
    assert not ended.has_rejects
    lea = session.scalars(select(Contact).where(Contact.email == "p0@example.fr")).one()
    assert lea.phone == "+33610000000"
    assert lea.attributes == {"Ville": "Lyon"}  # "Note interne" ignored
    assert count(session, Contact) == 30  # nine of them by email alone
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"contacts.import_started", "contacts.imported"} <= actions
    session.rollback()  # on SQLite a read transaction holds the write lock
    # the upload is gone once imported; asking again gives the same job
    again = start_import_job(
        engine, settings, actor=OPERATOR, runner=runner, token=token,
        filename="clients.csv", region=None, mapping={},
    )  # fmt: skip
    assert again.id == job.id
    runner.stop()


def test_a_bad_mapping_is_refused_before_any_job_exists(
    engine: Engine, session: Session, settings: Settings
) -> None:
    token = _upload(settings, 3)
    runner = ImportRunner(engine, settings)
    with pytest.raises(ValidationError, match='column "Ville" cannot be read as "town"'):
        start_import_job(
            engine, settings, actor=OPERATOR, runner=runner, token=token,
            filename="clients.csv", region=None, mapping={**MAPPING, "Ville": "town"},
        )  # fmt: skip
    with pytest.raises(ValidationError, match="neither a phone nor an email column"):
        start_import_job(
            engine, settings, actor=OPERATOR, runner=runner, token=token,
            filename="clients.csv", region=None, mapping={},
        )  # fmt: skip
    with pytest.raises(NotFoundError, match="this upload is gone"):
        start_import_job(
            engine, settings, actor=OPERATOR, runner=runner, token="x" * 24,
            filename="clients.csv", region=None, mapping=MAPPING,
        )  # fmt: skip
    assert count(session, ImportJob) == 0


def test_a_stopping_runner_starts_no_job(
    engine: Engine, session: Session, settings: Settings
) -> None:
    token = _upload(settings, 3)
    runner = ImportRunner(engine, settings)
    runner.stop()
    with pytest.raises(InvalidTransition, match="the server is stopping"):
        start_import_job(
            engine, settings, actor=OPERATOR, runner=runner, token=token,
            filename="clients.csv", region=None, mapping=MAPPING,
        )  # fmt: skip
    assert count(session, ImportJob) == 0


class _StopsAfterTwoBatches(ImportRunner):
    """A runner told to stop (as on shutdown) once two batches are committed."""

    def _check(self, progress: ImportProgress) -> None:
        if progress.batches_committed == 2:
            self._stopping.set()
        super()._check(progress)


def test_a_stopped_runner_ends_the_job_interrupted_with_exactly_what_was_kept(
    engine: Engine, session: Session, settings: Settings
) -> None:
    small = settings.model_copy(update={"import_batch_size": 10})
    token = _upload(small, 55)
    runner = _StopsAfterTwoBatches(engine, small)
    job = start_import_job(
        engine, small, actor=OPERATOR, runner=runner, token=token,
        filename="clients.csv", region=None, mapping=MAPPING,
    )  # fmt: skip
    ended = _wait_ended(engine, job.id)
    assert ended.state == ImportJobState.INTERRUPTED
    assert ended.error == "the server stopped during the import"
    assert ended.rows_done == 20
    assert ended.result is not None
    assert ended.result["created"] == 20
    assert count(session, Contact) == 20


CHILD = """
import sys, time
from textopt.config import get_settings
from textopt.contacts import importjobs
from textopt.contacts.importjobs import ImportRunner, start_import_job
from textopt.db.engine import create_db_engine
from tests.factories.api import OPERATOR

slow = ImportRunner._check
def check(self, progress):
    time.sleep(0.1)  # slow enough batches that the test kills the process mid-way
    slow(self, progress)
ImportRunner._check = check
settings = get_settings().model_copy(update={"import_batch_size": 20})
engine = create_db_engine(settings.database_url)
runner = ImportRunner(engine, settings)
job = start_import_job(engine, settings, actor=OPERATOR, runner=runner, token=sys.argv[1],
    filename="clients.csv", region=None, mapping=dict(a.split("=") for a in sys.argv[2:]))
print(job.id, flush=True)
time.sleep(600)
"""


def test_a_job_whose_process_was_killed_is_interrupted_with_exactly_what_was_kept(
    engine: Engine, session: Session, settings: Settings
) -> None:
    token = _upload(settings, 2_000)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, token, *(f"{k}={v}" for k, v in MAPPING.items())],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=Path(__file__).parents[3],
    )
    try:
        assert child.stdout is not None
        job_id = int(child.stdout.readline())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with session_scope(engine) as s:
                job = s.get(ImportJob, job_id)
                assert job is not None
                assert job.state == ImportJobState.RUNNING
                if job.rows_done >= 60:
                    break
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    with session_scope(engine) as s:
        ended = get_import_job(s, job_id=job_id)
    assert ended.state == ImportJobState.INTERRUPTED
    assert ended.error == "the process running the import stopped"
    assert ended.result is not None
    kept = count(session, Contact)
    assert 60 <= ended.rows_done < 2_000
    assert ended.result["created"] == kept
    assert ended.rows_done == kept  # every row of the file is a new contact
