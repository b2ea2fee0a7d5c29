"""Answer a request for a document: choose the format, then 304 or the representation, with every header."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from .formats import DOCUMENT_FORMATS, Format
from .negotiation import choose
from .responses import DOC_CACHE, alternate_links, conditional, content_type, validators
from .results import write_triples
from .runtime import Served
from .urls import Urls
from .vocab import prefixes
from .web import language

TriplesFn = Callable[[], Sequence[ox.Triple]]
HtmlFn = Callable[[str], Awaitable[Response]]


def pick_format(request: Request, fixed: Format | None, offered: Sequence[Format] = DOCUMENT_FORMATS) -> Format:
    """The suffix's format when the URL has one, else `format=` or the Accept header."""
    return fixed or choose(request.headers.get("accept"), request.query_params.get("format"), offered)


async def document_response(
    request: Request,
    served: Served,
    doc_path: str,
    fmt: Format,
    fixed: bool,
    triples: TriplesFn,
    html: HtmlFn,
    variant: str = "",
    heavy: bool = True,
) -> Response:
    """One representation of the document at `doc_path`; `variant` distinguishes pages of one document.
    `heavy=False`: the caller knows `triples` is a quick, bounded look-up, so it runs inline (see `Served.look`)."""
    lang = language(request) if fmt.name == "html" else ""
    headers = {
        "Vary": "Accept, Accept-Language",
        "Cache-Control": DOC_CACHE,
        "Link": alternate_links(doc_path, DOCUMENT_FORMATS),
    }
    if not fixed:
        headers["Content-Location"] = Urls.with_format(doc_path, fmt)
    etag = served.release.etag(doc_path, fmt.name, lang, variant)
    if (not_modified := conditional(request, served.release, etag, headers)) is not None:
        return not_modified
    headers.update(validators(served.release, etag))
    if fmt.name == "html":
        response = await html(lang)
        response.headers.update(headers)
        return response
    base = request.app.state.runtime.settings.base_uri
    body = await served.look(lambda: write_triples(triples(), fmt, prefixes(base)), heavy=heavy)
    return Response(body, media_type=content_type(fmt), headers=headers)
