"""Dashboard imports in the background: one job per upload, its progress in the database.

`start_import_job` (the audited command) checks the upload and its mapping, writes the
job's row and hands it to the `ImportRunner` of the web process, which imports in a
thread of its own: a page that started an import returns at once, and any page (after a
reload too) follows the job through its row.

Each batch writes the job's counts in its own transaction (`BatchRecorder`), so the row
says exactly what was kept whatever happens next. A job ends `finished`, `failed` (an
error stopped it), or `interrupted`: its process was stopped (the runner stops between
batches) or died. A dead process cannot say so itself; a running job is found dead when
it is read (`get_import_job`): its process is this one but no thread of it runs the job,
or it ran on this host under a process id that no longer exists, or its last batch is
older than `STALE_AFTER`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.config import Settings
from textopt.contacts import uploads
from textopt.contacts.csvfile import map_columns, open_rows, sniff_format
from textopt.contacts.importer import ImportProgress, ImportReport
from textopt.contacts.models import IMPORT_JOB_TRANSITIONS, ImportJob, ImportJobState
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.errors import InvalidTransition, NotFoundError, TextoptError
from textopt.logs import log_event

__all__ = [
    "STALE_AFTER",
    "ImportRunner",
    "ImportStopped",
    "get_import_job",
    "job_for_upload",
    "job_result",
    "list_import_jobs",
    "process_owner",
    "start_import_job",
]

_log = logging.getLogger("textopt.contacts.importjobs")

#: A running job whose last batch is older than this is taken for dead (its process is
#: on another host, or its id was reused): a batch takes seconds, never minutes.
STALE_AFTER = dt.timedelta(minutes=10)

# This process's token: with the host and process id, it names the owner of a job, so
# a process that got the id of a dead one (a restarted container) is not taken for it.
_PROCESS_TOKEN = secrets.token_hex(6)
# The jobs a thread of this process is running (every runner of the process shares it).
_RUNNING: set[int] = set()
_RUNNING_LOCK = threading.Lock()


def process_owner() -> str:
    """The owner written on the jobs this process runs: `host:pid:token`."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{_PROCESS_TOKEN}"


_STOPPING = "the server is stopping: start the import again later"


class ImportStopped(Exception):
    """Raised between batches when the runner is stopping: the job ends interrupted."""


def _owner_alive(job: ImportJob, *, now: dt.datetime) -> bool:
    """Whether the process that runs `job` may still be running it."""
    if job.owner == process_owner():
        with _RUNNING_LOCK:
            return job.id in _RUNNING
    host, _, rest = job.owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname()[:80] and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return False  # an earlier process with this one's id: it is gone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # a process of another user holds the id: judged by the heartbeat
    return now - job.heartbeat_at < STALE_AFTER


def _end(
    session: Session,
    job_id: int,
    state: ImportJobState,
    *,
    error: str | None = None,
    report: ImportReport | None = None,
) -> bool:
    """Move a running job to `state` (once: a job already ended stays as it ended)."""
    if state not in IMPORT_JOB_TRANSITIONS[ImportJobState.RUNNING]:
        raise InvalidTransition(f"an import job cannot end {state}")
    values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "error": error}
    if report is not None:
        values.update(
            rows_done=report.rows_read,
            result=job_result(report),
            has_rejects=report.rejects_path is not None,
        )
    done = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == ImportJobState.RUNNING)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def job_result(report: ImportReport) -> dict[str, Any]:
    """A report as a job keeps it: every count, no path of the server's."""
    data = report.to_dict()
    data.pop("path", None)
    data.pop("rejects_path", None)
    return data


def get_import_job(session: Session, *, job_id: int) -> ImportJob:
    """The job, marked interrupted first when it is running in a process that is gone."""
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFoundError(f"no import job {job_id}")
    if job.state == ImportJobState.RUNNING and not _owner_alive(job, now=utcnow()):
        message = "the process running the import stopped"
        if _end(session, job.id, ImportJobState.INTERRUPTED, error=message):
            log_event(_log, logging.WARNING, "import_job_interrupted", job=job.id, owner=job.owner)
        session.flush()
        session.refresh(job)
    return job


def list_import_jobs(session: Session, *, limit: int = 10) -> list[ImportJob]:
    """The latest jobs, newest first (a running one whose process is gone marked so)."""
    ids = session.scalars(select(ImportJob.id).order_by(ImportJob.id.desc()).limit(limit))
    return [get_import_job(session, job_id=job_id) for job_id in list(ids)]


def _record_batch(
    session: Session, report: ImportReport, progress: ImportProgress, *, job_id: int
) -> None:
    """Write the job's counts in the transaction of the batch they count."""
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(
            rows_done=progress.rows_read,
            rows_total=progress.total_rows,
            result=job_result(report),
            has_rejects=bool(report.rejected_total or report.warnings_total),
            heartbeat_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


class ImportRunner:
    """The threads importing this web process's uploads; stopped between batches.

    `stop()` (on shutdown) makes each running import end after its current batch, as
    `interrupted` with what was kept, and waits for the threads.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._stopping = threading.Event()
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called: no new import starts."""
        return self._stopping.is_set()

    def start(self, job: ImportJob, *, actor: Actor) -> None:
        """Import the job's upload in a new thread."""
        if self.stopping:
            raise InvalidTransition(_STOPPING)
        thread = threading.Thread(
            target=self._run, args=(job.id, actor), name=f"import-{job.id}", daemon=True
        )
        with _RUNNING_LOCK:
            _RUNNING.add(job.id)
        with self._lock:
            self._threads[job.id] = thread
        thread.start()

    def running(self) -> list[int]:
        """The ids of the jobs this runner's threads are importing."""
        with self._lock:
            return sorted(i for i, t in self._threads.items() if t.is_alive())

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop every import after its current batch and wait for the threads."""
        self._stopping.set()
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def _check(self, _: ImportProgress) -> None:
        if self._stopping.is_set():
            raise ImportStopped

    def _run(self, job_id: int, actor: Actor) -> None:
        try:
            with session_scope(self.engine) as session:
                job = session.get(ImportJob, job_id)
                assert job is not None
                token, filename, region = job.upload_token, job.filename, job.region
                mapping = dict(job.mapping)
            self._import(
                job_id, actor, token=token, filename=filename, region=region, mapping=mapping
            )
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(job_id)
            with self._lock:
                self._threads.pop(job_id, None)

    def _import(
        self,
        job_id: int,
        actor: Actor,
        *,
        token: str,
        filename: str,
        region: str | None,
        mapping: dict[str, str],
    ) -> None:
        def record(session: Session, report: ImportReport, progress: ImportProgress) -> None:
            _record_batch(session, report, progress, job_id=job_id)

        state, error, report = ImportJobState.FINISHED, None, None
        try:
            report = uploads.import_upload(
                self.engine,
                self.settings,
                actor=actor,
                token=token,
                filename=filename,
                region=region,
                mapping=mapping or None,
                record=record,
                progress=self._check,
            )
        except ImportStopped:
            state, error = ImportJobState.INTERRUPTED, "the server stopped during the import"
        except TextoptError as exc:
            state, error = ImportJobState.FAILED, exc.message
        except Exception as exc:  # the job must end whatever happened; the log has it all
            _log.exception("import job %s failed", job_id)
            state, error = ImportJobState.FAILED, f"unexpected error ({type(exc).__name__})"
        with contextlib.suppress(Exception), session_scope(self.engine) as session:
            _end(session, job_id, state, error=error, report=report)
        log_event(_log, logging.INFO, "import_job_ended", job=job_id, state=state)


def job_for_upload(engine: Engine, *, token: str) -> ImportJob | None:
    """The job that imports (or imported) the upload of `token`, if one was started."""
    with session_scope(engine) as session:
        return session.scalar(select(ImportJob).where(ImportJob.upload_token == token))


def start_import_job(
    engine: Engine,
    settings: Settings,
    *,
    actor: Actor,
    runner: ImportRunner,
    token: str,
    filename: str,
    region: str | None,
    mapping: Mapping[str, str],
) -> ImportJob:
    """Start importing an upload in the background with this mapping; audited.

    The upload and the mapping are checked first (an unknown column or field is refused
    here, naming the column). One job per upload: asking again returns the same job.
    """
    if not actor.operator:
        actor.require(Scope.WRITE)
    existing = job_for_upload(engine, token=token)
    if existing is not None:
        return existing
    if runner.stopping:  # before the row: a job nobody would run is never written
        raise InvalidTransition(_STOPPING)
    path = uploads.stored_upload(settings, token=token)
    fmt = sniff_format(path)
    with path.open(encoding=fmt.encoding, newline="") as handle:
        header, _ = open_rows(handle, delimiter=fmt.delimiter)
    map_columns(header, source=filename, mapping=mapping)
    try:
        with session_scope(engine) as session:
            job = ImportJob(
                upload_token=token,
                filename=filename[:200],
                region=(region or None) and region.upper()[:2],
                mapping=dict(mapping),
                state=ImportJobState.RUNNING,
                rows_total=max(fmt.lines - 1, 0),
                owner=process_owner(),
                started_by=actor.label[:320],
            )
            session.add(job)
            session.flush()
            record_audit(
                session,
                actor=actor,
                action="contacts.import_started",
                target_type="import_job",
                target_id=str(job.id),
                detail={"file": filename, "mapping": dict(mapping)},
            )
    except IntegrityError:  # the same upload started by a second click at the same time
        again = job_for_upload(engine, token=token)
        if again is None:
            raise
        return again
    runner.start(job, actor=actor)
    return job
