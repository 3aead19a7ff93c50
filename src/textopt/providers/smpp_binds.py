"""An SMPP account's options and its binds: sessions that reconnect with backoff.

The first connection of each bind happens in `start` and fails loudly (wrong password, host
down): a configuration error is not something to retry forever. A connection lost later is
reopened in the background, 0.1 s, 0.2 s, 0.4 s... up to `reconnect_max` between attempts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import smpp34
from sqlalchemy import Engine

from textopt.errors import ConfigError, ProviderError
from textopt.providers.smpp_pdu import SubmitFields
from textopt.providers.smpp_session import BindMode, SessionConfig, SmppSession

__all__ = ["Bind", "SmppOptions"]

log = logging.getLogger(__name__)

_KNOWN = {
    "kind", "channel", "host", "port", "system_id", "password", "password_env", "system_type",
    "bind", "binds", "window", "rate", "multipart", "gsm_packing", "enquire_link", "timeout",
    "source_addr", "source_ton", "source_npi", "dest_ton", "dest_npi", "service_type",
    "reconnect_max", "database_url", "parts_keep_days",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SmppOptions:
    """One SMPP account's settings, checked (see docs/providers.md)."""

    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    system_type: str = ""
    bind: BindMode = BindMode.TRANSCEIVER
    binds: int = 1
    window: int = 10
    rate: float = 100.0
    multipart: str = "udh"
    gsm_packing: bool = False
    enquire_link: float = 30.0
    timeout: float = 10.0
    source_addr: str = ""
    source_ton: int | None = None
    source_npi: int | None = None
    dest_ton: int = 1
    dest_npi: int = 1
    service_type: str = ""
    reconnect_max: float = 30.0
    database_url: str | None = None
    parts_keep_days: float = 7.0  # how long a multipart message's parts wait for receipts

    @classmethod
    def parse(cls, name: str, options: Mapping[str, Any]) -> SmppOptions:
        """Options from the account's configuration table; a bad one raises `ConfigError`."""
        where = f"provider account {name!r}"
        unknown = sorted(set(options) - _KNOWN)
        if unknown:
            log.warning("%s: options %s are not SMPP options; ignored", where, unknown)

        def need(key: str) -> Any:
            if options.get(key) in (None, ""):
                raise ConfigError(f"{where}: option {key!r} is required for kind 'smpp'")
            return options[key]

        def number(key: str, default: float, *, minimum: float, integer: bool = False) -> Any:
            value = options.get(key, default)
            try:
                parsed = int(value) if integer else float(value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"{where}: option {key!r} must be a number, not {value!r}"
                ) from None
            if parsed < minimum:
                raise ConfigError(f"{where}: option {key!r} must be at least {minimum:g}")
            return parsed

        password = options.get("password")
        env_name = options.get("password_env")
        if env_name:
            password = os.environ.get(str(env_name))
            if password is None:
                raise ConfigError(
                    f"{where}: environment variable {env_name} (password_env) is not set"
                )
        if password is None:
            raise ConfigError(f"{where}: set 'password_env' (or 'password') for kind 'smpp'")
        bind = str(options.get("bind", BindMode.TRANSCEIVER)).replace("_", "+")
        if bind not in tuple(BindMode):
            raise ConfigError(
                f"{where}: option 'bind' is {bind!r}; use 'transceiver' or 'transmitter+receiver'"
            )
        multipart = str(options.get("multipart", "udh")).lower()
        if multipart not in ("udh", "sar"):
            raise ConfigError(f"{where}: option 'multipart' is {multipart!r}; use 'udh' or 'sar'")

        def ton_npi(key: str) -> int | None:
            value = options.get(key)
            return None if value is None else int(number(key, 0, minimum=0, integer=True))

        return cls(
            host=str(need("host")),
            port=number("port", 2775, minimum=1, integer=True),
            system_id=str(need("system_id")),
            password=str(password),
            system_type=str(options.get("system_type", "")),
            bind=BindMode(bind),
            binds=number("binds", 1, minimum=1, integer=True),
            window=number("window", 10, minimum=1, integer=True),
            rate=number("rate", 100, minimum=0.001),
            multipart=multipart,
            gsm_packing=bool(options.get("gsm_packing", False)),
            enquire_link=number("enquire_link", 30, minimum=0),
            timeout=number("timeout", 10, minimum=0.001),
            source_addr=str(options.get("source_addr", "")),
            source_ton=ton_npi("source_ton"),
            source_npi=ton_npi("source_npi"),
            dest_ton=number("dest_ton", 1, minimum=0, integer=True),
            dest_npi=number("dest_npi", 1, minimum=0, integer=True),
            service_type=str(options.get("service_type", "")),
            reconnect_max=number("reconnect_max", 30, minimum=0.01),
            database_url=options.get("database_url"),
            parts_keep_days=number("parts_keep_days", 7, minimum=0.01),
        )

    def session_config(self) -> SessionConfig:
        """The per-session settings; the window is spread over the binds."""
        return SessionConfig(
            host=self.host,
            port=self.port,
            system_id=self.system_id,
            password=self.password,
            system_type=self.system_type,
            window=max(1, math.ceil(self.window / self.binds)),
            timeout=self.timeout,
            enquire_link=self.enquire_link,
        )

    def source_for(self, sender: str | None) -> tuple[str, int, int]:
        """Source address with its TON/NPI: alphanumeric 5/0, international 1/1, short 3/0."""
        source = sender or self.source_addr
        if source.startswith("+"):
            ton, npi, source = 1, 1, source[1:]
        elif not source.isdigit():
            ton, npi = 5, 0
        elif len(source) <= 8:
            ton, npi = 3, 0
        else:
            ton, npi = 1, 1
        return (
            source,
            ton if self.source_ton is None else self.source_ton,
            npi if self.source_npi is None else self.source_npi,
        )

    def submit_fields(self, source_ton: int, source_npi: int) -> SubmitFields:
        """The addressing fields of a submit_sm from this account."""
        return _submit_fields(
            source_ton, source_npi, self.dest_ton, self.dest_npi, self.service_type
        )

    def engine(self) -> Engine:
        """An engine on the database that stores multipart parts (`database_url`: the
        dispatcher gives an account without one its own database)."""
        from textopt.db.engine import create_db_engine

        if not self.database_url:
            raise ConfigError(
                "SMPP account: multipart parts need a database (database_url); the "
                "dispatcher gives its own unless the account names one"
            )
        return create_db_engine(self.database_url)


_FIELDS: dict[tuple[int, int, int, int, str], SubmitFields] = {}


def _submit_fields(
    source_ton: int, source_npi: int, dest_ton: int, dest_npi: int, service_type: str
) -> SubmitFields:
    key = (source_ton, source_npi, dest_ton, dest_npi, service_type)
    fields = _FIELDS.get(key)
    if fields is None:
        fields = _FIELDS[key] = SubmitFields(*key)
    return fields


DeliverHandler = Callable[[SmppSession, smpp34.DeliverSm, int], None]


class Bind:
    """One bind of an account: a transceiver, or a transmitter and a receiver."""

    def __init__(self, options: SmppOptions, index: int, *, on_deliver: DeliverHandler) -> None:
        self.options = options
        self.index = index
        self.on_deliver = on_deliver
        self.sender: SmppSession | None = None
        self.receiver: SmppSession | None = None
        self.connects = 0  # successful binds, reconnections included
        self.last_error: str | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._reconnecting: dict[str, asyncio.Task[None]] = {}

    @property
    def ready(self) -> bool:
        """Whether submits can go out now."""
        return self.sender is not None and self.sender.bound and not self.sender.closed

    def _roles(self) -> list[str]:
        if self.options.bind is BindMode.TRANSCEIVER:
            return ["transceiver"]
        return ["transmitter", "receiver"]

    async def _open(self, role: str) -> None:
        session = SmppSession(
            self.options.session_config(),
            kind=role,
            on_deliver=self.on_deliver if role != "transmitter" else None,
            label=f"bind {self.index} {role}",
        )
        await session.open()
        if self._closing:
            await session.close()
            return
        session.on_lost = self._lost
        self.connects += 1
        if role != "receiver":
            self.sender = session
            self._ready.set()
        if role != "transmitter":
            self.receiver = session

    async def open_first(self) -> None:
        """The first connection: any failure is raised to the caller."""
        for role in self._roles():
            await self._open(role)

    async def wait_ready(self) -> None:
        """Until the sending session is bound."""
        await self._ready.wait()

    def _lost(self, session: SmppSession) -> None:
        if self._closing:
            return
        role = session.kind
        if role != "receiver":
            self._ready.clear()
        log.warning("SMPP %s: bind %d %s lost; reconnecting", self.options.host, self.index, role)
        if role not in self._reconnecting or self._reconnecting[role].done():
            self._reconnecting[role] = asyncio.get_running_loop().create_task(self._reconnect(role))

    async def _reconnect(self, role: str) -> None:
        delay = 0.1
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._open(role)
            except ProviderError as exc:
                self.last_error = exc.message
                log.warning("%s; next attempt in %.1f s", exc.message, delay * 2)
                delay = min(delay * 2, self.options.reconnect_max)
            else:
                self.last_error = None
                return

    async def close(self) -> None:
        """Stop reconnecting, unbind every session."""
        self._closing = True
        for task in self._reconnecting.values():
            task.cancel()
        sessions = {id(s): s for s in (self.sender, self.receiver) if s is not None}
        await asyncio.gather(*(s.close() for s in sessions.values()))
