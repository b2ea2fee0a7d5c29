"""Domain errors carry their HTTP status; `create_app` maps them to responses in one handler."""

from __future__ import annotations


class PublisherError(Exception):
    """Base error: `status` is the HTTP status, `message` says what went wrong and where to look."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, link: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
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


class QueryTimeout(PublisherError):
    status = 503
    title = "Query timed out"


class StoreError(PublisherError):
    status = 500
    title = "Store error"


def error_body(exc: PublisherError) -> dict[str, object]:
    """The one JSON error shape."""
    body: dict[str, object] = {"ok": False, "status": exc.status, "title": exc.title, "error": exc.message}
    if exc.link:
        body["link"] = exc.link
    return body
