"""`parita serve`: run the app under uvicorn on the configured host and port, with limits for slow clients.

uvicorn's keep-alive timeout is cancelled by any byte received, so a client that sends its headers one
byte every few seconds ("slowloris") would hold a connection for ever. `GuardedH11Protocol` gives every
request `request_timeout` seconds from the connection (or the previous response) to the end of its
headers, whatever trickles in meanwhile; the body then has its own deadline (`server/security.py`).
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
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # headers complete: the request is being handled

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

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
    protocol = type("ParitaH11Protocol", (GuardedH11Protocol,), {"header_timeout": settings.request_timeout})
    return {"host": settings.host, "port": settings.port, "access_log": False, "proxy_headers": True,
            "log_level": "info", "http": protocol, "limit_concurrency": settings.max_connections,
            "timeout_keep_alive": 5, "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
            "server_header": False}


def serve(settings: Settings) -> None:
    """Serve the current release until interrupted (blocking)."""
    uvicorn.run(create_app(settings), **uvicorn_options(settings))
