"""ASGI middleware: one JSON access-log line per request, and request metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics, route_group

log = logging.getLogger("parita.access")


class AccessLog:
    """Times each HTTP request, logs it as JSON to `parita.access`, and feeds `Metrics`."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        info: dict[str, Any] = {"status": 500, "bytes": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
            elif message["type"] == "http.response.body":
                info["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - start
            self.metrics.observe(scope["method"], route_group(scope["path"]), info["status"], seconds)
            headers = dict(scope.get("headers") or [])
            log.info(
                json.dumps(
                    {
                        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                        "method": scope["method"],
                        "path": scope["path"],
                        "query": scope.get("query_string", b"").decode("latin-1")[:500],
                        "status": info["status"],
                        "bytes": info["bytes"],
                        "ms": round(seconds * 1000, 2),
                        "client": (scope.get("client") or ("-",))[0],
                        "ua": headers.get(b"user-agent", b"").decode("latin-1")[:200],
                    },
                    ensure_ascii=False,
                )
            )


def configure_logging() -> None:
    """Send `parita.*` logs to stderr as bare lines (the access lines are JSON already)."""
    logger = logging.getLogger("parita")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
