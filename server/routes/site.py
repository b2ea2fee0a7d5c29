"""The site for people: lists with filters, search, timeline, help-desk finder, province pages and the
network explorer. All read the release's site index (`server/site_index.py`), built once per release."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import explorer, search, site_index, timeline
from ..errors import NotFound
from ..finder import desks_by_province
from ..listing import browse
from ..runtime import Memo
from ..site_index import CATEGORIES
from ..web import index_of, language, render, runtime, served_for

router = APIRouter()
SEARCH: Memo[search.SearchIndex] = Memo("search-index")


@router.get("/-/browse/{category}")
async def browse_page(request: Request, category: str) -> Response:
    if category not in CATEGORIES:
        raise NotFound(
            f"There is no list {category!r}: the lists are {', '.join(CATEGORIES)}.",
            it=f"Non esiste l'elenco {category!r}: gli elenchi sono {', '.join(CATEGORIES)}.",
        )
    index, lang = await index_of(request), language(request)
    params = {k: request.query_params.get(k, "") for k in ("province", "kind", "theme")}
    return render(
        request,
        "browse.html",
        {"title": None, "category": category, "view": browse(index, runtime(request).urls, category, params, lang)},
    )


@router.get("/-/search")
async def search_page(request: Request, q: str = "") -> Response:
    index, lang = await index_of(request), language(request)
    served = await served_for(request)
    hits = SEARCH.of(served, lambda: search.SearchIndex(index)).search(q[:200])
    results = [
        {
            "href": explorer.href_of(index, runtime(request).urls, h.iri),
            "label": index.label(h.iri, lang),
            "alt": h.matched_alt,
            "entity": index.entities[h.iri],
            "province": index.label(p, lang) if (p := index.entities[h.iri].province) else "",
        }
        for h in hits
    ]
    return render(
        request,
        "search.html",
        {"title": f"{search_title(lang)}: {q}" if q else search_title(lang), "q": q, "results": results},
    )


def search_title(lang: str) -> str:
    return "Search" if lang == "en" else "Cerca"


@router.get("/-/timeline")
async def timeline_page(request: Request, province: str = "") -> Response:
    index = await index_of(request)  # render() picks the language
    chosen = index.province_by_notation(province) if province else None
    if province and chosen is None:
        raise NotFound(
            f"No province with code {province!r} in this release.",
            it=f"Nessuna provincia con codice {province!r} in questa versione dei dati.",
        )
    items = timeline.items(index, chosen)
    return render(
        request,
        "timeline.html",
        {
            "title": None,
            "index": index,
            "years": timeline.by_year(items),
            "undated": [i for i in items if not i.date],
            "province": chosen,
            "provinces": index.provinces(),
            "format_date": timeline.format_date,
            "kind_labels": timeline.KIND_LABELS,
            "urls": runtime(request).urls,
        },
    )


@router.get("/-/help-desks")
async def help_desks_page(request: Request) -> Response:
    index, lang = await index_of(request), language(request)
    return render(
        request, "help_desks.html", {"title": None, "provinces": desks_by_province(index, runtime(request).urls, lang)}
    )


@router.get("/-/province/{code}")
async def province_page(request: Request, code: str) -> Response:
    index, lang = await index_of(request), language(request)
    province = index.province_by_notation(code)
    if province is None:
        raise NotFound(
            f"No province with code {code!r} in this release.",
            it=f"Nessuna provincia con codice {code!r} in questa versione dei dati.",
        )
    urls = runtime(request).urls
    desks = next(p for p in desks_by_province(index, urls, lang) if p["iri"] == province)
    counts = {c: sum(1 for e in index.category(c) if e.province == province) for c in CATEGORIES}
    networks = sorted((e for e in index.category("networks") if e.province == province), key=lambda e: e.label(lang))
    return render(
        request,
        "province.html",
        {
            "title": index.label(province, lang),
            "province": province,
            "code": code,
            "index": index,
            "desks": desks,
            "counts": counts,
            "networks": networks,
            "years": timeline.by_year(items := timeline.items(index, province)),
            "undated": [i for i in items if not i.date],
            "format_date": timeline.format_date,
            "kind_labels": timeline.KIND_LABELS,
            "urls": urls,
        },
    )


@router.get("/-/region/{code}")
async def region_page(request: Request, code: str) -> Response:
    """What the data places in a region: regional things (a forum) and those of its provinces, read from the
    data's territories only."""
    index, lang = await index_of(request), language(request)
    region = index.region_by_notation(code)
    if region is None:
        raise NotFound(
            f"No region with code {code!r} in this release.",
            it=f"Nessuna regione con codice {code!r} in questa versione dei dati.",
        )
    here = [e for e in index.entities.values() if e.region == region]
    provinces = [p for p in index.provinces() if region in index.objects(p, site_index.CLV + "hasDirectHigherRank")]
    things = {
        c: sorted((e for e in here if e.category == c), key=lambda e: e.label(lang).casefold())
        for c in ("networks", "help-desks", "bodies", "equality-bodies", "offices")
    }
    items = [i for i in timeline.items(index) if (e := index.entities.get(i.iri)) is not None and e.region == region]
    return render(
        request,
        "region.html",
        {
            "title": index.label(region, lang),
            "region": region,
            "index": index,
            "provinces": [{"code": index.notation(p), "label": index.label(p, lang)} for p in provinces],
            "things": {c: v for c, v in things.items() if v},
            "years": timeline.by_year(items),
            "undated": [i for i in items if not i.date],
            "format_date": timeline.format_date,
            "kind_labels": timeline.KIND_LABELS,
            "urls": runtime(request).urls,
        },
    )


@router.get("/-/explorer")
async def explorer_overview(request: Request) -> Response:
    index, lang = await index_of(request), language(request)
    title = "Network explorer" if lang == "en" else "Esplora le reti"
    graph = explorer.overview_graph(index, runtime(request).urls, lang, title)
    networks = sorted(index.category("networks"), key=lambda e: e.label(lang).casefold())
    return render(
        request,
        "explorer.html",
        {"title": title, "graph": graph, "networks": networks, "index": index, "overview": True},
    )


@router.get("/-/explorer/{slug}")
async def explorer_network(request: Request, slug: str) -> Response:
    index, lang = await index_of(request), language(request)
    iri = f"{index.base}id/network/{slug}"
    if index.entities.get(iri) is None or index.entities[iri].category != "networks":
        raise NotFound(
            f"No network or table {slug!r} in this release: see /-/explorer.",
            it=f"Nessuna rete o tavolo {slug!r} in questa versione dei dati: vedi /-/explorer.",
        )
    graph = explorer.network_graph(index, runtime(request).urls, iri, lang)
    return render(
        request,
        "explorer.html",
        {
            "title": graph.title,
            "graph": graph,
            "index": index,
            "overview": False,
            "doc_href": runtime(request).urls.document_path(iri),
            "networks": [],
        },
    )
