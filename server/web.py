"""Request helpers shared by the routes: the runtime, the page language, HTML rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from . import __version__, site_index
from .explorer import GROUPS, RELATIONS, shape_path
from .formats import DOCUMENT_RDF_FORMATS
from .i18n import LANGUAGES, STRINGS, pick_language, plural_forms, t, tn
from .runtime import Memo, Runtime, Served
from .stats import Stats, compute
from .stats import read as read_stats

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


STATS: Memo[Stats] = Memo("stats")
SITE_INDEX: Memo[site_index.Index] = Memo("site-index")


def make_templates() -> Jinja2Templates:
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
        groups=GROUPS,
        relations=RELATIONS,
        shape_path=shape_path,
    )
    return templates


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def language(request: Request) -> str:
    return pick_language(
        request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
    )


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """Render `template` with the language, a language switch link, and the page's alternates."""
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


async def stats_of(request: Request, served: Served) -> Stats:
    """The release's counts as its build wrote them (server/stats.py); computed the same way, once, for a
    release written without them."""
    base = runtime(request).settings.base_uri
    return await run_in_threadpool(
        STATS.of, served, lambda: read_stats(served.release.path) or compute(served.data, base)
    )


async def index_of(request: Request, served: Served | None = None) -> site_index.Index:
    """The served release's site index (built on first use, then kept with the release)."""
    served = served or await runtime(request).served()
    base = runtime(request).settings.base_uri
    return await run_in_threadpool(SITE_INDEX.of, served, lambda: site_index.build(served.data, base))
