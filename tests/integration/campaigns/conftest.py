"""Fixtures for campaign and dispatch tests: a fast sandbox that journals every acceptance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from textopt.config import Settings, reset_settings


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """Where the sandbox writes each acceptance (to count duplicates)."""
    return tmp_path / "sandbox.jsonl"


@pytest.fixture
def campaign_settings(settings: Settings, journal: Path) -> Iterator[Settings]:
    """Settings with a fast, failure-free sandbox that journals every acceptance."""
    sandbox = {
        "kind": "sandbox",
        "rate": 10_000,
        "receipt_delay": 0.01,
        "failure_rate": 0,
        "expiry_rate": 0,
        "journal": str(journal),
    }
    values = settings.model_copy(
        update={"providers": {"sandbox": sandbox}, "brand_name": "Boutique"}
    )
    reset_settings(values)
    yield values
    reset_settings(settings)
