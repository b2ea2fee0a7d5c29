"""`/ldes`: the Linked Data Event Stream of the releases (model in `server/ldes.py`); `/-/sources`: the harvest.

`/ldes` and `/ldes/view` answer the root node (it changes with each release: short-cached, ETag of the page
list, Last-Modified of the release); `/ldes/{release}/{n}` a page (written once: `immutable`, ETag of its
bytes, Last-Modified of the release that wrote it); `/ldes/context.jsonld` the JSON-LD context the JSON-LD
representations name. Turtle, N-Triples, JSON-LD, TriG and N-Quads by content negotiation, `?format=` or a
suffix URL (`/ldes.ttl`, `/ldes/{release}/{n}.nq`), through the validators, 304s and `Link` alternates every
document has (server/web.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import ldes
from ..backends.cache import LRU
from ..errors import NotFound
from ..formats import BY_NAME, Format, content_type
from ..results import write_triples
from ..runtime import Memo, Served
from ..sources import rows
from ..web import (
    Representation,
    alternates,
    conditional,
    language,
    render,
    representation,
    runtime,
    served_for,
    suffix_format,
    validators,
)

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
CONTEXT_CACHE = "public, max-age=86400"
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


def _etag(digest: str) -> Callable[[Format, str], str]:
    """A strong ETag of the content (`digest`: the page list's or the page's) in one format and language: the
    same whichever release serves it."""

    def tag(fmt: Format, lang: str) -> str:
        return '"' + hashlib.sha256(f"{digest}\0{fmt.name}\0{lang}".encode()).hexdigest()[:32] + '"'

    return tag


def _serialise(triples: list[ox.Triple], fmt: Format, base: str) -> bytes:
    """The body in `fmt`; for HTML, the Turtle the page shows."""
    body = write_triples(triples, BY_NAME["turtle"] if fmt.name == "html" else fmt, ldes.CONTEXT_PREFIXES)
    return ldes.compact_jsonld(body, ldes.context_iri(base)) if fmt.name == "jsonld" else body


def _answer(request: Request, doc_path: str, chosen: Representation, body: bytes) -> Response:
    if chosen.fmt.name == "html":
        context = {"title": "LDES", "turtle": body.decode(), "alternates": alternates(doc_path, STREAM_FORMATS)}
        return render(request, "rdfdoc.html", context, headers=chosen.headers)
    return Response(body, media_type=content_type(chosen.fmt), headers=chosen.headers)


async def _view(request: Request, doc_path: str, ext: str | None) -> Response:
    fixed = suffix_format(doc_path, ext, OFFERED)
    served = await served_for(request)
    index = _index(served)
    base = runtime(request).settings.base_uri
    etag = _etag(base + index.digest)
    chosen = representation(request, doc_path, fixed, OFFERED, etag, served.release.created, VIEW_CACHE)
    if chosen.not_modified is not None:
        return chosen.not_modified
    return _answer(request, doc_path, chosen, _serialise(ldes.view_triples(base, index), chosen.fmt, base))


@router.get("/ldes")
async def stream(request: Request) -> Response:
    return await _view(request, "/ldes", None)


@router.get("/ldes.{ext}")
async def stream_as(request: Request, ext: str) -> Response:
    return await _view(request, "/ldes", ext)


@router.get("/ldes/view")
async def view(request: Request) -> Response:
    return await _view(request, "/ldes/view", None)


@router.get("/ldes/view.{ext}")
async def view_as(request: Request, ext: str) -> Response:
    return await _view(request, "/ldes/view", ext)


@router.get("/ldes/context.jsonld")
async def context(request: Request) -> Response:
    """The context ships with the code, not with a release: an ETag of its bytes, no Last-Modified."""
    body = json.dumps(ldes.jsonld_context(), indent=1).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": CONTEXT_CACHE}
    if (hit := conditional(request, None, etag, headers)) is not None:
        return hit
    return Response(body, media_type="application/ld+json", headers={**headers, **validators(None, etag)})


@router.get("/ldes/{release}/{number}")
async def page(request: Request, release: str, number: str) -> Response:
    number, dot, ext = number.partition(".")
    page_id = f"{release}/{number}"
    doc_path = f"/ldes/{page_id}"
    fixed = suffix_format(doc_path, ext if dot else None, OFFERED)
    served = await served_for(request)
    found = next((p for p in _index(served).pages if p.id == page_id), None) if _PAGE_ID.fullmatch(page_id) else None
    if found is None:
        raise NotFound(f"The event stream has no page {page_id!r}; its pages are listed at /ldes.")
    base = runtime(request).settings.base_uri
    written = datetime.fromisoformat(found.time.replace("Z", "+00:00"))
    written = written if written.tzinfo else written.replace(tzinfo=UTC)
    chosen = representation(request, doc_path, fixed, OFFERED, _etag(base + found.sha256), written, PAGE_CACHE)
    if chosen.not_modified is not None:
        return chosen.not_modified
    key = (base, found.sha256, "turtle" if chosen.fmt.name == "html" else chosen.fmt.name)
    body = PAGE_BODIES.get(key)
    if body is None:
        body = await served.look(_page_body, base, served.release.path, found, chosen.fmt, heavy=True)
        PAGE_BODIES.put(key, body, len(body))
    return _answer(request, doc_path, chosen, body)


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
