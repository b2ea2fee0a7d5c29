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
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import ldes
from ..backends.cache import LRU
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
#: Serialised pages by (base, page digest, format): a page never changes, whichever release carries it, so
#: one serialisation serves every request for it; bounded, the least recently used forgotten first.
PAGE_BODIES = LRU(max_entries=256, max_bytes=128 << 20)
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


@dataclass(frozen=True)
class Negotiated:
    """The format chosen for a request, the language of an HTML answer, the headers, and the 304 when the
    client's copy is current (decided before anything is read or serialised)."""

    fmt: Format
    lang: str
    headers: dict[str, str]
    not_modified: Response | None


def _negotiate(request: Request, digest: str, cache: str) -> Negotiated:
    fmt = choose(request.headers.get("accept"), request.query_params.get("format"), OFFERED)
    lang = language(request) if fmt.name == "html" else ""
    etag = '"' + hashlib.sha256(f"{digest}\0{fmt.name}\0{lang}".encode()).hexdigest()[:32] + '"'
    headers = {"Vary": "Accept, Accept-Language" if lang else "Accept", "Cache-Control": cache, "ETag": etag}
    inm = request.headers.get("if-none-match")
    current = inm is not None and etag in {t.strip().removeprefix("W/") for t in inm.split(",")}
    return Negotiated(fmt, lang, headers, Response(status_code=304, headers=headers) if current else None)


def _serialise(triples: list[ox.Triple], fmt: Format, base: str) -> bytes:
    """The body in `fmt`; for HTML, the Turtle the page shows."""
    body = write_triples(triples, BY_NAME["turtle"] if fmt.name == "html" else fmt, ldes.CONTEXT_PREFIXES)
    return ldes.compact_jsonld(body, ldes.context_iri(base)) if fmt.name == "jsonld" else body


def _answer(request: Request, chosen: Negotiated, body: bytes) -> Response:
    if chosen.fmt.name == "html":
        context = {"title": "LDES", "turtle": body.decode()}
        return render(request, "rdfdoc.html", context, headers=chosen.headers)
    return Response(body, media_type=content_type(chosen.fmt), headers=chosen.headers)


@router.api_route("/ldes", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/ldes/view", methods=["GET", "HEAD"], include_in_schema=False)
async def view(request: Request) -> Response:
    served = await runtime(request).served()
    index = _index(served)
    base = runtime(request).settings.base_uri
    chosen = _negotiate(request, base + index.digest, VIEW_CACHE)
    return chosen.not_modified or _answer(request, chosen, _serialise(ldes.view_triples(base, index), chosen.fmt, base))


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
    chosen = _negotiate(request, base + found.sha256, PAGE_CACHE)
    if chosen.not_modified is not None:
        return chosen.not_modified
    key = (base, found.sha256, "turtle" if chosen.fmt.name == "html" else chosen.fmt.name)
    body = PAGE_BODIES.get(key)
    if body is None:
        body = await served.look(_page_body, base, served.release.path, found, chosen.fmt, heavy=True)
        PAGE_BODIES.put(key, body, len(body))
    return _answer(request, chosen, body)


def _page_body(base: str, release: Path, page: ldes.Page, fmt: Format) -> bytes:
    if fmt.name == "ntriples":  # the page's file is N-Triples already: no parsing
        return ldes.page_ntriples(base, release, page)
    return _serialise(ldes.page_triples(base, release, page), fmt, base)


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
