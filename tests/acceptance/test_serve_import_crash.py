"""`textopt serve` killed in the middle of a dashboard import: the job says exactly what was
kept, as interrupted."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from tests.factories.web import sign_in_form

from textopt.contacts.importjobs import get_import_job
from textopt.contacts.models import Contact, ImportJobState
from textopt.db.engine import create_db_engine, session_scope

TEXTOPT = str(Path(sys.executable).parent / "textopt")
PASSWORD = "serve password, long enough"
TIMEOUT = 60
ROWS = 20_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spreadsheet() -> bytes:
    lines = ["Numéro client;Prénom"]
    lines += [f"06 {10 + n // 10_000:02d} {n % 10_000:04d} 00;Client {n}" for n in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def test_a_serve_killed_mid_import_leaves_the_job_interrupted_with_what_was_kept(
    tmp_path: Path,
) -> None:
    database = tmp_path / "textopt.db"
    config = tmp_path / "textopt.toml"
    config.write_text(
        f'database_url = "sqlite:///{database}"\n'
        f'secret_file = "{tmp_path}/textopt.secret"\n'
        f'upload_dir = "{tmp_path}/uploads"\n'
        "cookie_secure = false\nimport_batch_size = 50\n",
        encoding="utf-8",
    )
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TEXTOPT_")}
    env = {**kept, "TEXTOPT_CONFIG": str(config)}
    subprocess.run(
        [TEXTOPT, "users", "create", "marie@shop.example", "--role", "marketer",
         "--password-stdin"],
        input=PASSWORD, env=env, check=True, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [TEXTOPT, "serve", "--no-dispatch", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT  # bounds on waits, not measures
        while True:
            try:
                if httpx.get(f"{url}/app/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            assert sign_in_form(http, "marie@shop.example", PASSWORD).status_code == 303
            found = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/app/import").text)
            assert found is not None
            csrf = found.group(1)
            mapping = http.post(
                "/app/import",
                data={"csrf_token": csrf},
                files={"file": ("clients.csv", _spreadsheet(), "text/csv")},
            )
            token = re.search(r'action="/app/import/([A-Za-z0-9_-]+)"', mapping.text)
            assert token is not None
            started = http.post(
                f"/app/import/{token.group(1)}", data={"csrf_token": csrf, "map-0": "phone"}
            )
            assert started.status_code == 303, started.text
            job_id = int(started.headers["location"].rsplit("/", 1)[1])
            while True:
                progress = http.get(f"/app/import/jobs/{job_id}/progress").json()
                assert progress["state"] == "running"
                if progress["rows_done"] >= 50:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(TIMEOUT)
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with session_scope(engine) as session:
            job = get_import_job(session, job_id=job_id)
            kept_rows = session.scalar(select(func.count()).select_from(Contact))
        assert job.state == ImportJobState.INTERRUPTED
        assert job.error == "the process running the import stopped"
        assert job.result is not None
        assert 50 <= job.rows_done < ROWS
        assert job.rows_done % 50 == 0  # whole batches only
        assert job.result["created"] == kept_rows == job.rows_done
    finally:
        engine.dispose()
