"""Benchmark of `POST /v1/messages` under concurrent clients against a bare FastAPI endpoint.

    .venv/bin/python bench/api_send.py [--requests 3000] [--clients 20]
                                       [--database-url URL] [--py-spy FILE]

Runs, one after the other on the same machine and the same kind of database (a temporary
SQLite file, or a throw-away PostgreSQL schema with `--database-url`):

- the bare endpoint: a FastAPI app under uvicorn whose one route validates the same JSON
  body and inserts one row in one transaction (the same engine set-up as textopt's);
- `textopt serve` (API, sandbox provider, the dispatcher and its tasks in the same process)
  answering `POST /v1/messages` with an API key and a fresh `Idempotency-Key` per request:
  the figure that counts, compared with the bare endpoint;
- then `textopt serve --no-dispatch` under the same load: the API alone, to tell its cost
  from the dispatcher's.

Each is loaded by `--clients` keep-alive connections sending requests back to back (after a
warm-up), from a small HTTP/1.1 client that costs the shared CPU little. The last line is

    api: R req/s, p50 A ms, p99 B ms; bare: S req/s, p50 C ms, p99 D ms;
    throughput ratio: X; p99 ratio: Y; failed: N

Each run's line also gives the server process's CPU time per request (user + system, from
`/proc`; on PostgreSQL the database server's own CPU is not in it). `failed` counts the
requests answered anything but 201, such as a 503 after 30 s waiting for the database; each
run's line names the first.

`--py-spy FILE` records where `textopt serve` spends its time during the measured run
(py-spy, the thread holding the interpreter lock) in FILE: speedscope JSON if it ends in
`.json`, else collapsed stacks (one line per stack and its count).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from import_contacts import fresh_database
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from textopt.accounts import service as accounts
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata
from textopt.outbox.models import Message

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Votre commande 4521 est prête : retrait en magasin jusqu'à 19h."
SECRET = "bench-secret-key-not-for-production"
WARMUP = 200


# --------------------------------------------------------------------------- the bare app


class Body(BaseModel):
    """The bare endpoint's body: what `POST /v1/messages` needs at least."""

    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=5000)


def bare_app(url: str) -> object:
    """One route: the same body validated, one row inserted, committed, answered 201."""
    from fastapi import FastAPI, Header
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert

    from textopt.db.base import utcnow

    metadata = MetaData()
    table = Table(
        "bench_bare",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("recipient", String(40)),
        Column("body", Text),
        Column("idempotency_key", String(100), unique=True),
        Column("created_at", DateTime),
    )
    engine = create_db_engine(url)
    metadata.create_all(engine)

    app = FastAPI()

    @app.post("/bare", status_code=201)
    def create(body: Body, key: str = Header(alias="Idempotency-Key")) -> dict[str, object]:
        with engine.begin() as connection:
            row = connection.execute(
                insert(table)
                .values(recipient=body.to, body=body.text, idempotency_key=key, created_at=utcnow())
                .returning(table.c.id)
            ).one()
        return {"id": row.id, "status": "planned"}

    return app


def run_bare_server(port: int, url: str) -> None:
    """Serve the bare app as `textopt serve` serves its own (uvicorn, access log on)."""
    import uvicorn

    uvicorn.run(bare_app(url), host="127.0.0.1", port=port, log_level="info")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the client


async def _one_client(
    port: int,
    path: str,
    headers: str,
    bodies: Iterator[tuple[str, bytes]],
    out: list[float],
    errors: list[str],
) -> None:
    """One keep-alive connection sending requests back to back; latencies into `out`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for key, body in bodies:
            request = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            out.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            if status != 201:  # counted and shown: a refusal under load is a result too
                errors.append(f"HTTP {status}: {answer[:200]!r}")
    finally:
        writer.close()


def _requests(prefix: str, start: int, count: int) -> list[tuple[str, bytes]]:
    """Distinct keys and French mobile numbers, one per request."""
    return [
        (
            f"{prefix}-{n}",
            json.dumps({"to": f"06{(12_000_000 + n) % 100_000_000:08d}", "text": TEXT}).encode(),
        )
        for n in range(start, start + count)
    ]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    port: int, path: str, headers: str, *, clients: int, requests: int, prefix: str, pid: int
) -> dict[str, Any]:
    """Warm up, then `requests` from `clients` connections: throughput and latency quantiles."""

    errors: list[str] = []

    async def burst(start: int, count: int, out: list[float]) -> float:
        todo = iter(_requests(prefix, start, count))
        began = time.perf_counter()
        await asyncio.gather(
            *(_one_client(port, path, headers, todo, out, errors) for _ in range(clients))
        )
        return time.perf_counter() - began

    asyncio.run(burst(0, WARMUP, []))
    errors.clear()
    latencies: list[float] = []
    cpu = _cpu_seconds(pid)
    elapsed = asyncio.run(burst(WARMUP, requests, latencies))
    cpu = _cpu_seconds(pid) - cpu
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "rate": len(latencies) / elapsed,
        "p50": cuts[49] * 1000,
        "p99": cuts[98] * 1000,
        "max": latencies[-1] * 1000,
        "cpu_ms": cpu / len(latencies) * 1000,  # the server's CPU per request
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


# --------------------------------------------------------------------------- the servers


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, what: str) -> Iterator[int]:
    """A server process on `port` for the time of the block (its log to a temporary file)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (read back after the process ends)
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    try:
        _wait_listening(port, process, what)
        yield process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        tail = log.read().decode(errors="replace").splitlines()[-5:]
        if process.returncode not in (0, -signal.SIGINT):
            print(f"{what} exited with {process.returncode}:", *tail, sep="\n  ", file=sys.stderr)


@contextmanager
def py_spy(pid: int, target: str | None) -> Iterator[None]:
    """py-spy recording `pid` for the block (every thread, idle frames too), if asked."""
    if target is None:
        yield
        return
    spy = Path(sys.executable).parent / "py-spy"
    form = "speedscope" if target.endswith(".json") else "raw"  # raw: collapsed stacks
    command = [str(spy), "record", "-p", str(pid), "-o", target, "-f", form]
    process = subprocess.Popen([*command, "--threads", "--gil", "--nonblocking", "-r", "250"])
    time.sleep(1.0)  # attached before the measured run
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def _line(name: str, result: dict[str, Any]) -> str:
    line = (
        f"{name}: {result['rate']:.0f} req/s, p50 {result['p50']:.1f} ms, "
        f"p99 {result['p99']:.1f} ms (max {result['max']:.0f} ms), "
        f"server CPU {result['cpu_ms']:.2f} ms per request"
    )
    if result["errors"]:
        line += f"; {result['errors']} failed, first: {result['first_error']}"
    return line


def main(argv: list[str] | None = None) -> None:
    """Run both servers under the same load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--py-spy", default=None, help="record textopt serve to this file")
    parser.add_argument("--bare-server", nargs=2, metavar=("PORT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        run_bare_server(int(args.bare_server[0]), args.bare_server[1])
        return
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database(args.database_url, Path(folder)) as url,
    ):
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        with session_scope(engine) as session:
            _, key = accounts.create_api_key(
                session,
                name="bench",
                scopes=["send"],
                created_by=accounts.Actor("cli", None, "cli:bench", frozenset()),
            )
        sandbox = {
            "kind": "sandbox",
            "rate": 100_000,
            "receipt_delay": 0.05,
            "failure_rate": 0,
            "expiry_rate": 0,
        }
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
            "TEXTOPT_DATABASE_URL": url,
            "TEXTOPT_SECRET_KEY": SECRET,
            "TEXTOPT_PROVIDERS": json.dumps({"sandbox": sandbox}),
            "TEXTOPT_UPLOAD_DIR": str(Path(folder) / "uploads"),
        }
        load_options = {"clients": args.clients, "requests": args.requests}
        print(
            f"{args.clients} clients, {args.requests} requests each run "
            f"(+{WARMUP} warm-up), {'PostgreSQL' if args.database_url else 'SQLite'}, "
            f"{os.cpu_count()} cores",
            flush=True,
        )

        port = _free_port()
        command = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port), url]
        with server(command, env, port, "bare server") as pid:
            bare = load(port, "/bare", "", prefix="bare", pid=pid, **load_options)
        print(_line("bare endpoint", bare), flush=True)

        port = _free_port()
        textopt = Path(sys.executable).parent / "textopt"
        command = [str(textopt), "serve", "--port", str(port)]
        auth = f"Authorization: Bearer {key}\r\n"
        with server(command, env, port, "textopt serve") as pid, py_spy(pid, args.py_spy):
            api = load(port, "/v1/messages", auth, prefix="api", pid=pid, **load_options)
            with session_scope(engine) as session:
                sent = session.scalar(select(func.count()).where(Message.submitted_at.is_not(None)))
        print(_line("POST /v1/messages", api) + f"; the dispatcher sent {sent} meanwhile")

        # last, so that the messages it leaves are not the dispatcher's work above
        port = _free_port()
        command = [str(textopt), "serve", "--port", str(port), "--no-dispatch"]
        with server(command, env, port, "textopt serve --no-dispatch") as pid:
            alone = load(port, "/v1/messages", auth, prefix="alone", pid=pid, **load_options)
        print(_line("POST /v1/messages, serve --no-dispatch", alone), flush=True)
        engine.dispose()
    print(
        f"api: {api['rate']:.0f} req/s, p50 {api['p50']:.1f} ms, p99 {api['p99']:.1f} ms; "
        f"bare: {bare['rate']:.0f} req/s, p50 {bare['p50']:.1f} ms, p99 {bare['p99']:.1f} ms; "
        f"throughput ratio: {api['rate'] / bare['rate']:.2f}; "
        f"p99 ratio: {api['p99'] / bare['p99']:.2f}; failed: {api['errors'] + bare['errors']}"
    )


if __name__ == "__main__":
    main()
