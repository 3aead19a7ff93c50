"""Conversations: a thread per person for the inbox, and the replies the team wrote

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import textopt.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create both tables; the conversations of messages received before open with the next
    message of each person (the messages themselves are all kept and shown)."""
    instant = textopt.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("unread_count", sa.Integer(), nullable=False),
        sa.Column("last_inbound_at", instant, nullable=False),
        sa.Column("last_activity_at", instant, nullable=False),
        sa.Column("read_at", instant, nullable=True),
        sa.Column("closed_at", instant, nullable=True),
        sa.Column("created_at", instant, nullable=False),
        sa.Column("updated_at", instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"],
            ["users.id"],
            name=op.f("fk_conversations_assigned_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_conversations_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("party", name=op.f("uq_conversations_party")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversations_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_state_activity", ["state", "last_activity_at"], unique=False
        )
    op.create_table(
        "conversation_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_replies_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_conversation_replies_message_id_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_conversation_replies_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_replies")),
        sa.UniqueConstraint("message_id", name=op.f("uq_conversation_replies_message_id")),
    )
    with op.batch_alter_table("conversation_replies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_replies_conversation_id"),
            ["conversation_id"],
            unique=False,
        )


def downgrade() -> None:
    """Drop both tables; the messages stay in `inbound_messages` and `messages`."""
    op.drop_table("conversation_replies")
    op.drop_table("conversations")
