"""Flows: versions, occurrences, the step log and the triggers' cursors

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import textopt.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("state = 'active'")


def _instant(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, textopt.db.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        _instant("activated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint("name", name=op.f("uq_flows_name")),
    )
    op.create_table(
        "flow_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", json, nullable=False),
        _instant("created_at"),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_flow_versions_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_versions")),
        sa.UniqueConstraint("flow_id", "number", name=op.f("uq_flow_versions_flow_id_number")),
    )
    op.create_table(
        "flow_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        _instant("due_at"),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        _instant("lease_until", nullable=True),
        sa.Column("trigger", json, nullable=False),
        _instant("started_at"),
        _instant("updated_at"),
        _instant("ended_at", nullable=True),
        sa.Column("exit_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_flow_runs_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_flow_runs_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["flow_versions.id"],
            name=op.f("fk_flow_runs_version_id_flow_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_runs")),
        sa.UniqueConstraint(
            "flow_id",
            "contact_id",
            "occurrence_key",
            name=op.f("uq_flow_runs_flow_id_contact_id_occurrence_key"),
        ),
    )
    with op.batch_alter_table("flow_runs", schema=None) as batch_op:
        batch_op.create_index("ix_flow_runs_contact", ["contact_id"], unique=False)
        batch_op.create_index(
            "ix_flow_runs_due",
            ["due_at"],
            unique=False,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        )
    op.create_table(
        "flow_step_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        _instant("at"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["flow_runs.id"],
            name=op.f("fk_flow_step_log_run_id_flow_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_step_log")),
    )
    with op.batch_alter_table("flow_step_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_flow_step_log_flow", ["flow_id", "version_id", "step"], unique=False
        )
        batch_op.create_index("ix_flow_step_log_run", ["run_id", "id"], unique=False)
    op.create_table(
        "flow_cursors",
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        _instant("scanned_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_flow_cursors_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flow_id", name=op.f("pk_flow_cursors")),
    )
    op.create_table(
        "flow_segment_members",
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_flow_segment_members_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_flow_segment_members_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flow_id", "contact_id", name=op.f("pk_flow_segment_members")),
    )


def downgrade() -> None:
    op.drop_table("flow_segment_members")
    op.drop_table("flow_cursors")
    with op.batch_alter_table("flow_step_log", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_step_log_run")
        batch_op.drop_index("ix_flow_step_log_flow")
    op.drop_table("flow_step_log")
    with op.batch_alter_table("flow_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_runs_due", sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.drop_index("ix_flow_runs_contact")
    op.drop_table("flow_runs")
    op.drop_table("flow_versions")
    op.drop_table("flows")
