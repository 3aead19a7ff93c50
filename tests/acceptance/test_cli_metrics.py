"""`textopt --version`, and the metrics listener of `textopt dispatch --metrics-port`."""

from __future__ import annotations

import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select
from tests.factories.campaigns import add_contact
from tests.factories.cli import cli_json, runner

import textopt
from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.outbox.models import Message

ROOT = Path(__file__).resolve().parents[2]
TEXTOPT = str(Path(sys.executable).parent / "textopt")  # the installed command


def _env() -> dict[str, str]:
    """The environment of a `textopt` process running this tree's code."""
    path = [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_version_prints_the_package_version_and_reads_no_settings() -> None:
    result = runner.invoke(app, ["--config", "/nonexistent.toml", "--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"textopt {textopt.__version__}\n"
    # one version: the package's metadata is built from the same attribute
    assert importlib.metadata.version("textopt") == textopt.__version__


def test_a_dispatcher_serves_its_metrics_on_loopback_while_it_sends(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
    port = _free_port()
    process = subprocess.Popen(
        [TEXTOPT, "dispatch", "--metrics-port", str(port)],
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        queued = cli_json(
            "send", "--to", "+33612345678", "--text", "Votre commande est prête", "--queue-only"
        )
        deadline = time.monotonic() + 30
        samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        while time.monotonic() < deadline:
            try:
                samples = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            except httpx.TransportError:
                samples = {}  # not listening yet
            receipts = samples.get(
                ("textopt_dispatch_receipts_total", frozenset({("applied", "true")})), 0
            )
            if receipts >= 1:
                break
            time.sleep(0.05)
        with session_scope(engine) as s:
            assert s.scalar(select(Message.status).where(Message.id == queued["id"])) == (
                "delivered"
            )
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err

    def value(name: str, **labels: str) -> float:
        return samples.get((name, frozenset(labels.items())), 0.0)

    assert value("textopt_dispatch_claimed_messages_total", account="sandbox") == 1
    assert value("textopt_dispatch_answers_total", account="sandbox", result="submitted") == 1
    assert value("textopt_dispatch_submit_seconds_count", account="sandbox") == 1
    assert value("textopt_dispatch_receipt_lag_seconds_count") == 1
    assert value("textopt_worker_running", task="dispatcher/sandbox/0") == 1
    assert value("textopt_worker_running", task="webhooks") == 1
    assert value("textopt_worker_restarts_total", task="dispatcher/housekeeping") == 0
    assert value("textopt_build_info", version=textopt.__version__) == 1
    # the listener ended with the dispatcher
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_taken_metrics_port_is_a_clear_error_before_anything_is_sent(
    engine: Engine, campaign_settings: Settings
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [TEXTOPT, "dispatch", "--once", "--metrics-port", str(port)],
            env=_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    assert f"error: metrics listener on 127.0.0.1:{port}:" in result.stderr
    assert "Traceback" not in result.stderr
