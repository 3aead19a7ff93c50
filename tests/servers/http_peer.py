"""A real HTTP peer on 127.0.0.1 for the HTTP provider tests: records requests, scripted answers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.servers.smsc import ignore

from textopt.providers import build_provider
from textopt.providers.base import OutboundMessage, SubmitResult


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted answer: a status, headers and body, after a pause, or a cut connection."""

    status: int = 201
    body: dict[str, object] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: bool = False  # read the request, then close without answering


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the peer received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Peer:
    """The running peer: `answers` are used in order, then the default answer; a number in
    `by_recipient` gets its own answer every time, whatever the order of the requests."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.by_recipient: dict[str, Answer] = {}  # the `To` (form) or `to` (JSON) number
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.url = ""

    def script(self, *answers: Answer) -> None:
        """Answer the next requests so, in order."""
        with self.lock:
            self.answers = list(answers)

    def next_answer(self, number: int, body: bytes = b"") -> Answer:
        with self.lock:
            if self.by_recipient and (answer := self.by_recipient.get(_recipient(body))):
                return answer
            if self.answers:
                return self.answers.pop(0)
        return Answer(201, {"sid": f"SM{number:032d}", "id": f"wh-{number}"})


def _recipient(body: bytes) -> str:
    """The number a request sends to: Twilio's form field `To`, or the JSON field `to`."""
    text = body.decode(errors="replace")
    if text.startswith("{"):
        return str(json.loads(text).get("to", ""))
    return parse_qs(text).get("To", [""])[0]


def _handler(peer: Peer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with peer.lock:
                peer.seen.append(Seen("POST", self.path, dict(self.headers.items()), body))
                number = len(peer.seen)
            answer = peer.next_answer(number, body)
            if answer.delay:
                time.sleep(answer.delay)
            if answer.cut:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = json.dumps(answer.body or {}).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting: that was the test

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    return Handler


@contextmanager
def http_peer() -> Iterator[Peer]:
    """A peer listening on 127.0.0.1 on a free port until the block ends."""
    peer = Peer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(peer))
    server.daemon_threads = True
    peer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port with nobody listening (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def submit_all(
    account: str, options: Mapping[str, Any], messages: Sequence[OutboundMessage]
) -> list[SubmitResult]:
    """Start a provider built from `options`, submit `messages`, stop it; its answers."""

    async def run() -> list[SubmitResult]:
        provider = build_provider(account, options)
        await provider.start(ignore)
        try:
            return await provider.submit(messages)
        finally:
            await provider.stop()

    return asyncio.run(run())
