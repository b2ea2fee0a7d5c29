"""Domain errors carry their HTTP status; `create_app` maps them to responses in one handler."""

from __future__ import annotations

import re


class PublisherError(Exception):
    """Base error: `status` is the HTTP status, `message` says what went wrong and where to look."""

    status = 500
    title = "Internal error"

    def __init__(
        self, message: str, *, link: str | None = None, headers: dict[str, str] | None = None, it: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_it = it  # the same message in Italian, for pages in Italian (the API bodies stay English)
        self.link = link
        self.headers = headers or {}


class BadRequest(PublisherError):
    status = 400
    title = "Bad request"


class QuerySyntaxError(BadRequest):
    title = "SPARQL syntax error"


class Forbidden(PublisherError):
    status = 403
    title = "Forbidden"


class NotFound(PublisherError):
    status = 404
    title = "Not found"


class MethodNotAllowed(PublisherError):
    status = 405
    title = "Method not allowed"


class NotAcceptable(PublisherError):
    status = 406
    title = "Not acceptable"


class UnsupportedMediaType(PublisherError):
    status = 415
    title = "Unsupported media type"


class Unauthorized(PublisherError):
    status = 401
    title = "Unauthorized"


class RequestTimeout(PublisherError):
    status = 408
    title = "Request timeout"


class PayloadTooLarge(PublisherError):
    status = 413
    title = "Payload too large"


class UriTooLong(PublisherError):
    status = 414
    title = "URI too long"


class TooManyRequests(PublisherError):
    status = 429
    title = "Too Many Requests"


class ServiceUnavailable(PublisherError):
    status = 503
    title = "Service unavailable"


class QueryTimeout(PublisherError):
    status = 503
    title = "Query timed out"


class StoreError(PublisherError):
    status = 500
    title = "Store error"


GENERIC_500 = (
    "The server could not answer this request. The details are in the server's log, not in "
    "this response; try again later."
)


_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s<>\"')\]]+|(?<![\w/])/(?:[\w.-]+/)+[\w.-]*", re.I)


def public(exc: PublisherError) -> PublisherError:
    """What a client may see of `exc`. A 500's message can name files, hosts or internal state, so it is
    replaced by a generic one; a 503 (timeout, busy, store away) keeps its message with any URL or file
    path in it blanked. The caller logs the original. 4xx messages describe the request and are kept."""
    if exc.status < 500:
        return exc
    message = _ADDRESS.sub("(internal address)", exc.message) if exc.status == 503 else GENERIC_500
    safe = PublisherError(message, link=exc.link, headers=exc.headers)
    safe.status, safe.title = exc.status, exc.title
    return safe


def error_text(exc: PublisherError) -> str:
    """The one plain-text error shape."""
    return f"{exc.status} {exc.title}: {exc.message}\n" + (f"See {exc.link}\n" if exc.link else "")


def error_body(exc: PublisherError) -> dict[str, object]:
    """The one JSON error shape."""
    body: dict[str, object] = {"ok": False, "status": exc.status, "title": exc.title, "error": exc.message}
    if exc.link:
        body["link"] = exc.link
    return body
