"""`textopt message` commands: see how a text travels as SMS before sending it; list messages."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from textopt.cli.common import console, console_err, parse_instant, print_json, session
from textopt.cli.display import human_instant
from textopt.compose import Analysis, Encoding, analyze, message_frame
from textopt.config import get_settings
from textopt.dispatch import listing
from textopt.errors import TextoptError, ValidationError
from textopt.outbox.states import MessageStatus
from textopt.vocab import Channel, Purpose

__all__ = ["app", "inspect", "list_command"]

app = typer.Typer(help="Check messages: encoding, segments, cost.", no_args_is_help=True)

_UNIT_NAMES = {Encoding.GSM7: "septets", Encoding.UCS2: "UTF-16 units"}
# How control characters are drawn so that the report shows them instead of obeying them.
_VISIBLE = {"\n": "↵\n", "\r": "␍", "\t": "⇥", "\x0c": "␌", "\x1b": "␛"}


def _frame_text(
    text: str,
    *,
    purpose: Purpose | None,
    country: str,
    brand: str | None,
    stop_number: str | None,
) -> str:
    if purpose is None:
        return text
    settings = get_settings()
    frame = message_frame(
        purpose=purpose,
        country=country,
        brand=brand or settings.brand_name,
        stop_number=stop_number or settings.stop_number,
    )
    return frame.apply(text)[0]


def _visible(char: str) -> str:
    if char in _VISIBLE:
        return _VISIBLE[char]
    if not char.isprintable():
        return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
    return char


def _highlighted(analysis: Analysis) -> Text:
    forcing = {c.char for c in analysis.non_gsm}
    out = Text()
    for char in analysis.text:
        out.append(_visible(char), style="bold reverse red" if char in forcing else "")
    return out


def _money(amount: Any, currency: str) -> str:
    return f"{amount.normalize():f} {currency}"


def _report(analysis: Analysis, folded: Analysis | None) -> None:
    units = _UNIT_NAMES[analysis.encoding]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Encoding", str(analysis.encoding))
    plural = "s" if analysis.segments != 1 else ""
    grid.add_row(
        "Segments",
        f"{analysis.segments} segment{plural} ({analysis.units} {units}, "
        f"{analysis.per_segment} per segment, {analysis.characters} characters)",
    )
    if analysis.cost is not None:
        cost = analysis.cost
        grid.add_row(
            "Cost",
            f"{_money(cost.amount, cost.currency)} to {cost.country} "
            f"({_money(cost.unit_price, cost.currency)} per segment)",
        )
    console.print(grid)
    console.print(Text("Text", style="bold"))
    console.print(_highlighted(analysis))
    if analysis.non_gsm:
        console.print(Text("Characters forcing UCS-2", style="bold"))
        rows = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
        for column in ("char", "code point", "count", "at", "GSM look-alike"):
            rows.add_column(column)
        for c in analysis.non_gsm:
            if c.replacement is None:
                alike = "none"
            else:
                alike = repr(c.replacement) + (" (with --fold-accents)" if c.accent_folding else "")
            shown = ", ".join(map(str, c.positions[:8])) + (", …" if len(c.positions) > 8 else "")
            rows.add_row(
                Text(_visible(c.char)),
                f"{c.codepoint} {c.name}",
                str(len(c.positions)),
                shown,
                alike,
            )
        console.print(rows)
        smart = analysis.smart
        saved = analysis.segments - smart.segments
        line = (
            f"They cost: {analysis.segments} segment{plural} in UCS-2; with smart encoding "
            f"{smart.segments} in {smart.encoding}"
        )
        if saved > 0:
            line += f" (saves {saved} segment{'s' if saved != 1 else ''})"
        console.print(Text(line))
        if folded is not None and (
            folded.smart.segments < smart.segments or folded.smart.encoding != smart.encoding
        ):
            console.print(
                Text(
                    f"With accent folding (--fold-accents): {folded.smart.segments} segment"
                    f"{'s' if folded.smart.segments != 1 else ''} in {folded.smart.encoding}"
                )
            )
    if analysis.segments > 1:
        console.print(Text("Parts", style="bold"))
        for part in analysis.parts:
            head = Text(f"{part.index}/{part.total} ({part.units} {units}): ", style="dim")
            console.print(head + Text("".join(_visible(c) for c in part.text)))


def _inspect_one(
    text: str,
    *,
    fold_accents: bool,
    country: str,
    purpose: Purpose | None,
    brand: str | None,
    stop_number: str | None,
) -> Analysis:
    final = _frame_text(
        text, purpose=purpose, country=country, brand=brand, stop_number=stop_number
    )
    return analyze(final, fold_accents=fold_accents, country=country)


def _json_line(data: dict[str, Any], *, ascii_only: bool) -> None:
    print(json.dumps(data, ensure_ascii=ascii_only, separators=(",", ":")), flush=False)


def _inspect_lines(options: dict[str, Any]) -> int:
    """Analyse one JSON string per stdin line; return how many lines failed."""
    encoding = (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "")
    # Non-UTF-8 terminals get \\u escapes rather than a crash on the first emoji.
    ascii_only = encoding != "utf8"
    failed = 0
    stream = getattr(sys.stdin, "buffer", None)
    lines = (
        stream if stream is not None else (s.encode("utf-8", "surrogateescape") for s in sys.stdin)
    )
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        result: dict[str, Any] = {"line": number}
        try:
            try:
                value = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise ValidationError(f"line is not valid UTF-8 (byte {exc.start})") from None
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    f"line is not JSON: {exc.msg} at column {exc.colno}"
                ) from None
            if not isinstance(value, str):
                raise ValidationError(
                    f"each line must be a JSON string, not {type(value).__name__}"
                )
            result.update(_inspect_one(value, **options).to_dict())
        except TextoptError as exc:
            failed += 1
            result.update(error=exc.message, code=exc.code)
        _json_line(result, ascii_only=ascii_only)
    sys.stdout.flush()
    return failed


@app.command("inspect")
def inspect(
    text: Annotated[
        str | None, typer.Argument(help="The message text (omit with --jsonl).", show_default=False)
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the analysis as JSON.")
    ] = False,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help="Read one JSON string per line on stdin, write one JSON result per line; "
            "exit 1 if any line failed.",
        ),
    ] = False,
    fold_accents: Annotated[
        bool, typer.Option("--fold-accents", help="Let smart encoding drop accents (ê -> e).")
    ] = False,
    country: Annotated[
        str | None,
        typer.Option("--country", help="Destination country for cost and footer [default_region]."),
    ] = None,
    purpose: Annotated[
        Purpose | None,
        typer.Option("--purpose", help="Add brand and opt-out footer as a send would."),
    ] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand [brand_name].")] = None,
    stop_number: Annotated[
        str | None, typer.Option("--stop-number", help="STOP short number [stop_number].")
    ] = None,
) -> None:
    """Show the encoding, segments, cost and UCS-2 culprits of TEXT."""
    options: dict[str, Any] = {
        "fold_accents": fold_accents,
        "country": country or get_settings().default_region,
        "purpose": purpose,
        "brand": brand,
        "stop_number": stop_number,
    }
    if jsonl:
        if text is not None:
            console_err.print("[bold red]error:[/] give TEXT or --jsonl, not both")
            raise SystemExit(2)
        # SystemExit, not typer.Exit: main() runs click with standalone_mode=False, which turns
        # typer.Exit into a return value that it then drops, so the code would be lost.
        raise SystemExit(1 if _inspect_lines(options) else 0)
    if text is None:
        console_err.print("[bold red]error:[/] missing TEXT (or use --jsonl)")
        raise SystemExit(2)
    try:
        analysis = _inspect_one(text, **options)
        folded = None
        if not fold_accents and analysis.non_gsm:
            folded = analyze(analysis.text, fold_accents=True)
        if json_output:
            print_json(analysis.to_dict())
        else:
            _report(analysis, folded)
    except TextoptError as exc:
        console_err.print(Text.assemble(("error: ", "bold red"), exc.message))
        raise SystemExit(2) from None


def _instant(value: str | None, field: str) -> dt.datetime | None:
    return parse_instant(value, field=field) if value is not None else None


@app.command("list")
def list_command(
    contact: Annotated[int | None, typer.Option(help="A contact's id")] = None,
    phone: Annotated[str | None, typer.Option(help="The contact with this number")] = None,
    email: Annotated[str | None, typer.Option(help="The contact with this address")] = None,
    campaign: Annotated[int | None, typer.Option(help="A campaign's id")] = None,
    one_off: Annotated[
        bool | None, typer.Option("--one-off/--campaigns", help="One-off messages or campaigns'")
    ] = None,
    status: Annotated[MessageStatus | None, typer.Option(help="A state")] = None,
    channel: Annotated[Channel | None, typer.Option(help="sms or email")] = None,
    purpose: Annotated[Purpose | None, typer.Option(help="marketing or transactional")] = None,
    created_since: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    created_until: Annotated[str | None, typer.Option(help="ISO 8601, exclusive")] = None,
    updated_since: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    updated_until: Annotated[str | None, typer.Option(help="ISO 8601, exclusive")] = None,
    limit: Annotated[int, typer.Option(help="Page size", min=1, max=500)] = 50,
    after: Annotated[int | None, typer.Option(help="The `next` of the previous page")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {items, next}")] = False,
) -> None:
    """List messages by id, a page at a time, like `GET /v1/messages`."""
    where = listing.MessageFilter(
        contact_id=contact,
        phone=phone,
        email=email,
        campaign_id=campaign,
        one_off=one_off,
        status=status,
        channel=channel,
        purpose=purpose,
        created_since=_instant(created_since, "created_since"),
        created_until=_instant(created_until, "created_until"),
        updated_since=_instant(updated_since, "updated_since"),
        updated_until=_instant(updated_until, "updated_until"),
    )
    with session() as s:
        page = listing.list_messages(
            s, where=where, after=after, limit=limit, default_region=get_settings().default_region
        )
        rows = [listing.message_fields(m) for m in page.messages]
    following = str(page.next_after) if page.next_after is not None else None
    if as_json:
        print_json({"items": rows, "next": following})
        return
    table = Table(title=f"{len(rows)} message(s)")
    for column in ("id", "campaign", "to", "channel", "purpose", "status", "reason", "created"):
        table.add_column(
            column,
            justify="right" if column in ("id", "campaign") else "left",
            no_wrap=column == "created",
        )
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["campaign"] or ""),
            row["to"] or "",
            row["channel"],
            row["purpose"],
            row["status"],
            row["reason"] or "",
            human_instant(row["created_at"], seconds=False),
        )
    console.print(table, highlight=False)
    if following is not None:
        console.print(f"next page: --after {following}", style="dim")
