"""The request layer: what every route uses to answer a request, one section per job, in the order a request
meets them.

1. The runtime and the request's release: a request reads the served release once (`served_for`), so one
   answer never mixes two releases around a switch; the release's counts and site index are memoised on it.
2. The page language: `?lang=`, else the switch's cookie, else Accept-Language.
3. Rendering: a template and the context a view built (`server/views.py`, or the route) → an HTML response.
4. Validators, 304 and alternates: ETag/Last-Modified, conditional requests (RFC 9110 §13), the `Link`
   header and the HTML "download as" links of a document's formats.
5. The document response: the suffix's or the negotiated format, then a 304 or the representation, with
   every header.
6. The one error renderer: HTML for browsers, JSON for JSON clients, plain text otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from . import __version__, site_index
from .backends.cache import PINNED_RELEASE
from .errors import NotFound, PublisherError, error_body, error_text
from .formats import DOCUMENT_FORMATS, DOCUMENT_RDF_FORMATS, ERROR_FORMATS, Format, by_extension, content_type
from .i18n import LANGUAGES, STRINGS, pick_language, plural_forms, t, tn
from .negotiation import choose, negotiate_or_first
from .results import write_triples
from .runtime import Memo, Runtime, Served
from .stats import Stats, compute
from .stats import read as read_stats
from .urls import Urls
from .vocab import prefixes

# 1. The runtime and the request's release ------------------------------------------------------------------

STATS: Memo[Stats] = Memo("stats")
SITE_INDEX: Memo[site_index.Index] = Memo("site-index")


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def served_for(request: Request) -> Served:
    """The release this request is answered from: the one the response cache pinned, else asked of the runtime
    once; then the same for the whole request, whatever a build switches meanwhile."""
    state = request.scope.setdefault("state", {})
    found: Served | None = state.get(PINNED_RELEASE)
    if found is None:
        found = state[PINNED_RELEASE] = await runtime(request).served()
    return found


async def stats_of(request: Request) -> Stats:
    """The request's release's counts as its build wrote them (server/stats.py); computed the same way, once,
    for a release written without them."""
    served, base = await served_for(request), runtime(request).settings.base_uri
    return await run_in_threadpool(
        STATS.of, served, lambda: read_stats(served.release.path) or compute(served.data, base)
    )


async def index_of(request: Request) -> site_index.Index:
    """The request's release's site index (built on first use, then kept with the release)."""
    served, base = await served_for(request), runtime(request).settings.base_uri
    return await run_in_threadpool(SITE_INDEX.of, served, lambda: site_index.build(served.data, base))


# 2. The page language ----------------------------------------------------------------------------------------


def language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
    )


def _cache_safe_language(request: Request, response: Response) -> None:
    """A page's language comes from `?lang=` (in the URL: shareable), else the switch's cookie, else
    Accept-Language. So every page varies on Accept-Language and Cookie, and one whose language the cookie
    chose is `private`: a shared cache must never hand one visitor's language to another."""
    vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    for name in ("Accept-Language", "Cookie"):
        if name.lower() not in (v.lower() for v in vary):
            vary.append(name)
    response.headers["Vary"] = ", ".join(vary)
    from_cookie = request.query_params.get("lang") not in LANGUAGES and request.cookies.get("lang") in LANGUAGES
    if from_cookie:
        directives = [d.strip() for d in response.headers.get("cache-control", "").split(",")]
        response.headers["Cache-Control"] = ", ".join(["private", *(d for d in directives if d and d != "public")])


# 3. Rendering ------------------------------------------------------------------------------------------------

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def make_templates(**extra_globals: object) -> Jinja2Templates:
    """The site's templates; `extra_globals` are what pages' own helpers add (the explorer's drawing)."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    # Templates ship with the code: no stat() of every template and include on every render (~5% of a page).
    templates.env.auto_reload = False
    templates.env.globals.update(
        t=t,
        tn=tn,
        plural_forms=plural_forms,
        strings=STRINGS,
        version=__version__,
        rdf_formats=DOCUMENT_RDF_FORMATS,
        **extra_globals,
    )
    return templates


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """Render `template` with the view's `context`, the language, a language switch link, and the page's
    alternates (none unless the context names them)."""
    lang = context.get("lang") or language(request)
    other = "en" if lang == "it" else "it"
    params = {**request.query_params, "lang": other}
    ctx = {
        "request": request,
        "lang": lang,
        "switch_href": "?" + urlencode(params),  # the query alone: never a path a client chose (`//host/x`)
        "alternates": [],
        "site_base": runtime(request).settings.base_uri,
        **context,
    }
    response = request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status, headers=headers)
    _cache_safe_language(request, response)
    if request.query_params.get("lang") in ("it", "en"):
        response.set_cookie("lang", lang, max_age=31536000, samesite="lax")
    return response  # type: ignore[no-any-return]


# 4. Validators, 304 and alternates ---------------------------------------------------------------------------

DOC_CACHE = "public, max-age=3600"


def validators(modified: datetime | None, etag: str) -> dict[str, str]:
    """ETag, and Last-Modified when the representation has a time (a release's, a stream page's)."""
    found = {"ETag": etag}
    if modified is not None:
        found["Last-Modified"] = format_datetime(modified.replace(microsecond=0), usegmt=True)
    return found


def not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match wins; If-Modified-Since is read only without it."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims and modified is not None:
        try:
            return parsedate_to_datetime(ims) >= modified.replace(microsecond=0)
        except (TypeError, ValueError):
            return False
    return False


def conditional(request: Request, modified: datetime | None, etag: str, headers: dict[str, str]) -> Response | None:
    """A 304 carrying the same validators and Vary when the client's copy is current, else None."""
    if not_modified(request, etag, modified):
        keep = {k: v for k, v in headers.items() if k in ("Vary", "Cache-Control", "Content-Location", "Link")}
        return Response(status_code=304, headers={**keep, **validators(modified, etag)})
    return None


def alternate_links(doc_path: str, offered: Sequence[Format]) -> str:
    """`Link: <…ttl>; rel="alternate"; type="text/turtle", …` for every format of a document."""
    return ", ".join(f'<{Urls.with_format(doc_path, f)}>; rel="alternate"; type="{f.media_type}"' for f in offered)


def alternates(doc_path: str, offered: Sequence[Format] = DOCUMENT_RDF_FORMATS) -> list[dict[str, str]]:
    """The same alternates for a page's "download as" links (the RDF formats only)."""
    return [
        {"href": Urls.with_format(doc_path, f), "type": f.media_type, "label": f.label}
        for f in offered
        if f.name != "html"
    ]


# 5. The document response ------------------------------------------------------------------------------------

TriplesFn = Callable[[], Sequence[ox.Triple]]
HtmlFn = Callable[[str], Awaitable[Response]]


def suffix_format(doc_path: str, ext: str | None, offered: tuple[Format, ...] = DOCUMENT_FORMATS) -> Format | None:
    """The format a suffix URL fixes (`/catalog.ttl`), None without a suffix; an unknown suffix is a 404."""
    if not ext:
        return None
    if (fmt := by_extension(ext, offered)) is None:
        raise NotFound(f"{doc_path}.{ext}: unknown suffix.")
    return fmt


@dataclass(frozen=True)
class Representation:
    """The format chosen for a request, the language of an HTML answer, every header, and the 304 when the
    client's copy is current: all decided before anything is read or serialised."""

    fmt: Format
    lang: str
    headers: dict[str, str]
    not_modified: Response | None


def representation(
    request: Request,
    doc_path: str,
    fixed: Format | None,
    offered: Sequence[Format],
    etag: Callable[[Format, str], str],
    modified: datetime | None,
    cache: str = DOC_CACHE,
) -> Representation:
    """The suffix URL's format (`fixed`), else the one `format=` or the Accept header chooses among `offered`;
    `etag(format, language)` the representation's strong ETag; `modified` its Last-Modified time."""
    fmt = fixed or choose(request.headers.get("accept"), request.query_params.get("format"), offered)
    lang = language(request) if fmt.name == "html" else ""
    headers = {"Vary": "Accept, Accept-Language", "Cache-Control": cache, "Link": alternate_links(doc_path, offered)}
    if fixed is None:
        headers["Content-Location"] = Urls.with_format(doc_path, fmt)
    tag = etag(fmt, lang)
    hit = conditional(request, modified, tag, headers)
    headers.update(validators(modified, tag))
    return Representation(fmt, lang, headers, hit)


async def document_response(
    request: Request,
    served: Served,
    doc_path: str,
    fixed: Format | None,
    triples: TriplesFn,
    html: HtmlFn,
    variant: str = "",
    heavy: bool = True,
    offered: Sequence[Format] = DOCUMENT_FORMATS,
) -> Response:
    """One representation of the document at `doc_path` (see `representation`); `variant` distinguishes pages
    of one document. `heavy=False`: the caller knows `triples` is a quick, bounded look-up, so it runs inline
    (see `Served.look`)."""
    release = served.release
    chosen = representation(
        request,
        doc_path,
        fixed,
        offered,
        lambda f, lang: release.etag(doc_path, f.name, lang, variant),
        release.created,
    )
    if chosen.not_modified is not None:
        return chosen.not_modified
    if chosen.fmt.name == "html":
        response = await html(chosen.lang)
        response.headers.update(chosen.headers)
        _cache_safe_language(request, response)  # again: the document's headers replaced the page's Vary and cache
        return response
    base = runtime(request).settings.base_uri
    body = await served.look(lambda: write_triples(triples(), chosen.fmt, prefixes(base)), heavy=heavy)
    return Response(body, media_type=content_type(chosen.fmt), headers=chosen.headers)


# 6. The one error renderer -----------------------------------------------------------------------------------


def error_response(request: Request, exc: PublisherError, page: bool = True) -> Response:
    """`exc` as the client asked for it: a page in the site's layout for browsers (when `page` and the runtime
    has a release to lay it out with), JSON for JSON clients, plain text otherwise. `page=False`: a request
    refused before routing (server/security.py) gets text or JSON only. The caller has made `exc` public."""
    headers = {"Vary": "Accept", "Cache-Control": "no-store", **exc.headers}
    offered = ERROR_FORMATS if page else tuple(f for f in ERROR_FORMATS if f.name != "html")
    fmt = negotiate_or_first(request.headers.get("accept"), offered)
    if fmt.name == "html" and runtime(request).started:
        return render(request, "error.html", {"error": exc, "title": exc.title}, status=exc.status, headers=headers)
    if fmt.name == "json":
        return JSONResponse(error_body(exc), status_code=exc.status, headers=headers)
    return PlainTextResponse(error_text(exc), status_code=exc.status, headers=headers)
