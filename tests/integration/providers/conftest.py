"""The node SMSC, started once per module and reset before each test; settings that use it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.servers.smsc import Smsc, running_smsc, smpp_account

from textopt.config import Settings, reset_settings


@pytest.fixture(scope="module")
def smsc_server() -> Iterator[Smsc]:
    """One node SMSC process for the module."""
    with running_smsc() as smsc:
        yield smsc


@pytest.fixture
def smsc(smsc_server: Smsc) -> Smsc:
    """The SMSC with the default scenario and nothing seen yet."""
    smsc_server.drop()
    smsc_server.reset()
    return smsc_server


@pytest.fixture
def smpp_settings(
    settings: Settings, smsc: Smsc, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings whose only SMS account is the node SMSC."""
    account = smpp_account(smsc, database_url=settings.database_url)
    values = settings.model_copy(
        update={
            "providers": {"smsc": account},
            "default_provider": "smsc",
            "brand_name": "Boutique",
        }
    )
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(values.providers))
    monkeypatch.setenv("TEXTOPT_DEFAULT_PROVIDER", "smsc")
    reset_settings(values)
    yield values
    reset_settings(settings)
