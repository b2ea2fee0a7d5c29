"""`parita serve`: run the app under uvicorn on the configured host and port, with limits for slow clients.

uvicorn's keep-alive timeout is cancelled by any byte received, so a client that sends its headers one
byte every few seconds ("slowloris") would hold a connection for ever. `GuardedH11Protocol` gives every
request `request_timeout` seconds from the connection (or the previous response) to the end of its
headers, whatever trickles in meanwhile; the body then has its own deadline (`server/security.py`). A new
connection must send its first byte within `first_byte_timeout`, and one peer address may hold at most
`max_client_connections` connections: thousands of idle sockets from one client no longer fill
`max_connections` for everyone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .config import Settings

MAX_HEADER_BYTES = 16 * 1024  # request line + headers; larger ones get 400 from h11


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers, a shorter one for the
    first byte of a connection, and a cap on the connections one peer address holds at once: idle
    connections from one client must not use up `max_connections` for everyone."""

    header_timeout = 10.0
    first_byte_timeout = 3.0
    max_per_peer = 0  # 0: no cap
    _per_peer: dict[str, int] = {}  # replaced by a fresh dict in each configured subclass

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._peer = (transport.get_extra_info("peername") or ("?",))[0]
        self._counted = False
        if self.max_per_peer and self._per_peer.get(self._peer, 0) >= self.max_per_peer:
            transport.close()  # before any request: the client sees its connection refused, others are fine
            return
        self._per_peer[self._peer] = self._per_peer.get(self._peer, 0) + 1
        self._counted = True
        self._waiting_first_byte = True
        self._arm(min(self.first_byte_timeout, self.header_timeout))

    def data_received(self, data: bytes) -> None:
        if getattr(self, "_waiting_first_byte", False):
            self._waiting_first_byte = False
            self._arm()  # the client spoke: it now has the whole header timeout
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # headers complete: the request is being handled

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if getattr(self, "_counted", False):
            left = self._per_peer.get(self._peer, 1) - 1
            if left > 0:
                self._per_peer[self._peer] = left
            else:
                self._per_peer.pop(self._peer, None)
            self._counted = False
        super().connection_lost(exc)

    def _arm(self, seconds: float | None = None) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout if seconds is None else seconds, self._expire)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn settings `parita serve` uses (also used by `parita reliability`)."""
    protocol = type(
        "ParitaH11Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout": settings.request_timeout,
            "max_per_peer": settings.max_client_connections,
            "first_byte_timeout": settings.first_byte_timeout,
            "_per_peer": {},
        },
    )
    return {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "proxy_headers": True,
        "log_level": "info",
        "http": protocol,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "server_header": False,
    }


def serve(settings: Settings) -> None:
    """Serve the current release until interrupted (blocking)."""
    uvicorn.run(create_app(settings), **uvicorn_options(settings))
