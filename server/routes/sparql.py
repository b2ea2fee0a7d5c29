"""`/sparql`: the SPARQL 1.1 Protocol for queries, the Service Description, and the query page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..errors import (
    BadRequest,
    MethodNotAllowed,
    NotAcceptable,
    PublisherError,
    QuerySyntaxError,
    ServiceUnavailable,
    StoreError,
)
from ..examples import examples
from ..formats import BY_NAME, CONSTRUCT_FORMATS, DOCUMENT_FORMATS, RESULT_FORMATS, Format, content_type
from ..guard import QueryInfo, inspect_query
from ..negotiation import choose
from ..query import VOLATILE, Job, Outcome
from ..results import write_triples
from ..service_description import service_description
from ..sparql_request import SparqlRequest, read_request
from ..vocab import prefixes
from ..web import conditional, language, render, runtime, served_for, stats_of

router = APIRouter()
HTML = BY_NAME["html"]
OFFERED: dict[str, tuple[Format, ...]] = {
    "SELECT": RESULT_FORMATS + (HTML,),
    "ASK": (BY_NAME["json"], BY_NAME["xml"], HTML),
    "CONSTRUCT": CONSTRUCT_FORMATS + (HTML,),
    "DESCRIBE": CONSTRUCT_FORMATS + (HTML,),
}


@router.api_route("/sparql", methods=["GET", "POST"])
async def sparql(request: Request) -> Response:
    """Answer a query, or describe the service (RDF) / show the query page (HTML) when there is none."""
    req = await read_request(request)
    if req.query is None:
        return await _no_query(request, req)
    info = inspect_query(req.query, runtime(request).settings.service_allowlist)
    fmt = choose(request.headers.get("accept"), req.format, OFFERED[info.form])
    if fmt.name == "html":
        return _page(request, req.query)
    return await _execute(request, req, info, fmt, _acceptable(request, req))


def _acceptable(request: Request, req: SparqlRequest) -> tuple[tuple[str, str], ...]:
    """The format the client gets for each query form, should the engine run another form than the guard
    read (the worker answers in the one that fits what actually ran)."""
    chosen = []
    for form, offered in OFFERED.items():
        try:
            fmt = choose(request.headers.get("accept"), req.format, tuple(f for f in offered if f is not HTML))
        except NotAcceptable:
            continue
        chosen.append((form, fmt.name))
    return tuple(chosen)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"])
async def sparql_other(request: Request) -> Response:
    raise MethodNotAllowed(
        f"{request.method} is not part of the SPARQL Protocol for queries: use GET or POST.",
        headers={"Allow": "GET, HEAD, POST, OPTIONS"},
    )


async def _no_query(request: Request, req: SparqlRequest) -> Response:
    if request.method == "POST":
        raise BadRequest("The request has no query.", link="https://www.w3.org/TR/sparql11-protocol/#query-operation")
    fmt = choose(request.headers.get("accept"), req.format, DOCUMENT_FORMATS)
    if fmt.name == "html":
        return _page(request, None)
    rt = runtime(request)
    served = await served_for(request)
    endpoint = str(request.url.replace(query="", fragment=""))
    body = write_triples(
        service_description(endpoint, rt.settings, served.release, await stats_of(request)),
        fmt,
        prefixes(rt.settings.base_uri),
    )
    return Response(
        body, media_type=content_type(fmt), headers={"Vary": "Accept", "Cache-Control": "public, max-age=300"}
    )


def _page(request: Request, query: str | None) -> Response:
    rt = runtime(request)
    ex = examples(rt.settings.base_uri, language(request))
    text = query or ex[0]["query"]
    try:
        form = inspect_query(text).form
    except PublisherError:
        form = "SELECT"
    downloads = [
        {
            "name": f.name,
            "label": f.label,
            "forms": [k for k, v in OFFERED.items() if f in v],
            "href": "/sparql?" + urlencode({"query": text, "format": f.name}),
        }
        for f in RESULT_FORMATS + CONSTRUCT_FORMATS
    ]
    return render(
        request,
        "sparql.html",
        {
            "title": "SPARQL",
            "query": text,
            "autorun": query is not None,
            "examples": ex,
            "formats": downloads,
            "form": form,
            "row_limit": rt.settings.sparql_row_limit,
            "timeout": rt.settings.sparql_timeout,
        },
        headers={"Vary": "Accept"},
    )


async def _execute(
    request: Request, req: SparqlRequest, info: QueryInfo, fmt: Format, formats: tuple[tuple[str, str], ...]
) -> Response:
    rt = runtime(request)
    served = await served_for(request)
    headers = {"Vary": "Accept", "X-Parita-Row-Limit": str(rt.settings.sparql_row_limit)}
    etag = served.release.etag(
        "sparql", req.query or "", fmt.name, "|".join(req.default_graphs), "|".join(req.named_graphs)
    )
    if request.method == "GET" and not VOLATILE.search(req.query or ""):
        headers["Cache-Control"] = "public, max-age=300"
        if (hit := conditional(request, served.release.created, etag, headers)) is not None:
            return hit
        headers["ETag"] = etag
    given = bool(req.default_graphs or req.named_graphs)
    job = Job(
        query=req.query or "",
        format=fmt.name,
        default_graphs=req.default_graphs if given else None,
        named_graphs=req.named_graphs if given else None,
        union_default=not info.has_from,
        row_limit=rt.settings.sparql_row_limit,
        base_iri=rt.settings.base_uri,
        prefixes=tuple(prefixes(rt.settings.base_uri).items()),
        formats=formats,
        federated=info.federated,
    )
    outcome = await served.pool.run(job)
    _raise_for(outcome)
    headers["X-Parita-Rows"] = str(outcome.rows)
    if outcome.truncated:
        headers["X-Parita-Truncated"] = "true"
    return Response(outcome.body, media_type=content_type(BY_NAME.get(outcome.format, fmt)), headers=headers)


def _raise_for(outcome: Outcome) -> None:
    if outcome.error == "syntax":
        raise QuerySyntaxError(
            f"The query does not parse: {outcome.message}", link="https://www.w3.org/TR/sparql11-query/#grammar"
        )
    if outcome.error == "evaluation":
        raise BadRequest(f"The query failed while running: {outcome.message}")
    if outcome.error == "form":
        raise NotAcceptable(outcome.message)
    if outcome.error == "memory":
        raise ServiceUnavailable(outcome.message, headers={"Retry-After": "5"})
    if outcome.error:
        raise StoreError(f"The store failed: {outcome.message}")
