"""`/ldes`: the Linked Data Event Stream of the releases (model in `server/ldes.py`); `/-/sources`: the harvest.

`/ldes` and `/ldes/view` answer the root node (it changes with each release: short-cached, ETag of the page
list); `/ldes/{release}/{n}` a page (written once: `immutable`, ETag of its bytes); `/ldes/context.jsonld`
the JSON-LD context the JSON-LD representations name. Turtle, N-Triples, JSON-LD, TriG and N-Quads by
content negotiation or `?format=`.
"""

from __future__ import annotations

import hashlib
import json
import re

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import ldes
from ..errors import NotFound
from ..formats import BY_NAME, Format, content_type
from ..negotiation import choose
from ..results import write_triples
from ..runtime import Memo, Served
from ..sources import rows
from ..web import language, render, runtime

router = APIRouter()
#: What the stream offers; Turtle first, so `*/*` gets Turtle.
STREAM_FORMATS: tuple[Format, ...] = tuple(BY_NAME[n] for n in ("turtle", "ntriples", "jsonld", "trig", "nquads"))
#: A browser following the home page's link gets the Turtle shown in a page (HTML's qs is below Turtle's).
OFFERED: tuple[Format, ...] = (*STREAM_FORMATS, BY_NAME["html"])
STREAM: Memo[ldes.StreamIndex] = Memo("ldes")
VIEW_CACHE = "public, max-age=60"
PAGE_CACHE = "public, max-age=31536000, immutable"
_PAGE_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z(-[0-9]+)?/[0-9]+")


def _index(served: Served) -> ldes.StreamIndex:
    index = STREAM.get(served)
    if index is None and (index := ldes.read_index(served.release.path)) is not None:
        STREAM.put(served, index)
    if index is None:
        raise NotFound(
            "This release was built before parita published an event stream; rebuild it (`parita build --force`)."
        )
    return index


def _respond(request: Request, triples: list[ox.Triple], digest: str, cache: str) -> Response:
    fmt = choose(request.headers.get("accept"), request.query_params.get("format"), OFFERED)
    lang = language(request) if fmt.name == "html" else ""
    etag = '"' + hashlib.sha256(f"{digest}\0{fmt.name}\0{lang}".encode()).hexdigest()[:32] + '"'
    headers = {"Vary": "Accept, Accept-Language" if lang else "Accept", "Cache-Control": cache, "ETag": etag}
    inm = request.headers.get("if-none-match")
    if inm is not None and etag in {t.strip().removeprefix("W/") for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    base = runtime(request).settings.base_uri
    if fmt.name == "html":
        turtle = write_triples(triples, BY_NAME["turtle"], ldes.CONTEXT_PREFIXES).decode()
        return render(request, "rdfdoc.html", {"title": "LDES", "turtle": turtle}, headers=headers)
    body = write_triples(triples, fmt, ldes.CONTEXT_PREFIXES)
    if fmt.name == "jsonld":
        body = ldes.compact_jsonld(body, ldes.context_iri(base))
    return Response(body, media_type=content_type(fmt), headers=headers)


@router.api_route("/ldes", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/ldes/view", methods=["GET", "HEAD"], include_in_schema=False)
async def view(request: Request) -> Response:
    served = await runtime(request).served()
    index = _index(served)
    base = runtime(request).settings.base_uri
    return _respond(request, ldes.view_triples(base, index), base + index.digest, VIEW_CACHE)


@router.api_route("/ldes/context.jsonld", methods=["GET", "HEAD"], include_in_schema=False)
async def context(request: Request) -> Response:
    body = json.dumps(ldes.jsonld_context(), indent=1).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Response(
        body, media_type="application/ld+json", headers={"Cache-Control": "public, max-age=86400", "ETag": etag}
    )


@router.api_route("/ldes/{release}/{number}", methods=["GET", "HEAD"], include_in_schema=False)
async def page(request: Request, release: str, number: str) -> Response:
    served = await runtime(request).served()
    page_id = f"{release}/{number}"
    found = next((p for p in _index(served).pages if p.id == page_id), None) if _PAGE_ID.fullmatch(page_id) else None
    if found is None:
        raise NotFound(f"The event stream has no page {page_id!r}; its pages are listed at /ldes.")
    base = runtime(request).settings.base_uri
    triples = await served.look(ldes.page_triples, base, served.release.path, found, heavy=True)
    return _respond(request, triples, base + found.sha256, PAGE_CACHE)


@router.get("/-/sources", include_in_schema=False)
async def harvested_sources(request: Request) -> Response:
    """What `parita harvest` did per source (server/sources.py), in the site's layout; `?format=json` as data."""
    settings = runtime(request).settings
    found = rows(settings)
    headers = {"Cache-Control": "no-cache", "Vary": "Accept, Accept-Language"}
    if request.query_params.get("format") == "json":
        return Response(json.dumps(found, ensure_ascii=False), media_type="application/json", headers=headers)
    lang = language(request)
    title = "Fonti raccolte" if lang == "it" else "Harvested sources"
    return render(request, "sources.html", {"title": title, "rows": found}, headers=headers)
