"""The README's five-minute tour, run as written on a fresh demo: it can never drift again.

Every `textopt` command of the tour section's shell blocks runs, in order, in a directory
where `python -m textopt.demo` has just run (as `make demo` does), and must succeed. The two
that run until stopped (`dispatch`, `serve`) are stopped with Ctrl-C once they show their
status or banner; `users create` is given its password on standard input.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from textopt.demo.contacts import DEMO_HEADER

ROOT = Path(__file__).resolve().parents[2]
TEXTOPT = str(Path(sys.executable).parent / "textopt")  # the installed command
SECTION = "## A five-minute tour"
PASSWORD = "tour password, long enough"
TIMEOUT = 120  # seconds for one command, on a loaded machine
SIMULATED_FAILURE = 5  # `send`: the network reported the message failed (`send --help`)


@dataclass
class Tour:
    """The tour's commands (argument lists after `textopt`) and the environment it exports."""

    commands: list[list[str]] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)


def read_tour(readme: str) -> Tour:
    """The commands of the README's tour section, continuation lines joined, comments cut."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else None]
    tour = Tour()
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                tour.environ[name] = value
            elif words[0] == "alias":
                continue  # the test runs the installed command itself
            elif words[0] == "textopt":
                tour.commands.append(words[1:])
            else:
                pytest.fail(f"the tour has a line that is not a textopt command: {line!r}")
    return tour


def _environ(tour: Tour) -> dict[str, str]:
    # nothing of the test session's own configuration: the tour sees what a user's shell sees
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TEXTOPT_")}
    return {**kept, **tour.environ, "COLUMNS": "120"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Running:
    """A command that runs until Ctrl-C, its standard error collected as it comes."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [TEXTOPT, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for chunk in iter(lambda: self.process.stderr.read(1) if self.process.stderr else "", ""):
            self.err += chunk

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first match of `pattern` in standard error, waiting for it to appear."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = re.search(pattern, self.err)
            if found:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"no {pattern!r} from `textopt`: {self.err}")

    def stop(self) -> str:
        """Ctrl-C; the standard error it printed, once it exited 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        assert self.process.returncode == 0, self.err
        assert "Traceback" not in self.err, self.err
        return self.err


def _dispatch(args: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    # as in a terminal, where the status line is redrawn (a pipe only gets the last one)
    running = _Running(args, cwd=cwd, env={**env, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    running.wait_for(r"sent [\d,]+ · .*(waiting until|nothing due|due now)")
    err = running.stop()
    assert re.search(r"stopped: [\d,]+ sent, [\d,]+ failed, ", err), err
    return err


def _serve(args: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    running = _Running([*args, "--port", str(_free_port())], cwd=cwd, env=env)
    url = running.wait_for(r"dashboard: (http://\S+)").group(1)
    deadline = time.monotonic() + TIMEOUT
    while True:  # the banner comes just before the server listens
        try:
            with urllib.request.urlopen(url, timeout=10) as page:
                assert page.status == 200
                break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                running.stop()
                raise
            time.sleep(0.2)
    return running.stop()


def _run(args: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    if args[0] == "dispatch":
        return _dispatch(args, cwd=cwd, env=env)
    if args[0] == "serve":
        return _serve(args, cwd=cwd, env=env)
    done = subprocess.run(
        [TEXTOPT, *args],
        cwd=cwd,
        env=env,
        input=f"{PASSWORD}\n{PASSWORD}\n",  # `users create` asks for a password twice
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        # no controlling terminal: the password prompt reads standard input
        start_new_session=True,
    )
    if args[0] == "send" and done.returncode == SIMULATED_FAILURE:
        # the demo's sandbox fails or expires 4 % of messages as a network does (keyed on the
        # message, so it is drawn anew each run): the command worked and said so
        assert re.search(r"message \d+: (failed|expired)", done.stdout), done.stdout
        return done.stdout
    assert done.returncode == 0, f"textopt {shlex.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_tour_reads_the_demo_it_runs_on() -> None:
    tour = read_tour((ROOT / "README.md").read_text(encoding="utf-8"))
    assert tour.environ == {"TEXTOPT_CONFIG": "demo/textopt.toml"}
    names = {m for args in tour.commands for m in re.findall(r"attributes\.(\w+)", " ".join(args))}
    assert names
    assert names <= set(DEMO_HEADER), "a filter names a column the demo file lacks"
    created = [args for args in tour.commands if args[:2] == ["campaign", "create"]]
    assert len(created) == 1
    for args in tour.commands:
        if args[:2] == ["campaign", "preview"] or args[:2] == ["campaign", "launch"]:
            assert args[2] == "4", "the tour's campaign is the demo's fourth"


def test_every_command_of_the_readme_tour_runs_on_a_fresh_demo(tmp_path: Path) -> None:
    tour = read_tour((ROOT / "README.md").read_text(encoding="utf-8"))
    env = _environ(tour)
    demo = subprocess.run(
        [sys.executable, "-m", "textopt.demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    # the demo has a person who kept reminders but stopped promotions, and one limited
    stopped = re.search(r"(\+\d+): keeps reminders, stops promotions", demo.stdout)
    assert stopped is not None, demo.stdout
    assert "promotions at most 2 a month" in demo.stdout
    outputs: dict[str, str] = {}
    for args in tour.commands:
        outputs[shlex.join(args[:2])] = _run(args, cwd=tmp_path, env=env)
    # what the tour's comments promise
    assert "10:12:00 CET" in outputs["consent history"]  # given at 10:12 in Paris
    assert "None" not in outputs["consent history"]
    assert "campaign 4 created" in outputs["campaign create"]
    chosen = _run(["consent", "preferences", stopped.group(1), "--json"], cwd=tmp_path, env=env)
    sms = json.loads(chosen)["preferences"][0]
    assert (sms["channel"], sms["promotions"], sms["reminders"]) == ("sms", "stopped", True)
    # the demo's inbox: customers wrote back (at night, those the confirmations reached,
    # the sale waiting for its window); one got a reply, two wait unread; the
    # clinic's patient who answered OUI is there too, unread (unless the sandbox's simulated
    # failures left the reminder undelivered, and the demo said so)
    patient = " answered OUI: " in demo.stdout
    inbox = json.loads(_run(["inbox", "list", "--json"], cwd=tmp_path, env=env))
    assert (len(inbox["conversations"]), inbox["unread"]) == (3 + patient, 2 + patient)
    answered = [c for c in inbox["conversations"] if c["unread"] == 0]
    assert len(answered) == 1
    shown = json.loads(
        _run(["inbox", "show", str(answered[0]["id"]), "--json"], cwd=tmp_path, env=env)
    )
    said = [(m["direction"], m.get("reply_kind")) for m in shown["messages"]]
    # the sale, the customer's question, the shop's conversational answer (then the letter)
    assert said.index(("in", None)) < said.index(("out", "conversational"))
