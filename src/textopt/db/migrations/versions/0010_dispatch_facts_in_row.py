"""The message row holds its last claim and submission (`claimed_at`, `row_facts_after`)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import textopt.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two columns, NULL for every existing message.

    NULL `row_facts_after` means the row holds no step: the histories written so far stay
    their event rows, read as before, and nothing is shown twice.
    """
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("row_facts_after", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Write the steps the rows hold out as event rows, then drop the columns.

    A held claim comes before a held submission; both go after the message's other event
    rows (ids are not renumbered: a receipt recorded after a held submission is listed
    before it by the older code).
    """
    bind = op.get_bind()
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("claimed_at", textopt.db.base.UTCDateTime(timezone=True)),
        sa.column("claimed_by", sa.String),
        sa.column("submitted_at", textopt.db.base.UTCDateTime(timezone=True)),
        sa.column("provider_message_id", sa.String),
        sa.column("row_facts_after", sa.BigInteger),
    )
    events = sa.table(
        "message_events",
        sa.column("message_id", sa.Integer),
        sa.column("at", textopt.db.base.UTCDateTime(timezone=True)),
        sa.column("status", sa.String),
        sa.column("detail", textopt.db.base.JSONType),
    )
    held = bind.execute(
        sa.select(messages).where(messages.c.row_facts_after.is_not(None)).order_by(messages.c.id)
    ).all()
    steps: list[dict[str, object]] = []
    for row in held:
        if row.claimed_at is not None:
            steps.append(
                {
                    "message_id": row.id,
                    "at": row.claimed_at,
                    "status": "sending",
                    "detail": {"worker": row.claimed_by},
                }
            )
        if row.submitted_at is not None:
            steps.append(
                {
                    "message_id": row.id,
                    "at": row.submitted_at,
                    "status": "submitted",
                    "detail": {
                        "outcome": "accepted",
                        "worker": row.claimed_by,
                        "provider_message_id": row.provider_message_id,
                    },
                }
            )
    for start in range(0, len(steps), 10_000):
        bind.execute(sa.insert(events), steps[start : start + 10_000])
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("row_facts_after")
        batch_op.drop_column("claimed_at")
