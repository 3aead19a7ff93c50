"""The outbox row is spelled once: every positional form matches the spec."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast, get_args, get_type_hints

import pytest
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from textopt.outbox import rows
from textopt.outbox.models import Message
from textopt.outbox.rows import (
    EMAIL_COLUMNS,
    OUTBOX_COLUMNS,
    DecisionColumns,
    EmailParts,
    OutboxRow,
    StoredInstant,
)
from textopt.outbox.writers import (
    CLASS_COLUMNS,
    TEXT_COLUMNS,
    ClassRow,
    FastInsert,
    StoredInstants,
)

MESSAGES = cast(Table, Message.__table__)


def _types(spec: type) -> list[Any]:
    return list(get_type_hints(spec, vars(rows)).values())


def test_the_plain_row_types_are_the_spec_field_by_field() -> None:
    assert list(get_args(rows.SmsRow)) == _types(OutboxRow)
    assert list(get_args(rows.EmailRow)) == _types(OutboxRow) + _types(EmailParts)
    assert list(get_args(rows.StoredDecision)) == [
        StoredInstant | None if t == dt.datetime | None else t for t in _types(DecisionColumns)
    ]
    assert list(get_args(ClassRow)) == [int, *get_args(rows.StoredDecision)]


def test_every_spec_column_is_a_column_of_the_outbox() -> None:
    assert set(EMAIL_COLUMNS) <= set(MESSAGES.c.keys())
    for name, hint in get_type_hints(OutboxRow, vars(rows)).items():
        nullable = type(None) in get_args(hint)
        assert not nullable or MESSAGES.c[name].nullable, name


def test_a_decision_writes_a_run_of_the_row_and_texts_another() -> None:
    start = OUTBOX_COLUMNS.index(CLASS_COLUMNS[0])
    assert OUTBOX_COLUMNS[start : start + len(CLASS_COLUMNS)] == CLASS_COLUMNS
    assert set(TEXT_COLUMNS) <= set(OUTBOX_COLUMNS)


def test_the_fast_insert_selects_every_column_in_the_spec_order() -> None:
    constants = {
        "campaign_id": 1,
        "channel": "sms",
        "purpose": "marketing",
        "sender": None,
        "expires_at": "e",
        "decided_at": "d",
        "provider": "sandbox",
        "idempotency_key": "c1-",
        "attempts": 0,
        "created_at": "c",
        "updated_at": "u",
    }
    fast = FastInsert(marker="?", multirow_limit=999, constants=constants)
    assert len(fast.select_list.split(", ")) == len(OUTBOX_COLUMNS)
    assert fast.constants == tuple(constants.values())
    with pytest.raises(ValueError, match="no value for the outbox column provider"):
        FastInsert(
            marker="?",
            multirow_limit=999,
            constants={k: v for k, v in constants.items() if k != "provider"},
        )
    with pytest.raises(ValueError, match="columns the outbox lacks"):
        FastInsert(marker="?", multirow_limit=999, constants={**constants, "colour": "red"})


def test_stored_instants_are_what_the_orm_stores_and_refuse_naive_ones() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    on_sqlite = StoredInstants(sqlite.dialect())
    assert on_sqlite(dt.datetime(2026, 11, 25, 10, 0, tzinfo=paris)) == "2026-11-25 09:00:00.000000"
    on_postgres = StoredInstants(postgresql.psycopg.dialect())
    assert on_postgres(dt.datetime(2026, 11, 25, 10, 0, tzinfo=paris)) == dt.datetime(
        2026, 11, 25, 9, 0, tzinfo=dt.UTC
    )
    with pytest.raises(ValueError, match="needs an aware datetime"):
        on_sqlite(dt.datetime(2026, 11, 25, 10, 0))
