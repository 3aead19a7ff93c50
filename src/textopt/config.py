"""Configuration: environment variables `TEXTOPT_*` over an optional TOML file over defaults.

The TOML file is flat (`database_url = "..."`) and may be named by `--config` or
`TEXTOPT_CONFIG`. Environment variables win over the file. Secrets are never stored in the
database: the secret key comes from `TEXTOPT_SECRET_KEY` or a key file (created with mode
0600 on first use next to the default database).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from textopt.errors import ConfigError

__all__ = [
    "DEFAULT_PUBLIC_BASE_URL",
    "Settings",
    "get_settings",
    "load_settings",
    "reset_settings",
]

ENV_PREFIX = "TEXTOPT_"
# Where links point when no public address is configured and no server says where it listens.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


class Settings(BaseModel):
    """Every setting textopt reads, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = "sqlite:///textopt.db"
    default_region: str = Field(default="FR", description="Region for national-format numbers")
    secret_key: str | None = Field(default=None, description="Key for hashing suppressed numbers")
    secret_file: str = "textopt.secret"
    import_batch_size: int = Field(default=5000, ge=1)
    workspace_timezone: str = "Europe/Paris"
    brand_name: str = "textopt demo"
    stop_number: str = "36111"
    # Workspace frequency caps for marketing (None: no workspace cap; packs still apply).
    max_marketing_per_day: int | None = Field(default=1, ge=0)
    max_marketing_per_30_days: int | None = Field(default=4, ge=0)
    caps_across_channels: bool = False
    # The workspace's own rules on top of every pack, never looser than its legal minimum:
    # a later start / earlier end of the daily window ("09:00"), allowed weekdays
    # (["mon", ..., "fri"]), no marketing on the recipient's public holidays, and whole-pack
    # overrides in a pack file's shape, e.g. {"FR": {"hours": {"end": "19:00"}}}.
    policy_earliest: str | None = None
    policy_latest: str | None = None
    policy_days: list[str] | None = None
    policy_block_holidays: bool = False
    policy_packs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Provider accounts by name: {"sandbox": {"kind": "sandbox", "rate": 200}, ...}.
    providers: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"sandbox": {"kind": "sandbox"}}
    )
    default_provider: str = "sandbox"
    # Dispatcher: messages per claim, lease of a claimed message, attempts before failing.
    dispatch_batch_size: int = Field(default=500, ge=1)
    dispatch_lease_seconds: float = Field(default=120.0, gt=0)
    # claimed batches a worker keeps on the wire at once: the window never drains between two
    dispatch_batches_in_flight: int = Field(default=2, ge=1, le=8)
    dispatch_max_attempts: int = Field(default=6, ge=1)
    # Threads of a dispatcher process that run its database work, on PostgreSQL (SQLite takes
    # one writer at a time: always one there). None: one per worker, at least two.
    dispatch_database_threads: int | None = Field(default=None, ge=1, le=32)
    # Receipts: how long the network may try an SMS that carries no expiry, and how late its
    # receipt may still come after that; a submitted SMS without one by then ends `unknown`.
    receipt_validity_hours: float = Field(default=48.0, gt=0)
    receipt_grace_hours: float = Field(default=24.0, ge=0)
    # Failover: an account is in outage after this many temporary errors in a row (or one
    # failed connection); its due messages then move to its `fallback` accounts until
    # the cool-down has passed and it is tried again.
    failover_after_errors: int = Field(default=5, ge=1)
    failover_cooldown_seconds: float = Field(default=60.0, gt=0)
    # Provider feedback on SMS (dispatch.feedback), codes by provider kind or account name
    # (the name wins): errors that mean "this number will never work", of which this many in
    # a row make the number undeliverable, and errors that mean "the person opted out at the
    # provider" (a revocation and a suppression at once). Kept short on purpose: a code
    # that can be temporary would stop a working number (docs/providers.md).
    sms_undeliverable_limit: int = Field(default=2, ge=1)
    sms_undeliverable_codes: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "twilio": ["21211", "21614", "30005", "30006"],
            "smpp": ["0x0B", "3:1"],
        }
    )
    sms_opt_out_codes: dict[str, list[str]] = Field(default_factory=lambda: {"twilio": ["21610"]})
    # Inbound: the HELP reply (None: built from brand, support contact and caps), the
    # support contact it names, and how old a signed webhook may be (replays are refused).
    help_text: str | None = None
    support_contact: str | None = None
    webhook_max_age_seconds: int = Field(default=300, ge=1)
    # Email: the public address of unsubscribe links, the From address (the brand is its
    # name), the price of one email, permanent failures before an address is undeliverable
    # (a 5.1.x "no such user" counts at once), and the account used when a campaign names none
    # (None: the first account whose channel is email). The public address unset: the
    # address `textopt serve` listens on, else DEFAULT_PUBLIC_BASE_URL (see `base_url`).
    public_base_url: str | None = None
    email_from_address: str = "newsletter@example.com"
    email_unsubscribe_mailto: str | None = None  # also offered in List-Unsubscribe
    email_price: float = Field(default=0.0, ge=0)
    email_bounce_limit: int = Field(default=3, ge=1)
    default_email_provider: str | None = None
    # Web and API: sessions, uploads, request limits of public routes (per client IP).
    session_hours: float = Field(default=12.0, gt=0)
    cookie_secure: bool = True  # False only for plain-HTTP development off localhost
    max_upload_mb: float = Field(default=50.0, gt=0)
    # The longest message one may send, in segments (a campaign, a one-off, the claim).
    max_segments_per_message: int = Field(default=10, ge=1, le=255)
    # Failed sign-ins one account may make in a row; then one more a minute (all processes).
    login_failures_per_account: int = Field(default=5, ge=1)
    # The sender IDs the workspace registered with its providers: no other may be used.
    sender_ids: list[str] = Field(default_factory=list)
    upload_dir: str | None = None  # import uploads and rejects files; None: system temp
    # How long files holding personal data stay in upload_dir: uploads awaiting their
    # import (and exports a crash left), and rejects files offered for download.
    upload_keep_hours: float = Field(default=24.0, gt=0)
    rejects_keep_days: float = Field(default=7.0, gt=0)
    # `Idempotency-Key` of POST /v1/messages: how long a key is remembered (then forgotten).
    idempotency_window_hours: float = Field(default=24.0, gt=0)
    public_rate_per_minute: int = Field(default=60, ge=1)
    login_rate_per_minute: int = Field(default=10, ge=1)
    # Opt-in form against SMS pumping: countries, per-prefix and global confirmation caps.
    optin_countries: list[str] | None = None  # None: only `default_region`
    optin_ip_per_hour: int = Field(default=5, ge=1)
    optin_prefix_per_hour: int = Field(default=3, ge=1)
    optin_confirmations_per_hour: int = Field(default=100, ge=1)
    # Web dashboard: its language when the browser states no preference (fr or en).
    web_language: str = Field(default="fr", pattern="^(fr|en)$")
    # Tracked links: short links are `https://{link_domain}/{code}` (None: the server's own
    # `{public_base_url}/l/{code}`); the domain must point at `textopt serve`.
    link_domain: str | None = None
    # Outbound webhooks: attempts before a delivery is given up, and the request timeout.
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Networks webhooks may reach besides public addresses (CIDR, e.g. ["10.0.4.0/24"]);
    # loopback, private, link-local and metadata addresses are refused unless listed here.
    webhook_allowed_networks: list[str] = Field(default_factory=list)

    @field_validator("default_region")
    @classmethod
    def _upper_region(cls, value: str) -> str:
        return value.upper()

    @field_validator("optin_countries", mode="before")
    @classmethod
    def _countries(cls, value: Any) -> Any:
        if isinstance(value, str):  # TEXTOPT_OPTIN_COUNTRIES=FR,BE
            value = [part for part in value.replace(" ", "").split(",") if part]
        return [str(c).upper() for c in value] if value is not None else None

    @field_validator("webhook_allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):  # TEXTOPT_WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32,10.0.4.0/24
            value = [part for part in value.replace(" ", "").split(",") if part]
        for network in value or []:
            ipaddress.ip_network(str(network), strict=False)  # a ValueError names it
        return [str(n) for n in value or []]

    @field_validator("sender_ids", mode="before")
    @classmethod
    def _sender_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # TEXTOPT_SENDER_IDS=LUMIERE,+33612345678
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("providers", "sms_undeliverable_codes", "sms_opt_out_codes", mode="before")
    @classmethod
    def _providers_from_json(cls, value: Any) -> Any:
        # The environment can only carry text: TEXTOPT_PROVIDERS (and the code tables) is JSON.
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("max_marketing_per_day", "max_marketing_per_30_days", mode="before")
    @classmethod
    def _none_word(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.lower() in ("none", "") else value

    def base_url(self) -> str:
        """The address links point at: `public_base_url`, else the default serving address."""
        return (self.public_base_url or DEFAULT_PUBLIC_BASE_URL).rstrip("/")

    def resolved_secret_key(self) -> bytes:
        """The secret key: from settings, else the key file, created on first use."""
        if self.secret_key:
            return self.secret_key.encode()
        path = Path(self.secret_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    names = set(Settings.model_fields)
    values: dict[str, Any] = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name in names:
                values[name] = value
    return values


def load_settings(
    config_file: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Build settings from defaults, then the TOML file, then the environment."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or env.get("TEXTOPT_CONFIG")
    if path:
        try:
            with open(path, "rb") as handle:
                values.update(tomllib.load(handle))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path}: {exc}") from exc
    values.update(_from_env(env))
    try:
        return Settings(**values)
    except Exception as exc:  # pydantic's error names the field
        raise ConfigError(f"invalid configuration: {exc}") from exc


_override: Settings | None = None


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return load_settings()


def get_settings() -> Settings:
    """The settings in force for this process."""
    return _override if _override is not None else _cached()


def reset_settings(settings: Settings | None = None) -> None:
    """Replace the process settings (the CLI's `--config`, and tests)."""
    global _override
    _override = settings
    _cached.cache_clear()
