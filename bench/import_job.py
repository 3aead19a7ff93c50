"""Benchmark of a dashboard import in the background: how long, and how the pages answer.

    .venv/bin/python bench/import_job.py [--rows 150000] [--database-url URL]

Serves the app under uvicorn on a loopback port (without the dispatcher), signs in as a
marketer, uploads the French spreadsheet of `bench/import_contacts.py`, starts its import
from the mapping page and, while the job runs, asks for its progress (the JSON the page
polls) and for the overview page, timing each answer. The last line is

    import: N rows in T s (R rows/s); progress answers: median M ms, max X ms;
    overview: median M ms, max X ms
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

from import_contacts import fresh_database, write_rows

from textopt.accounts.models import Role
from textopt.accounts.service import Actor, create_user
from textopt.api.app import create_app
from textopt.config import Settings, reset_settings
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="(?:csrf|form)_token" value="([^"]+)"')
_ACTION = re.compile(r'action="/app/import/([A-Za-z0-9_-]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timed(client: httpx.Client, url: str, into: list[float]) -> httpx.Response:
    start = time.perf_counter()
    answer = client.get(url)
    into.append((time.perf_counter() - start) * 1000)
    answer.raise_for_status()
    return answer


def _token(page: str) -> str:
    found = _TOKEN.search(page)
    assert found is not None, page[:500]
    return found.group(1)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database(args.database_url, Path(folder)) as url,
    ):
        work = Path(folder)
        settings = Settings(
            database_url=url,
            secret_key="bench",
            default_region="FR",
            upload_dir=str(work / "uploads"),
            cookie_secure=False,
            max_upload_mb=200,
        )
        reset_settings(settings)
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        with session_scope(engine) as session:
            create_user(
                session,
                email="bench@example.fr",
                password=PASSWORD,
                role=Role.MARKETER,
                created_by=Actor("cli", None, "cli:bench", frozenset()),
            )
        spreadsheet = work / "clients.csv"
        write_rows(spreadsheet, args.rows)
        port = _free_port()
        app = create_app(settings, dispatcher=False, engine=engine)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        progress: list[float] = []
        overview: list[float] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            login = client.get("/app/login")
            client.post(
                "/app/login",
                data={
                    "email": "bench@example.fr",
                    "password": PASSWORD,
                    "next": "/app/",
                    "form_token": _token(login.text),
                },
            )
            csrf = _token(client.get("/app/import").text)
            with spreadsheet.open("rb") as handle:
                mapping = client.post(
                    "/app/import",
                    data={"csrf_token": csrf},
                    files={"file": ("clients.csv", handle, "text/csv")},
                )
            found = _ACTION.search(mapping.text)
            assert found is not None, mapping.text[:500]
            start = time.perf_counter()
            started = client.post(
                f"/app/import/{found.group(1)}",
                data={"csrf_token": csrf, "filename": "clients.csv"},
            )
            answered = (time.perf_counter() - start) * 1000
            job = started.headers["location"]
            state = "running"
            while state == "running":
                state = _timed(client, f"{job}/progress", progress).json()["state"]
                _timed(client, "/app/", overview)
                time.sleep(0.2)
            elapsed = time.perf_counter() - start
        server.should_exit = True
        thread.join(30)
        engine.dispose()
    print(f"starting the import answered in {answered:.0f} ms; it ended {state}")
    print(
        f"import: {args.rows} rows in {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s); "
        f"progress answers: median {statistics.median(progress):.0f} ms, "
        f"max {max(progress):.0f} ms; overview: median {statistics.median(overview):.0f} ms, "
        f"max {max(overview):.0f} ms"
    )


if __name__ == "__main__":
    main()
