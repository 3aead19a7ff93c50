"""Tags in lower case: `VIP` and `vip` become one tag

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(tag: str) -> str:
    # the rule of `contacts.fields.tag_key`, written out: a migration never changes with code
    return " ".join(tag.split()).lower()


def upgrade() -> None:
    """Rename each tag written with capitals; a contact holding both spellings keeps one."""
    bind = op.get_bind()
    # Distinct tags are few (the index answers); lower case is decided here, not by the
    # database (SQLite's lower() knows ASCII only).
    tags = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT tag FROM contact_tags"))]
    for tag in tags:
        key = _key(tag)
        if key == tag:
            continue
        insert = sa.text(
            "INSERT INTO contact_tags (contact_id, tag) SELECT contact_id, :key "
            "FROM contact_tags WHERE tag = :tag AND contact_id NOT IN "
            "(SELECT contact_id FROM contact_tags WHERE tag = :key)"
        ).bindparams(sa.bindparam("key", type_=sa.String()), sa.bindparam("tag", type_=sa.String()))
        bind.execute(insert, {"key": key, "tag": tag})
        bind.execute(sa.text("DELETE FROM contact_tags WHERE tag = :tag"), {"tag": tag})


def downgrade() -> None:
    """Nothing to undo: the original spellings are not kept."""
