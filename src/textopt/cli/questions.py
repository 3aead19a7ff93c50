"""`textopt contacts questions`: what messages asked a contact and how the contact answered."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from textopt.cli.common import console, print_json, session
from textopt.cli.contacts import JsonOption, find_contact
from textopt.cli.display import human_instant
from textopt.db.base import utcnow
from textopt.questions.service import list_questions, question_fields

__all__ = ["questions_command"]


def questions_command(
    phone_or_id: Annotated[str, typer.Argument(help="Phone number, email address or contact id")],
    limit: Annotated[int, typer.Option(help="At most this many, the latest first", min=1)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The questions messages asked a contact (appointments to confirm or cancel by reply),
    the latest first: open, answered (and how), expired, undelivered or waiting to be sent."""
    with session() as s:
        contact = find_contact(s, phone_or_id)
        rows = [
            question_fields(view)
            for view in list_questions(s, contact_id=contact.id, now=utcnow(), limit=limit)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"contact {contact.id}: no question asked", highlight=False)
        return
    table = Table("id", "asked", "about", "message", "state")
    for row in rows:
        state = row["state"]
        if row["answer"]:
            state = f"{row['answer']} {human_instant(row['answered_at'], seconds=False)}"
        table.add_row(
            str(row["id"]),
            human_instant(row["asked_at"], seconds=False),
            escape(f"{row['kind']} {row['reference'] or ''}".strip()),
            f"{row['message_id']} {row['message_status']}",
            state,
        )
    console.print(table)
