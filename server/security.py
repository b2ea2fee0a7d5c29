"""Secure defaults applied to every request before routing, and to every response on its way out.

- Odd request targets are refused before any route sees them: a NUL or control character, a `.` or
  `..` segment, a path that is not UTF-8 or not a valid IRI path once percent-decoded (400), or one
  longer than `MAX_PATH` (414).
- Bodies are capped (`max_body_bytes`, or `submission_max_bytes` on the submission route: 413) and must
  arrive within `request_timeout` seconds (408). A body over the cap is read on up to `DRAIN_CAP` bytes
  before the 413, so the client reads the answer instead of a reset connection.
- At most `sparql_max_pending` SPARQL queries are admitted at once (running or waiting for a worker);
  more get 503 with Retry-After at once, so a flood costs neither memory nor the other routes' latency.
  One client (IP address, after the trusted proxy's X-Forwarded-For) may have `sparql_per_client` of
  them; more get 429.
- A request with both Content-Length and Transfer-Encoding is refused and its connection closed.
- Every response says `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; HTML pages
  get a Content-Security-Policy that allows only this server's own scripts, styles and images, and
  cannot be framed. https://www.w3.org/TR/CSP3/ , https://owasp.org/www-project-secure-headers/
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import unquote_to_bytes

import pyoxigraph as ox
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .errors import (
    BadRequest,
    PayloadTooLarge,
    PublisherError,
    RequestTimeout,
    ServiceUnavailable,
    TooManyRequests,
    UriTooLong,
)
from .web import error_response

MAX_PATH = 2048
DRAIN_CAP = 16 * 1024 * 1024
SUBMISSIONS = "/-/submissions/"
# Scripts only from this server. Styles also inline: the vendored Bootstrap Italia bundle injects <style>
# elements at run time (measured in the browser tests); style injection cannot run code.
HTML_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # NUL and the other control characters
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


def odd_target(scope: Scope) -> PublisherError | None:
    """Why this request target is refused before routing, or None."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if len(raw) > MAX_PATH:
        return UriTooLong(f"The request path is longer than {MAX_PATH} bytes.")
    try:
        decoded = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return BadRequest("The request path is not UTF-8 once percent-decoded (RFC 3987).")
    if _CONTROL.search(decoded):
        return BadRequest("The request path holds a NUL or control character.")
    if any(seg in (".", "..") for seg in decoded.split("/")) or "\\" in decoded:
        return BadRequest(
            "The request path holds a `.` or `..` segment or a backslash; send the resolved path (RFC 3986 §5.2.4)."
        )
    try:  # every path the routes serve is also an IRI path under the base: refuse the others here, once
        ox.NamedNode("http://localhost" + decoded)
    except ValueError:
        return BadRequest(
            "The request path, percent-decoded, is not a valid IRI path (RFC 3987): it holds a "
            "space, a control character or a character IRIs do not allow."
        )
    return None


async def send_error(scope: Scope, send: Send, exc: PublisherError) -> None:
    """`exc` through the one error renderer, as text or JSON: no page for a request refused before routing."""
    response = error_response(Request(scope), exc, page=False)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def with_security_headers(send: Send) -> Send:
    """`send`, adding the security headers to the response start (HTML gets the page CSP)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            names = {k.lower() for k, _ in headers}
            media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            extra = list(ALWAYS)
            if media.startswith(b"text/html"):
                extra += [(b"content-security-policy", HTML_CSP.encode()), (b"x-frame-options", b"DENY")]
            else:
                extra.append((b"content-security-policy", OTHER_CSP.encode()))
            message = {**message, "headers": headers + [(k, v) for k, v in extra if k not in names]}
        await send(message)

    return wrapped


def limited_body(receive: Receive, limit: int, timeout: float, declared: int | None) -> Receive:
    """`receive`, raising PayloadTooLarge past `limit` bytes and RequestTimeout after `timeout` seconds.
    Once the body is complete, later calls (disconnect listeners) pass through untouched."""
    state = {"size": 0, "done": False, "deadline": time.monotonic() + timeout}

    async def next_message() -> Message:
        remaining = state["deadline"] - time.monotonic()
        try:
            return await asyncio.wait_for(receive(), max(0.001, remaining))
        except TimeoutError:
            raise RequestTimeout(f"The request body did not arrive within {timeout:g} s.") from None

    async def drain() -> None:
        while state["size"] <= DRAIN_CAP and not state["done"]:
            message = await next_message()
            state["size"] += len(message.get("body", b""))
            state["done"] = message["type"] != "http.request" or not message.get("more_body", False)

    async def wrapped() -> Message:
        if state["done"]:
            return await receive()
        if declared is not None and declared > limit:
            if declared <= DRAIN_CAP:
                await drain()
            raise PayloadTooLarge(f"The request body ({declared} bytes) is larger than the {limit}-byte limit.")
        message = await next_message()
        state["size"] += len(message.get("body", b""))
        state["done"] = message["type"] != "http.request" or not message.get("more_body", False)
        if state["size"] > limit:
            await drain()
            raise PayloadTooLarge(f"The request body is larger than the {limit}-byte limit.")
        return message

    return wrapped


def _declared_length(scope: Scope) -> int | None:
    value = dict(scope.get("headers") or []).get(b"content-length")
    return int(value) if value is not None and value.isdigit() else None


def _smuggling(scope: Scope) -> bool:
    """Content-Length and Transfer-Encoding together: the framing a proxy and this server could read
    differently (request smuggling)."""
    names = {k.lower() for k, _ in scope.get("headers") or []}
    return b"content-length" in names and b"transfer-encoding" in names


def _is_query(scope: Scope) -> bool:
    if scope["path"] != "/sparql":
        return False
    return scope["method"] == "POST" or b"query=" in scope.get("query_string", b"")


class SecurityMiddleware:
    """Odd-target refusal, body limits and timeout, SPARQL admission, security headers (see the module)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.pending = 0
        self.per_client: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = with_security_headers(send)
        if _smuggling(scope):
            await send_error(
                scope,
                send,
                BadRequest(
                    "The request has both Content-Length and Transfer-Encoding; RFC 9112 §6.1 makes that an error, "
                    "and the connection is closed.",
                    headers={"Connection": "close"},
                ),
            )
            return
        if (refusal := odd_target(scope)) is not None:
            await send_error(scope, send, refusal)
            return
        s = self.settings
        limit = s.submission_max_bytes if scope["path"].startswith(SUBMISSIONS) else s.max_body_bytes
        receive = limited_body(receive, limit, s.request_timeout, _declared_length(scope))
        if not _is_query(scope):
            await self.app(scope, receive, send)
            return
        await self._admit(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.pending >= self.settings.sparql_max_pending:
            await send_error(
                scope,
                send,
                ServiceUnavailable(
                    f"{self.pending} SPARQL queries are already running or waiting; try again in a few seconds.",
                    headers={"Retry-After": "5"},
                ),
            )
            return
        client = (scope.get("client") or ("?", 0))[0]
        if self.per_client.get(client, 0) >= self.settings.sparql_per_client:
            await send_error(
                scope,
                send,
                TooManyRequests(
                    f"This client already has {self.settings.sparql_per_client} SPARQL queries running or waiting; "
                    "wait for their answers before sending more.",
                    headers={"Retry-After": "5"},
                ),
            )
            return
        self.pending += 1
        self.per_client[client] = self.per_client.get(client, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.pending -= 1
            if (left := self.per_client[client] - 1) > 0:
                self.per_client[client] = left
            else:
                del self.per_client[client]
