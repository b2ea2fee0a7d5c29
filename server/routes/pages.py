"""Pages for people (home, listings by kind), the ontology and shapes documents, and operations endpoints."""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ..catalog import announcements, link_header
from ..errors import NotFound
from ..rendering import label
from ..site_index import CATEGORIES
from ..views import vocabulary_context
from ..void import about_graph
from ..web import document_response, index_of, language, render, runtime, served_for, stats_of, suffix_format

router = APIRouter()
KINDS = {  # `id/{kind}/` → (Italian, English); the first four are the home page's entry points
    "organization": ("Enti", "Bodies"),
    "network": ("Reti", "Networks"),
    "protocol": ("Protocolli", "Protocols"),
    "help-desk": ("Sportelli", "Help desks"),
    "membership": ("Adesioni", "Memberships"),
    "source": ("Fonti", "Sources"),
    "concept": ("Concetti", "Concepts"),
    "scheme": ("Vocabolari", "Schemes"),
    "act": ("Atti", "Acts"),
    "plan": ("Piani", "Plans"),
    "initiative": ("Iniziative", "Initiatives"),
    "event": ("Eventi", "Events"),
    "change-event": ("Cambiamenti organizzativi", "Organizational changes"),
    "conferral": ("Conferimenti di funzioni", "Conferrals of functions"),
    "post": ("Incarichi", "Posts"),
    "site": ("Sedi", "Sites"),
    "address": ("Indirizzi", "Addresses"),
    "facility": ("Strutture", "Facilities"),
    "role": ("Ruoli", "Roles"),
    "territory": ("Territori", "Territories"),
}
LIST_PAGE = 100


def kind_label(kind: str, lang: str) -> str:
    it, en = KINDS.get(kind, (kind, kind))
    return en if lang == "en" else it


@router.get("/")
async def home(request: Request) -> Response:
    served = await served_for(request)
    stats = await stats_of(request)
    order = {k: i for i, k in enumerate(KINDS)}
    kinds = sorted(stats.kinds.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    index = await index_of(request)
    categories = [(c, n) for c in CATEGORIES if (n := len(index.category(c)))]
    lang = language(request)
    provinces = [(index.notation(p), index.label(p, lang)) for p in index.provinces()]
    return render(
        request,
        "index.html",
        {
            "stats": stats,
            "kinds": kinds,
            "kind_label": kind_label,
            "release": served.release,
            "title": None,
            "categories": categories,
            "provinces": provinces,
            "alternates": [x for x in announcements() if x["rel"] == "alternate"],
        },
        headers={"Link": link_header(announcements())},
    )


@router.get("/-/kind/{kind}")
async def kind_list(request: Request, kind: str, page: int = 1) -> Response:
    rt = runtime(request)
    served = await served_for(request)
    prefix = f"{rt.urls.base}id/{kind}/"
    iris = await run_in_threadpool(served.data.subjects_with_prefix, prefix)
    if not iris:
        raise NotFound(f"No resources of kind {kind!r}.", it=f"Nessuna risorsa di tipo {kind!r}.")
    labels = await run_in_threadpool(served.data.labels, iris)
    lang = language(request)
    items = sorted(
        ({"href": rt.urls.link(i), "label": label(i, labels, lang)} for i in iris), key=lambda x: x["label"].lower()
    )
    page = max(1, page)
    pages = max(1, -(-len(items) // LIST_PAGE))
    return render(
        request,
        "list.html",
        {
            "title": kind_label(kind, lang),
            "items": items[(page - 1) * LIST_PAGE : page * LIST_PAGE],
            "page": page,
            "pages": pages,
            "total": len(items),
        },
    )


async def _vocabulary(request: Request, name: str, ext: str | None) -> Response:
    rt = runtime(request)
    served = await served_for(request)
    fixed = suffix_format("/" + name, ext)
    doc_iri, graph_iri = rt.urls.iri(name), rt.urls.iri("graph/" + name)
    if not await run_in_threadpool(served.data.graph_exists, graph_iri):
        raise NotFound(f"The {name} graph <{graph_iri}> is not in this release.")

    def rdf() -> list[ox.Triple]:
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in served.data.graph_quads(graph_iri)]
        return triples + about_graph(rt.settings.base_uri, doc_iri, graph_iri)

    async def html(lang: str) -> Response:
        context = await vocabulary_context(rt.urls, served, doc_iri, graph_iri, "/" + name, lang)
        return render(request, "vocabulary.html", context)

    return await document_response(request, served, "/" + name, fixed, rdf, html)


@router.get("/ontology")
async def ontology(request: Request) -> Response:
    return await _vocabulary(request, "ontology", None)


@router.get("/ontology.{ext}")
async def ontology_as(request: Request, ext: str) -> Response:
    return await _vocabulary(request, "ontology", ext)


@router.get("/shapes")
async def shapes(request: Request) -> Response:
    return await _vocabulary(request, "shapes", None)


@router.get("/shapes.{ext}")
async def shapes_as(request: Request, ext: str) -> Response:
    return await _vocabulary(request, "shapes", ext)


@router.get("/health")
async def health(request: Request) -> Response:
    rt = runtime(request)
    served = await served_for(request)
    stats = await stats_of(request)
    body: dict[str, object] = {
        "ok": rt.broken is None,
        "release": served.release.id,
        "quads": len(served.data),
        "triples": stats.triples,
        "entities": stats.entities,
    }
    if rt.broken is not None:  # still answering from the last good release, but the operator must know
        body["problem"] = rt.broken
    return JSONResponse(body, status_code=200 if rt.broken is None else 503, headers={"Cache-Control": "no-store"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    rt = runtime(request)
    pool = (await served_for(request)).pool
    extra = {
        "parita_sparql_queries_total": ("counter", "SPARQL queries sent to workers.", float(pool.stats.queries)),
        "parita_sparql_timeouts_total": (
            "counter",
            "SPARQL queries cancelled at the time limit.",
            float(pool.stats.timeouts),
        ),
        "parita_sparql_worker_restarts_total": (
            "counter",
            "Worker processes replaced.",
            float(pool.stats.restarts),
        ),
        "parita_sparql_busy_total": (
            "counter",
            "Queries refused because every worker stayed busy.",
            float(pool.stats.busy_refusals),
        ),
        "parita_sparql_worker_deaths_total": (
            "counter",
            "Workers that died running a query (memory limit).",
            float(getattr(pool.stats, "memory_kills", 0)),
        ),
        "parita_sparql_fast_lane_evictions_total": (
            "counter",
            "Queries moved out of the fast lane.",
            float(getattr(pool.stats, "fast_lane_evictions", 0)),
        ),
        "parita_sparql_workers_with_network": (
            "gauge",
            "Workers started without the network filter.",
            float(getattr(pool.stats, "unsandboxed", 0)),
        ),
    }
    return PlainTextResponse(
        rt.metrics.render(extra), media_type="text/plain; version=0.0.4", headers={"Cache-Control": "no-store"}
    )
