"""The workspace's own policy rules, read from the settings the caller holds."""

from __future__ import annotations

import datetime as dt

from textopt.config import Settings
from textopt.errors import ConfigError
from textopt.policy import WorkspacePolicy, customise_pack, get_pack

__all__ = ["workspace_policy"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(value: str | None, name: str) -> dt.time | None:
    if value is None:
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {value!r} is not a time such as 09:00") from exc


def workspace_policy(settings: Settings) -> WorkspacePolicy:
    """The workspace's own policy rules from the settings (stricter than the packs only)."""
    days = None
    if settings.policy_days is not None:
        unknown = [d for d in settings.policy_days if d.lower()[:3] not in _WEEKDAYS]
        if unknown:
            raise ConfigError(f"policy_days: {unknown[0]!r} is not a weekday (mon ... sun)")
        days = frozenset(_WEEKDAYS.index(d.lower()[:3]) for d in settings.policy_days)
    packs = tuple(
        customise_pack(get_pack(name), overrides)  # refuses anything looser than the law
        for name, overrides in sorted(settings.policy_packs.items())
    )
    return WorkspacePolicy(
        max_per_day=settings.max_marketing_per_day,
        max_per_30_days=settings.max_marketing_per_30_days,
        caps_across_channels=settings.caps_across_channels,
        earliest=_clock(settings.policy_earliest, "policy_earliest"),
        latest=_clock(settings.policy_latest, "policy_latest"),
        days=days,
        block_holidays=settings.policy_block_holidays,
        packs=packs,
        default_timezone=settings.workspace_timezone,
        max_segments=settings.max_segments_per_message,
    )
