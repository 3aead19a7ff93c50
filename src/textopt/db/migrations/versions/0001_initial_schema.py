"""Initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import textopt.db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_TRIGGERS = {
    "sqlite": [
        """CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
           BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END""",
        """CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
           BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
           LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'consent_events is append-only'; END $$""",
        """CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
           ON consent_events FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only()""",
    ],
}


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "consent_ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_ledger_head")),
    )
    op.create_table(
        "consent_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_texts")),
        sa.UniqueConstraint("version", name=op.f("uq_consent_texts_version")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_type", sa.String(length=24), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column(
            "timezones",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_customer", sa.Boolean(), nullable=False),
        sa.Column("email_bounces", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "email_undeliverable_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("phone", name=op.f("uq_contacts_phone")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_email"), ["email"], unique=False)

    op.create_table(
        "number_failures",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("last_code", sa.String(length=32), nullable=True),
        sa.Column("last_provider", sa.String(length=64), nullable=True),
        sa.Column("last_message_id", sa.Integer(), nullable=True),
        sa.Column("last_failure_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undeliverable_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_number_failures")),
    )
    with op.batch_alter_table("number_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_number_failures_undeliverable",
            ["digest"],
            unique=False,
            sqlite_where=sa.text("undeliverable_at IS NOT NULL"),
            postgresql_where=sa.text("undeliverable_at IS NOT NULL"),
        )

    op.create_table(
        "orphan_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("provider_message_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("stat", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orphan_receipts")),
    )
    with op.batch_alter_table("orphan_receipts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orphan_receipts_provider_id", ["provider", "provider_message_id"], unique=False
        )

    op.create_table(
        "rate_buckets",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("updated_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "signup_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("consent_text_version", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "countries",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_lists")),
        sa.UniqueConstraint("slug", name=op.f("uq_signup_lists_slug")),
    )
    op.create_table(
        "sms_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("part_id", sa.String(length=100), nullable=False),
        sa.Column("message_key", sa.String(length=100), nullable=False),
        sa.Column("part_index", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("stat", sa.String(length=12), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_parts")),
    )
    with op.batch_alter_table("sms_parts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_parts_account_created", ["account", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_sms_parts_account_message", ["account", "message_key"], unique=False
        )
        batch_op.create_index("ix_sms_parts_account_part", ["account", "part_id"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint(
            "digest", "channel", "reason", name=op.f("uq_suppressions_digest_channel_reason")
        ),
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suppressions_digest"), ["digest"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("secret_salt", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_api_keys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["api_keys.id"],
            name=op.f("fk_api_keys_parent_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_keys_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("channels", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("brand_name", sa.String(length=100), nullable=False),
        sa.Column("sender_id", sa.String(length=32), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("email_subject", sa.String(length=300), nullable=True),
        sa.Column("email_template", sa.Text(), nullable=True),
        sa.Column("email_text_template", sa.Text(), nullable=True),
        sa.Column("email_from", sa.String(length=320), nullable=True),
        sa.Column("email_provider", sa.String(length=64), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("audience_filter", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("send_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("validity_hours", sa.Integer(), nullable=False),
        sa.Column("throughput", sa.Double(), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("smart_encoding", sa.Boolean(), nullable=False),
        sa.Column("fold_accents", sa.Boolean(), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("launched_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_campaigns_segment_id_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consent_text_version", sa.String(length=64), nullable=True),
        sa.Column("proof_digest", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_consent_events_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_consent_events_hash")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_events_contact", ["contact_id", "channel", "purpose"], unique=False
        )

    op.create_table(
        "contact_tags",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_tags_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "tag", name=op.f("pk_contact_tags")),
    )
    with op.batch_alter_table("contact_tags", schema=None) as batch_op:
        batch_op.create_index("ix_contact_tags_tag", ["tag"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_webhook_deliveries_endpoint", ["endpoint_id", "id"], unique=False)

    op.create_table(
        "consent_proofs",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_proofs_event_id_consent_events"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_consent_proofs")),
    )
    op.create_table(
        "consent_state",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("since", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_consent_state_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_state_event_id_consent_events"),
        ),
        sa.PrimaryKeyConstraint("contact_id", "channel", "purpose", name=op.f("pk_consent_state")),
    )
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_link_codes_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_link_codes_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
        sa.UniqueConstraint(
            "campaign_id",
            "contact_id",
            "url",
            name=op.f("uq_link_codes_campaign_id_contact_id_url"),
        ),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("sender", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("pack", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("deferred", sa.Boolean(), nullable=False),
        sa.Column("send_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("provider_message_id", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_messages_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_messages_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "campaign_id",
            "contact_id",
            "channel",
            name=op.f("uq_messages_campaign_id_contact_id_channel"),
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_messages_idempotency_key")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_contact_time", ["contact_id", "send_at"], unique=False)
        batch_op.create_index("ix_messages_created", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_messages_due",
            ["provider", "send_at", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('planned', 'queued')"),
            postgresql_where=sa.text("status IN ('planned', 'queued')"),
        )
        batch_op.create_index(
            "ix_messages_open",
            ["campaign_id"],
            unique=False,
            sqlite_where=sa.text("status IN ('planned', 'queued', 'sending')"),
            postgresql_where=sa.text("status IN ('planned', 'queued', 'sending')"),
        )
        batch_op.create_index(
            "ix_messages_provider_id",
            ["provider", "provider_message_id"],
            unique=False,
            sqlite_where=sa.text("provider_message_id IS NOT NULL"),
            postgresql_where=sa.text("provider_message_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_messages_sending",
            ["lease_until"],
            unique=False,
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        )

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_attempts_delivery", ["delivery_id", "id"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_idempotency_records_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_records")),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_records_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_idempotency_records_message_id"), ["message_id"], unique=False
        )

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("provider_message_id", sa.String(length=100), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("keyword", sa.String(length=12), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=True),
        sa.Column("consent_event_id", sa.Integer(), nullable=True),
        sa.Column("reply_message_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", textopt.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_event_id"],
            ["consent_events.id"],
            name=op.f("fk_inbound_messages_consent_event_id_consent_events"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_inbound_messages_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["reply_message_id"],
            ["messages.id"],
            name=op.f("fk_inbound_messages_reply_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint(
            "provider",
            "provider_message_id",
            name=op.f("uq_inbound_messages_provider_provider_message_id"),
        ),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_messages_contact", ["contact_id", "received_at"], unique=False
        )
        batch_op.create_index(
            "ix_inbound_messages_pending",
            ["id"],
            unique=False,
            sqlite_where=sa.text("handled_at IS NULL"),
            postgresql_where=sa.text("handled_at IS NULL"),
        )

    op.create_table(
        "link_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_agent_hash", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["code"],
            ["link_codes.code"],
            name=op.f("fk_link_clicks_code_link_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_clicks")),
    )
    with op.batch_alter_table("link_clicks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_link_clicks_campaign", ["campaign_id", "contact_id"], unique=False
        )

    op.create_table(
        "message_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_events_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_events")),
    )
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.create_index("ix_message_events_message", ["message_id", "id"], unique=False)

    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("consent_event_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", textopt.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_event_id"],
            ["consent_events.id"],
            name=op.f("fk_signups_consent_event_id_consent_events"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_signups_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["signup_lists.id"],
            name=op.f("fk_signups_list_id_signup_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_signups_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signups")),
    )
    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signups_contact_id"), ["contact_id"], unique=False)

    # The consent ledger is append-only, enforced by the database itself.
    for statement in LEDGER_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signups_contact_id"))

    op.drop_table("signups")
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.drop_index("ix_message_events_message")

    op.drop_table("message_events")
    with op.batch_alter_table("link_clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_link_clicks_campaign")

    op.drop_table("link_clicks")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_inbound_messages_pending",
            sqlite_where=sa.text("handled_at IS NULL"),
            postgresql_where=sa.text("handled_at IS NULL"),
        )
        batch_op.drop_index("ix_inbound_messages_contact")

    op.drop_table("inbound_messages")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_message_id"))
        batch_op.drop_index(batch_op.f("ix_idempotency_records_created_at"))

    op.drop_table("idempotency_records")
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempts_delivery")

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_messages_sending",
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        )
        batch_op.drop_index(
            "ix_messages_provider_id",
            sqlite_where=sa.text("provider_message_id IS NOT NULL"),
            postgresql_where=sa.text("provider_message_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_messages_open",
            sqlite_where=sa.text("status IN ('planned', 'queued', 'sending')"),
            postgresql_where=sa.text("status IN ('planned', 'queued', 'sending')"),
        )
        batch_op.drop_index(
            "ix_messages_due",
            sqlite_where=sa.text("status IN ('planned', 'queued')"),
            postgresql_where=sa.text("status IN ('planned', 'queued')"),
        )
        batch_op.drop_index("ix_messages_created")
        batch_op.drop_index("ix_messages_contact_time")

    op.drop_table("messages")
    op.drop_table("link_codes")
    op.drop_table("consent_state")
    op.drop_table("consent_proofs")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_endpoint")
        batch_op.drop_index("ix_webhook_deliveries_due")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))

    op.drop_table("login_sessions")
    with op.batch_alter_table("contact_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_tags_tag")

    op.drop_table("contact_tags")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_contact")

    op.drop_table("consent_events")
    op.drop_table("campaigns")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_parent_id"))
        batch_op.drop_index(batch_op.f("ix_api_keys_created_by"))

    op.drop_table("api_keys")
    op.drop_table("webhook_endpoints")
    op.drop_table("users")
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppressions_digest"))

    op.drop_table("suppressions")
    with op.batch_alter_table("sms_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_parts_account_part")
        batch_op.drop_index("ix_sms_parts_account_message")
        batch_op.drop_index("ix_sms_parts_account_created")

    op.drop_table("sms_parts")
    op.drop_table("signup_lists")
    op.drop_table("segments")
    op.drop_table("rate_buckets")
    with op.batch_alter_table("orphan_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_orphan_receipts_provider_id")

    op.drop_table("orphan_receipts")
    with op.batch_alter_table("number_failures", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_number_failures_undeliverable",
            sqlite_where=sa.text("undeliverable_at IS NOT NULL"),
            postgresql_where=sa.text("undeliverable_at IS NOT NULL"),
        )

    op.drop_table("number_failures")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_email"))
        batch_op.drop_index(batch_op.f("ix_contacts_country"))

    op.drop_table("contacts")
    op.drop_table("consent_texts")
    op.drop_table("consent_ledger_head")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_target")

    op.drop_table("audit_log")
