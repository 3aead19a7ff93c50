"""Workspace keywords: words the workspace answers automatically (HORAIRES)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import textopt.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYWORDED = sa.text("workspace_keyword IS NOT NULL")


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "workspace_keywords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("texts", json, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_keywords")),
        sa.UniqueConstraint("word", name=op.f("uq_workspace_keywords_word")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_keyword", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_inbound_messages_workspace_keyword",
            ["workspace_keyword", "phone", "received_at"],
            unique=False,
            sqlite_where=_KEYWORDED,
            postgresql_where=_KEYWORDED,
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_inbound_messages_workspace_keyword",
            sqlite_where=_KEYWORDED,
            postgresql_where=_KEYWORDED,
        )
        batch_op.drop_column("workspace_keyword")
    op.drop_table("workspace_keywords")
