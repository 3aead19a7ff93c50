"""`textopt flows`: flows defined in TOML files — apply, list, show, stats, activate, pause,
archive, preview for a contact, and one pass of the runner (`run --once`, for cron)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from textopt.cli.common import console, engine, parse_instant, print_json, session
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.contacts import service as contacts
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.flows import commands, service
from textopt.flows.definition import FlowDefinition, definition_from_toml, parse_definition
from textopt.flows.jobs import run_flows
from textopt.flows.preview import preview_fields, preview_flow
from textopt.flows.stats import flow_stats, stats_fields

app = typer.Typer(
    help="Flows: a trigger (an event, a date, an opt-in, a segment) and ordered steps (wait, "
    "condition, send), run once per occurrence for each contact.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
FlowName = Annotated[str, typer.Argument(help="The flow's name or id")]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


@app.command("apply")
def apply(
    file: Annotated[
        Path, typer.Argument(help="A flow in TOML, or JSON as the API takes it (docs/flows.md)")
    ],
    as_json: JsonOption = False,
) -> None:
    """Create the flow the file names, or add a version when its definition changed."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {file}: {exc}", field="file") from None
    definition = _read_definition(text, json_file=file.suffix.lower() == ".json")
    with session() as s:
        applied = commands.apply_flow(s, actor=cli_actor(), definition=definition, now=utcnow())
        data = {**service.flow_fields(applied.flow), "created": applied.created,
                "new_version": applied.version}  # fmt: skip
    if as_json:
        print_json(data)
    elif applied.created:
        _say(
            f"flow {data['name']} created (id {data['id']}, draft): "
            f"textopt flows activate {data['id']}"
        )
    elif applied.version is None:
        _say(f"flow {data['name']} unchanged (version {data['latest_version']})")
    else:
        _say(
            f"flow {data['name']}: version {applied.version} added; running occurrences keep theirs"
        )


def _read_definition(text: str, *, json_file: bool) -> FlowDefinition:
    if not json_file:
        return definition_from_toml(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"the flow file is not valid JSON: {exc}", field="file") from None
    return parse_definition(data)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every flow with its state and latest version."""
    with session() as s:
        data = [service.flow_fields(flow) for flow in service.list_flows(s)]
    if as_json:
        print_json(data)
        return
    if not data:
        _say("no flows yet: textopt flows apply reminder.toml")
    for flow in data:
        _say(f"{flow['id']:>4}  {flow['state']:<8}  v{flow['latest_version']:<3} {flow['name']}")


@app.command("show")
def show(flow: FlowName, as_json: JsonOption = False) -> None:
    """A flow and its latest version's definition."""
    with session() as s:
        found = service.get_flow_or_raise(s, name_or_id=flow)
        version = service.latest_version(s, flow=found)
        data = {**service.flow_fields(found), "version": service.version_fields(version)}
    if as_json:
        print_json(data)
        return
    definition = data["version"]["definition"]
    _say(f"{data['name']} ({data['state']}, version {data['latest_version']})")
    _say(f"  trigger: {_describe(definition['trigger'])}")
    for number, step in enumerate(definition["steps"], start=1):
        _say(f"  {number}. {_describe(step)}")
    if definition.get("exit_on"):
        _say(f"  exits on: {', '.join(definition['exit_on'])}")


def _describe(table: dict[str, Any]) -> str:
    kind = table["kind"]
    rest = ", ".join(f"{k}={v!r}" for k, v in table.items() if k not in ("kind", "template"))
    if "template" in table:
        rest += f", template={table['template'][:60]!r}"
    return f"{kind} ({rest})" if rest else kind


@app.command("stats")
def stats(flow: FlowName, as_json: JsonOption = False) -> None:
    """Per version, per step: entered, waiting, sent, skipped and exited by reason."""
    with session() as s:
        found = service.get_flow_or_raise(s, name_or_id=flow)
        data = stats_fields(flow_stats(s, flow=found))
    if as_json:
        print_json(data)
        return
    for table in data:
        _say(
            f"version {table['version']}: {table['occurrences']} occurrences, "
            f"{table['active']} open"
        )
        for step in table["steps"]:
            extra = "".join(
                f", {label} {reason}: {count}"
                for label in ("skipped", "exited")
                for reason, count in sorted(step[label].items())
            )
            _say(
                f"  {step['step']}. {step['kind']:<9} entered {step['entered']}, waiting "
                f"{step['waiting']}, sent {step['sent']}{extra}"
            )


def _change(verb: str, flow: str, as_json: bool) -> None:
    action = {"activate": commands.activate_flow, "pause": commands.pause_flow,
              "archive": commands.archive_flow}[verb]  # fmt: skip
    with session() as s:
        data = service.flow_fields(action(s, actor=cli_actor(), name_or_id=flow, now=utcnow()))
    if as_json:
        print_json(data)
    else:
        _say(f"flow {data['name']} is {data['state']}")


@app.command("activate")
def activate(flow: FlowName, as_json: JsonOption = False) -> None:
    """Start (or resume) a flow: its trigger reads what happens from now on."""
    _change("activate", flow, as_json)


@app.command("pause")
def pause(flow: FlowName, as_json: JsonOption = False) -> None:
    """Pause a flow: nothing starts, nothing moves until it is activated again."""
    _change("pause", flow, as_json)


@app.command("archive")
def archive(flow: FlowName, as_json: JsonOption = False) -> None:
    """End a flow for good; its open occurrences exit."""
    _change("archive", flow, as_json)


@app.command("preview")
def preview(
    flow: FlowName,
    contact: Annotated[int, typer.Option("--contact", help="The contact's id")],
    as_json: JsonOption = False,
) -> None:
    """What the flow would do for a contact: times in their zone, texts, the policy's
    decision. Nothing is written."""
    settings = get_settings()
    with session() as s:
        found = service.get_flow_or_raise(s, name_or_id=flow)
        definition = service.definition_of(service.latest_version(s, flow=found))
        person = contacts.get_contact_or_raise(s, contact_id=contact)
        data = preview_fields(
            preview_flow(s, settings=settings, definition=definition, contact=person, now=utcnow())
        )
        s.rollback()
    if as_json:
        print_json(data)
        return
    for step in data:
        line = f"{step['step']}. {step['kind']:<9} {step['outcome']:<9} {step['local'] or ''}"
        if step["reason"]:
            line += f"  [{step['reason']}] {step['sentence'] or ''}"
        elif step["sentence"]:
            line += f"  {step['sentence']}"
        _say(line)
        if step["text"]:
            _say(f"     {step['text']}")


@app.command("occurrences")
def occurrences(
    flow: Annotated[str | None, typer.Argument(help="The flow's name or id")] = None,
    contact: Annotated[int | None, typer.Option("--contact", help="A contact's id")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The latest occurrences of a flow or of a contact, with their step log."""
    if flow is None and contact is None:
        raise ValidationError("name a flow, or a contact with --contact", field="flow")
    with session() as s:
        flow_id = service.get_flow_or_raise(s, name_or_id=flow).id if flow else None
        if contact is not None:
            contacts.get_contact_or_raise(s, contact_id=contact)
        runs = service.list_runs(s, contact_id=contact, flow_id=flow_id, limit=limit)
        logs = service.run_logs(s, run_ids=[run.id for run in runs])
        data = [service.run_fields(run, log=logs[run.id]) for run in runs]
    if as_json:
        print_json(data)
        return
    if not data:
        _say("no occurrences")
    for run in data:
        ended = f" ({run['exit_reason']})" if run["exit_reason"] else ""
        _say(f"#{run['id']} flow {run['flow_id']} contact {run['contact_id']} "
             f"{run['occurrence_key']}: {run['state']}{ended}")  # fmt: skip
        for entry in run["log"]:
            reason = f" [{entry['reason']}]" if entry["reason"] else ""
            text = f" {entry['reason_text']}" if entry["reason_text"] else ""
            _say(f"    step {entry['step']} {entry['outcome']}{reason}{text}")


@app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit (cron, tests)")] = False,
    at: Annotated[str | None, typer.Option("--at", help="Run as if it were this instant")] = None,
    as_json: JsonOption = False,
) -> None:
    """Read the triggers and run every due step once (the dispatcher does it continuously)."""
    if not once:
        raise ValidationError(
            "flows run continuously inside `textopt dispatch`; use --once for one pass",
            field="once",
        )
    now = parse_instant(at, field="at") if at else utcnow()
    started, tally = run_flows(engine(), get_settings(), now=now)
    data = {
        "started": started,
        "claimed": tally.claimed,
        "sent": tally.sent,
        "skipped": tally.skipped,
        "exited": tally.exited,
        "completed": tally.completed,
        "waiting": tally.waiting,
    }
    if as_json:
        print_json(data)
    else:
        _say(
            f"{started} occurrences started; {tally.sent} messages written, {tally.skipped} "
            f"refused, {tally.exited} exited, {tally.completed} completed, {tally.waiting} waiting"
        )
