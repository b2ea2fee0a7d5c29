"""Dereferencing: `/id/…` → 303 → `/doc/…` (negotiated, suffix URLs), named graphs, other IRIs under the base.
The policy is described in `server/urls.py`."""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import NotFound
from ..formats import Format
from ..runtime import Served
from ..store import Description
from ..urls import Urls
from ..views import graph_context, resource_context
from ..void import graph_document
from ..web import document_response, render, runtime, served_for

router = APIRouter()  # /id/, /doc/, /graph/: matched first, they are most of the traffic
fallback = APIRouter()  # any other path under the base: matched last
PRIMARY_TOPIC_OF = "http://xmlns.com/foaf/0.1/isPrimaryTopicOf"
DCT_SOURCE = "http://purl.org/dc/terms/source"
HTML_PAGE_SIZE = 50
RDF_INCOMING_LIMIT = 1000


def _not_found(iri: str) -> NotFound:
    return NotFound(
        f"<{iri}> is not described in this dataset. Browse from the home page or ask /sparql.",
        it=f"<{iri}> non è descritta in questi dati. Esplora dalla pagina iniziale o interroga /sparql.",
    )


@router.get("/id/{path:path}")
async def thing(request: Request, path: str) -> Response:
    """A thing's IRI: 303 See Other to the document about it."""
    rt = runtime(request)
    served = await served_for(request)
    iri = rt.urls.iri(request.url.path)
    if not await served.look(served.data.exists, iri):
        raise _not_found(iri)
    return RedirectResponse(
        f"/doc/{path}", status_code=303, headers={"Vary": "Accept", "Cache-Control": "public, max-age=3600"}
    )


PUBLISHED_IN = """SELECT DISTINCT ?g ?publisher ?source WHERE {{
  GRAPH ?g {{ <{iri}> ?p ?o }}
  OPTIONAL {{ GRAPH ?g {{ ?g <http://purl.org/dc/terms/publisher> ?publisher }} }}
  OPTIONAL {{ GRAPH ?g {{ ?g <http://purl.org/dc/terms/source> ?source }} }}
}} ORDER BY ?g"""


@router.get("/doc/")
async def foreign_document(request: Request) -> Response:
    """`/doc/?uri=IRI`: the description of an IRI outside this instance's base (a harvested publisher's thing),
    with the graph it came from and its home, the IRI itself; an IRI under the base goes (303) to its document."""
    rt = runtime(request)
    served = await served_for(request)
    iri = request.query_params.get("uri", "")
    if not iri:
        raise NotFound("Give the IRI to describe: /doc/?uri=IRI.")
    if (own := rt.urls.document_path(iri)) is not None:
        return RedirectResponse(own, status_code=303, headers={"Vary": "Accept"})
    if not await served.look(served.data.exists, iri):
        raise _not_found(iri)
    rows = await run_in_threadpool(served.data.select, PUBLISHED_IN.format(iri=iri.replace(">", "%3E")))
    graphs = [r for r in rows if r["g"].value.startswith(rt.urls.base + "graph/publisher/")]
    published_by = None
    if graphs:
        first = graphs[0]
        name = first["publisher"].value if "publisher" in first else first["g"].value.rsplit("/", 1)[-1]
        published_by = {"publisher": name, "home": iri, "graph": first["g"].value}
    doc_path = rt.urls.foreign_document(iri)
    return await describe_response(request, served, iri, doc_path, None, published_by)


@router.get("/doc/{path:path}")
async def document(request: Request, path: str) -> Response:
    """The document about `B id/{path}`, in the negotiated or suffix format."""
    rt = runtime(request)
    served = await served_for(request)
    stem, fixed = Urls.split_suffix(path)
    iri = rt.urls.iri("/id/" + stem)
    if not await served.look(served.data.exists, iri):
        raise _not_found(iri)
    return await describe_response(request, served, iri, "/doc/" + stem, fixed)


async def describe_response(
    request: Request,
    served: Served,
    iri: str,
    doc_path: str,
    fixed: Format | None,
    published_by: dict[str, str] | None = None,
) -> Response:
    """Negotiate and answer the description of `iri` published at `doc_path` (`published_by`: the harvested
    publisher's name, the graph and the home of a thing outside the base, said on the page and in the RDF)."""
    page = max(1, _int(request.query_params.get("incoming"), 1))

    def rdf() -> list[ox.Triple]:
        triples = served.data.describe(iri, 0, RDF_INCOMING_LIMIT).triples()
        if published_by is not None:  # where this description comes from: the publisher's graph, its home
            triples.append(
                ox.Triple(ox.NamedNode(iri), ox.NamedNode(PRIMARY_TOPIC_OF), ox.NamedNode(published_by["home"]))
            )
            triples.append(ox.Triple(ox.NamedNode(iri), ox.NamedNode(DCT_SOURCE), ox.NamedNode(published_by["graph"])))
        return triples

    heavy = served.heavy(iri)
    order = served.data.page_order(iri)  # "sorted" but for a hub on the embedded store

    async def html(lang: str) -> Response:
        desc: Description = await served.look(
            served.data.describe, iri, (page - 1) * HTML_PAGE_SIZE, HTML_PAGE_SIZE, heavy=heavy
        )
        context = resource_context(runtime(request).urls, served, desc, doc_path, lang, page, published_by)
        return render(request, "resource.html", context)

    variant = f"incoming={page}" + ("" if order == "sorted" else f";order={order}")
    return await document_response(request, served, doc_path, fixed, rdf, html, variant, heavy=heavy)


@router.get("/graph/{path:path}")
async def graph(request: Request, path: str) -> Response:
    """A named graph: its triples (RDF) or the resources it describes (HTML)."""
    rt = runtime(request)
    served = await served_for(request)
    stem, fixed = Urls.split_suffix(path)
    graph_iri = rt.urls.iri("/graph/" + stem)
    if not await served.look(served.data.graph_exists, graph_iri):
        raise NotFound(
            f"There is no named graph <{graph_iri}>. The list is in /.well-known/void.",
            it=f"Non esiste il grafo <{graph_iri}>. L'elenco è in /.well-known/void.",
        )

    def rdf() -> list[ox.Triple]:  # exactly the graph (what it is part of, its size and source: VoID)
        return graph_document(served.data.graph_quads(graph_iri))

    async def html(lang: str) -> Response:
        return render(request, "graph.html", await graph_context(rt.urls, served, graph_iri, "/graph/" + stem, lang))

    return await document_response(request, served, "/graph/" + stem, fixed, rdf, html)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


@fallback.get("/{path:path}")
async def other(request: Request, path: str) -> Response:
    """Any other IRI under the base that the data describes (last route: everything else is a 404)."""
    rt = runtime(request)
    served = await served_for(request)
    stem, fixed = Urls.split_suffix("/" + path)
    iri = rt.urls.iri(stem)
    if not path or not await served.look(served.data.exists, iri):
        raise NotFound(
            f"Nothing is published at {request.url.path}.",
            it=f"Non è pubblicato nulla all'indirizzo {request.url.path}.",
        )
    versioned = await served.look(served.data.version_of, iri)
    if versioned and (target := rt.urls.document_path(versioned)):
        return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})
    return await describe_response(request, served, iri, stem, fixed)
