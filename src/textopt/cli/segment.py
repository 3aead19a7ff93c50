"""`textopt segment`: saved audiences and live counts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from textopt.campaigns import segments
from textopt.campaigns.audience import describe, parse_filter
from textopt.campaigns.segment_models import Segment
from textopt.cli.common import console, print_json, session
from textopt.cli.display import counted, human_instant
from textopt.db.base import utcnow

app = typer.Typer(
    help="Saved audiences (segments): create, list, count, show, delete.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _segment_dict(s: Session, segment: Segment) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": segment.id,
        "name": segment.name,
        "filter": segment.filter,
        "canonical": describe(parse_filter(segment.filter)),
        "description": segment.description,
        "count": segments.count_audience(s, filter=segment.filter, now=now),
        "counted_at": now,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. vip-france")],
    filter: Annotated[str, typer.Argument(help='A filter, e.g. "tag:vip and country:FR"')],
    description: Annotated[str | None, typer.Option("--description", help="What it is for")] = None,
    as_json: JsonOption = False,
) -> None:
    """Save a filter under a name (it is checked first)."""
    with session() as s:
        segment = segments.create_segment(s, name=name, filter=filter, description=description)
        data = _segment_dict(s, segment)
    if as_json:
        print_json(data)
    else:
        console.print(
            f"segment {data['name']} saved: {data['canonical']} "
            f"({counted(data['count'], 'contact')} now)",
            markup=False,
            highlight=False,
        )


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every segment with its live count."""
    with session() as s:
        data = [_segment_dict(s, segment) for segment in segments.list_segments(s)]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("no segments yet: textopt segment create NAME FILTER")
        return
    table = Table("name", "filter", "contacts", "description")
    for row in data:
        table.add_row(
            escape(row["name"]),
            escape(row["canonical"]),
            str(row["count"]),
            escape(row["description"] or ""),
        )
    console.print(table)


@app.command("count")
def count(
    name_or_filter: Annotated[
        str, typer.Argument(help='A saved segment\'s name, or a filter such as "tag:vip"')
    ],
    as_json: JsonOption = False,
) -> None:
    """How many contacts a saved segment or an ad-hoc filter matches now."""
    now = utcnow()
    with session() as s:
        segment, tree = segments.resolve_audience(s, name_or_filter=name_or_filter)
        total = segments.count_audience(s, filter=tree, now=now)
    data = {
        "segment": segment.name if segment is not None else None,
        "filter": describe(tree),
        "count": total,
        "counted_at": now,
    }
    if as_json:
        print_json(data)
    else:
        label = f"segment {segment.name} ({data['filter']})" if segment else data["filter"]
        verb = "matches" if total == 1 else "match"
        console.print(f"{counted(total, 'contact')} {verb} {label}", markup=False, highlight=False)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The segment's name or id")],
    as_json: JsonOption = False,
) -> None:
    """A segment's filter, description and live count."""
    with session() as s:
        data = _segment_dict(s, segments.get_segment_or_raise(s, name_or_id=name))
    if as_json:
        print_json(data)
        return
    for label in ("name", "filter", "canonical", "description", "count", "created_at"):
        value = data[label]
        shown = human_instant(value) if isinstance(value, dt.datetime) else value
        console.print(
            f"{label:<12} {'' if shown is None else shown}", markup=False, highlight=False
        )


@app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="The segment's name or id")]) -> None:
    """Delete a segment (campaigns keep the filter they copied)."""
    with session() as s:
        segment = segments.get_segment_or_raise(s, name_or_id=name)
        segment_name = segment.name
        segments.delete_segment(s, name_or_id=segment.id)
    console.print(f"segment {segment_name} deleted", markup=False, highlight=False)
