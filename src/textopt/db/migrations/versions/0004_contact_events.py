"""Contact events: what happened around a contact, for segments and flows

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import textopt.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "contact_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("properties", json, nullable=False),
        sa.Column("occurred_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_events_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_contact_events_idempotency_key")),
    )
    with op.batch_alter_table("contact_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_events_contact_type_time",
            ["contact_id", "type", "occurred_at"],
            unique=False,
        )
        batch_op.create_index("ix_contact_events_type_time", ["type", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_events", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_events_type_time")
        batch_op.drop_index("ix_contact_events_contact_type_time")
    op.drop_table("contact_events")
