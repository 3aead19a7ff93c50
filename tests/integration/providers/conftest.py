"""The node SMSC, started once per module and reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.factories.smsc import Smsc, running_smsc


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
