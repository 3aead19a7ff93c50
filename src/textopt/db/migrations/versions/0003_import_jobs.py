"""Import jobs: the dashboard's imports run in the background with their progress

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import textopt.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_token", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("mapping", json, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("result", json, nullable=True),
        sa.Column("has_rejects", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("started_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
        sa.UniqueConstraint("upload_token", name=op.f("uq_import_jobs_upload_token")),
    )


def downgrade() -> None:
    op.drop_table("import_jobs")
