"""Imports every domain's tables so `Base.metadata` is complete (migrations, tests)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from textopt.db.base import Base

__all__ = ["MODEL_MODULES", "load_metadata"]

#: Every module that defines tables; a new domain with tables adds itself here.
MODEL_MODULES = (
    "textopt.contacts.models",
    "textopt.consent.models",
    "textopt.campaigns.segment_models",
    "textopt.campaigns.models",
    "textopt.outbox.models",
    "textopt.dispatch.models",
    "textopt.inbound.models",
    "textopt.providers.models",
    "textopt.accounts.models",
    "textopt.webhooks.models",
    "textopt.links.models",
    "textopt.optin.models",
    "textopt.events.models",
    "textopt.flows.models",
    "textopt.questions.models",
)


def load_metadata() -> MetaData:
    """Import every table module and return the complete metadata."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
