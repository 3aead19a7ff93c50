"""The node SMSC of tests/smsc/ (node-smpp) as a Python object: start it, script it, read it.

    with running_smsc() as smsc:
        smsc.configure(receipts="before", reject={"3399": 0x0B})
        ... bind to 127.0.0.1:smsc.port ...
        smsc.state()["submits"]

`make test` installs its node modules (`npm ci` in tests/smsc). Without node, npm or the
modules, the SMPP tests fail with a message saying what to install: never skipped.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from textopt.providers import Receipt, ReceiptSink, build_provider
from textopt.providers.mo import InboundSms
from textopt.providers.smpp import SmppProvider

SMSC_DIR = Path(__file__).resolve().parent.parent / "smsc"

# Statuses the tests script.
ESME_RINVDSTADR = 0x0B
ESME_RINVPASWD = 0x0E
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RSYSERR = 0x08


def smsc_problem() -> str | None:
    """Why the node SMSC cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed: the SMPP tests need Node.js (apt-get install nodejs npm)"
    if not (SMSC_DIR / "node_modules" / "smpp").is_dir():
        return "tests/smsc/node_modules is missing: run `make test` or `npm ci --prefix tests/smsc`"
    return None


class Smsc:
    """A running node SMSC: its SMPP port and its control API."""

    def __init__(self, process: subprocess.Popen[bytes], smpp_port: int, control_port: int):
        self.process = process
        self.port = smpp_port
        self.control_port = control_port

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Merge settings into the scenario (see DEFAULTS in tests/smsc/server.js)."""
        result: dict[str, Any] = self._call("POST", "/config", settings)
        return result

    def reset(self) -> None:
        """Back to the default scenario, nothing seen."""
        self._call("POST", "/reset", {})

    def state(self) -> dict[str, Any]:
        """Binds, submits (each with its raw fields), enquire_links, unbinds, sessions."""
        result: dict[str, Any] = self._call("GET", "/state")
        return result

    def summary(self) -> dict[str, Any]:
        """Counts only: submit_count, accepted, distinct_destinations, duplicates."""
        result: dict[str, Any] = self._call("GET", "/summary")
        return result

    def drop(self) -> None:
        """Cut every connection now."""
        self._call("POST", "/drop", {})

    def send_mo(self, *, sender: str, text: str = "", ucs2: bool = False, **fields: Any) -> None:
        """Have the SMSC deliver a message a person sent (a mobile-originated deliver_sm).

        `fields` reach the SMSC as they are: `hex` (raw short_message bytes), `data_coding`.
        """
        self._call("POST", "/mo", {"from": sender, "text": text, "ucs2": ucs2, **fields})

    def send_mos(self, messages: list[dict[str, Any]], *, interval_ms: int = 0) -> list[int]:
        """A storm of MOs (each `{"from": ..., "text": ...}`), `interval_ms` apart."""
        answer = self._call("POST", "/mo", {"storm": messages, "interval_ms": interval_ms})
        return [int(n) for n in answer["numbers"]]

    def mo_acks(self) -> dict[str, Any]:
        """The MOs answered with status 0 (`acked`: number and sender), and those waiting."""
        result: dict[str, Any] = self._call("GET", "/mo_acks")
        return result

    def release(self) -> int:
        """Send the held receipts on the sessions bound now; returns how many."""
        return int(self._call("POST", "/release", {})["released"])

    def wait_for(self, predicate: Any, *, timeout: float = 10.0) -> dict[str, Any]:
        """Poll the state until `predicate(state)` holds (bounded), and return that state."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state) or time.monotonic() > deadline:
                return state
            time.sleep(0.02)


@contextmanager
def running_smsc() -> Iterator[Smsc]:
    """Start the node SMSC on free loopback ports; stop it afterwards."""
    problem = smsc_problem()
    if problem:
        pytest.fail(problem)
    process = subprocess.Popen(
        ["node", str(SMSC_DIR / "server.js")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=SMSC_DIR,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"the node SMSC did not start (exit code {process.wait(5)})")
        ports = json.loads(line)
        yield Smsc(process, int(ports["smpp"]), int(ports["control"]))
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the server exits when its stdin ends
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def smpp_account(smsc: Smsc, **options: Any) -> dict[str, Any]:
    """A provider account's options for this SMSC (fast timers for tests)."""
    account: dict[str, Any] = {
        "kind": "smpp",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "textopt",
        "password": "secret",
        "source_addr": "BOUTIQUE",
        "window": 10,
        "rate": 10_000,
        "timeout": 2,
        "enquire_link": 30,
        "reconnect_max": 0.2,
    }
    account.update(options)
    return account


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (bounded) until `check()` holds; the assertion after it says what failed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


def collect(into: list[Any]) -> ReceiptSink:
    """A sink that keeps what the provider hands over in `into` (committed at once)."""

    async def sink(items: Sequence[Receipt | InboundSms]) -> None:
        into.extend(items)

    return sink


async def ignore(_items: Sequence[Receipt | InboundSms]) -> None:
    """A sink that drops everything (providers that must never hand anything over)."""


def run_provider(
    smsc: Smsc,
    body: Callable[[SmppProvider, list[Receipt]], Awaitable[None]],
    **options: Any,
) -> list[Receipt]:
    """Start an SMPP provider on `smsc`, run `body` with it, stop it; the receipts it emitted."""
    receipts: list[Receipt] = []

    async def scenario() -> None:
        provider = build_provider("smpp-test", smpp_account(smsc, **options))
        assert isinstance(provider, SmppProvider)
        await provider.start(collect(receipts))
        try:
            await body(provider, receipts)
        finally:
            await provider.stop()

    asyncio.run(scenario())
    return receipts
