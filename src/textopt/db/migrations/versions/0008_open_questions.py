"""Questions a message asks (an appointment to confirm or cancel) and their answers

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import textopt.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNANSWERED = sa.text("answered_at IS NULL")


def upgrade() -> None:
    instant = textopt.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("asked_at", instant, nullable=False),
        sa.Column("expires_at", instant, nullable=False),
        sa.Column("answered_at", instant, nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("inbound_message_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_questions_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["contact_events.id"],
            name=op.f("fk_questions_event_id_contact_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_messages.id"],
            name=op.f("fk_questions_inbound_message_id_inbound_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_questions_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("message_id", name=op.f("uq_questions_message_id")),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index("ix_questions_contact", ["contact_id", "id"], unique=False)
        batch_op.create_index(
            "ix_questions_open",
            ["contact_id", "asked_at"],
            unique=False,
            sqlite_where=_UNANSWERED,
            postgresql_where=_UNANSWERED,
        )


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_questions_open", sqlite_where=_UNANSWERED, postgresql_where=_UNANSWERED
        )
        batch_op.drop_index("ix_questions_contact")
    op.drop_table("questions")
