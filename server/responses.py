"""Build negotiated responses: validators (ETag, Last-Modified) and 304, Vary, Link alternates, HEAD."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response

from .formats import Format
from .release import Release
from .urls import Urls

TEXT_TYPES = ("text/", "application/sparql-results+xml", "application/rdf+xml")
DOC_CACHE = "public, max-age=3600"


def content_type(fmt: Format) -> str:
    return f"{fmt.media_type}; charset=utf-8" if fmt.media_type.startswith(TEXT_TYPES) else fmt.media_type


def alternate_links(doc_path: str, offered: Sequence[Format]) -> str:
    """`Link: <…ttl>; rel="alternate"; type="text/turtle", …` for every format of a document."""
    return ", ".join(f'<{Urls.with_format(doc_path, f)}>; rel="alternate"; type="{f.media_type}"' for f in offered)


def not_modified(request: Request, etag: str, release: Release) -> bool:
    """RFC 9110 §13.1: If-None-Match wins; If-Modified-Since is read only without it."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            return parsedate_to_datetime(ims) >= release.created.replace(microsecond=0)
        except (TypeError, ValueError):
            return False
    return False


def validators(release: Release, etag: str) -> dict[str, str]:
    return {"ETag": etag, "Last-Modified": release.last_modified}


def conditional(request: Request, release: Release, etag: str, headers: dict[str, str]) -> Response | None:
    """A 304 carrying the same validators and Vary when the client's copy is current, else None."""
    if not_modified(request, etag, release):
        keep = {k: v for k, v in headers.items() if k in ("Vary", "Cache-Control", "Content-Location", "Link")}
        return Response(status_code=304, headers={**keep, **validators(release, etag)})
    return None
