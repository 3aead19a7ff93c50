"""A person's own frequency limit on the consent state (the preference centre)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `consent_state.frequency`: no ledger holds a limit yet, so every row is NULL."""
    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frequency", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Drop the column; the ledger keeps the limits, `consent rebuild` restores them."""
    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.drop_column("frequency")
