"""Dataset descriptions generated from the served data (VoID, DCAT-AP_IT catalog), dumps, sitemap, robots."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from ..catalog import GraphFile, catalog_description, dates_query, graph_periods, harvest_blockers, period_rows
from ..catalog_page import catalog_view
from ..errors import NotFound
from ..formats import BY_NAME, served_media_type
from ..i18n import t
from ..results import write_triples
from ..runtime import Memo, Served
from ..vocab import prefixes
from ..void import VOID_PATH, graph_document, void_description
from ..web import (
    alternates,
    conditional,
    document_response,
    render,
    runtime,
    served_for,
    stats_of,
    suffix_format,
    validators,
)

router = APIRouter()
SOURCES = """PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX cov: <https://w3id.org/italia/onto/COV/>
SELECT ?source (SAMPLE(?t) AS ?title) ?publisher (SAMPLE(?pl) AS ?publisher_label)
       (SAMPLE(?pe) AS ?publisher_label_en) (SAMPLE(?ipa) AS ?publisher_ipa) WHERE {{
  VALUES ?source {{ {sources} }}
  ?source dct:publisher ?publisher .
  OPTIONAL {{ ?publisher cov:IPAcode ?ipa }}
  OPTIONAL {{ ?source dct:title|rdfs:label ?t FILTER(LANG(?t) IN ("it", "")) }}
  OPTIONAL {{ ?publisher rdfs:label|skos:prefLabel ?pl FILTER(LANG(?pl) IN ("it", "")) }}
  OPTIONAL {{ ?publisher rdfs:label|skos:prefLabel ?pe FILTER(LANG(?pe) = "en") }}
}} GROUP BY ?source ?publisher"""


async def _sources(served: Served) -> list[dict[str, str]]:
    """Source documents with their graph, title and publisher (rows for the catalog)."""
    mapping = await run_in_threadpool(served.data.graph_sources)
    graph_of = {s: g for g, s in mapping.items()}
    if not graph_of:
        return []
    rows = await run_in_threadpool(served.data.select, SOURCES.format(sources=" ".join(f"<{s}>" for s in graph_of)))
    out = []
    for row in rows:
        source = row["source"].value
        out.append(
            {
                "source": source,
                "graph": graph_of[source],
                "title": row["title"].value if "title" in row else "",
                "publisher": row["publisher"].value,
                "publisher_label": row["publisher_label"].value if "publisher_label" in row else "",
                "publisher_label_en": row["publisher_label_en"].value if "publisher_label_en" in row else "",
                "publisher_ipa": row["publisher_ipa"].value if "publisher_ipa" in row else "",
            }
        )
    return out


DESCRIPTIONS: dict[str, Memo[list[ox.Triple]]] = {"void": Memo("void"), "catalog": Memo("catalog")}


async def _description(request: Request, key: str) -> tuple[Served, list[ox.Triple]]:
    rt = runtime(request)
    served = await served_for(request)
    memo = DESCRIPTIONS[key]
    if (found := memo.get(served)) is None:
        stats = await stats_of(request)
        sources = await _sources(served)
        if key == "void":
            titles = {s["graph"]: s["title"] for s in sources}
            sources_by_graph = await run_in_threadpool(served.data.graph_sources)
            found = memo.put(served, void_description(rt.settings, served.release, stats, titles, sources_by_graph))
        else:
            graph_files = await run_in_threadpool(_graph_files, served, rt.settings.base_uri, sources)
            date_rows = await run_in_threadpool(served.data.select, dates_query())
            periods = graph_periods(period_rows(date_rows))
            found = memo.put(
                served, catalog_description(rt.settings, served.release, stats, sources, graph_files, periods)
            )
    return served, found


def _graph_files(served: Served, base: str, sources: list[dict[str, str]]) -> dict[str, GraphFile]:
    """Each source graph's Turtle document, serialised as `/graph/<name>.ttl` serves it, measured."""
    out = {}
    for graph in sorted({row["graph"] for row in sources}):
        body = write_triples(graph_document(served.data.graph_quads(graph)), BY_NAME["turtle"], prefixes(base))
        out[graph] = GraphFile(len(body), hashlib.sha256(body).hexdigest())
    return out


def _catalog_context(request: Request, triples: list[ox.Triple], lang: str, doc_path: str) -> dict[str, object]:
    """The catalog for people (see `catalog_page.py`)."""
    return {
        "title": t("catalog", lang),
        "view": catalog_view(triples, lang, runtime(request).urls),
        "alternates": alternates(doc_path),
        "doc_path": doc_path,
        "blockers": harvest_blockers(runtime(request).settings),
    }


async def _respond(request: Request, key: str, doc_path: str, ext: str | None, title: str) -> Response:
    fixed = suffix_format(doc_path, ext)
    served, triples = await _description(request, key)
    base = runtime(request).settings.base_uri

    async def html(lang: str) -> Response:
        if key == "catalog":  # the catalog has a page for people; VoID is shown as its Turtle
            return render(request, "catalog.html", _catalog_context(request, triples, lang, doc_path))
        text = write_triples(triples, BY_NAME["turtle"], prefixes(base)).decode()
        return render(
            request,
            "rdfdoc.html",
            {"title": title, "turtle": text, "alternates": alternates(doc_path), "doc_path": doc_path},
        )

    return await document_response(request, served, doc_path, fixed, lambda: triples, html)


@router.get("/" + VOID_PATH)
async def void(request: Request) -> Response:
    return await _respond(request, "void", "/" + VOID_PATH, None, "VoID")


@router.get("/" + VOID_PATH + ".{ext}")
async def void_as(request: Request, ext: str) -> Response:
    return await _respond(request, "void", "/" + VOID_PATH, ext, "VoID")


@router.get("/catalog")
async def catalog(request: Request) -> Response:
    return await _respond(request, "catalog", "/catalog", None, "DCAT-AP_IT")


@router.get("/catalog.{ext}")
async def catalog_as(request: Request, ext: str) -> Response:
    return await _respond(request, "catalog", "/catalog", ext, "DCAT-AP_IT")


@router.get("/dumps/")
async def dumps_index(request: Request) -> Response:
    served = await served_for(request)
    return render(
        request,
        "dumps.html",
        {"title": "Dump", "dumps": sorted(served.release.dumps.items()), "release": served.release},
    )


@router.get("/dumps/{name}")
async def dump(request: Request, name: str) -> Response:
    """A dump file of the current release, with a checksum-based ETag (gzip files are served as gzip)."""
    served = await served_for(request)
    path = served.release.dumps_dir / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFound(f"No dump called {name!r}; see /dumps/ for the list.")
    info = served.release.dumps.get(name, {})
    etag = f'"{info["sha256"]}"' if "sha256" in info else served.release.etag("dump", name)
    headers = {"Cache-Control": "public, max-age=3600"}
    if (hit := conditional(request, served.release.created, etag, headers)) is not None:
        return hit
    return FileResponse(
        path,
        media_type=served_media_type(name),
        headers={**headers, **validators(served.release.created, etag)},
        filename=None if name == "SHA256SUMS" else name,
    )


@router.get("/robots.txt")
async def robots(request: Request) -> Response:
    root = str(request.base_url).rstrip("/")
    return PlainTextResponse(f"User-agent: *\nDisallow: /sparql\nAllow: /\nSitemap: {root}/sitemap.xml\n")


@router.get("/sitemap.xml")
async def sitemap(request: Request) -> Response:
    """Home, reference pages and every thing's document (https://www.sitemaps.org/protocol.html)."""
    rt = runtime(request)
    served = await served_for(request)
    root = str(request.base_url).rstrip("/")
    things = await run_in_threadpool(served.data.subjects_with_prefix, rt.urls.base + "id/")
    paths = ["/", "/sparql", "/ontology", "/shapes", "/catalog", "/" + VOID_PATH, "/dumps/"]
    paths += [rt.urls.document_path(t) or "" for t in things if "#" not in t]
    lastmod = served.release.created.date().isoformat()
    body = "".join(f"<url><loc>{escape(root + p)}</loc><lastmod>{lastmod}</lastmod></url>" for p in paths if p)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>\n'
    return Response(xml, media_type="application/xml")
