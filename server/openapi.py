"""`GET /-/openapi.json`: an OpenAPI 3.1 description of the public read-only HTTP interface.

Written out here rather than generated from the routes: the routes read the raw request (the SPARQL
Protocol and content negotiation do not fit FastAPI's parameter model), so a generated schema would say
nothing true. Media types come from the one format registry (`formats.py`). Only public routes are
described: the submission route (token-protected, absent unless configured) is not.
https://spec.openapis.org/oas/v3.1.0
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from . import __version__
from .formats import CONSTRUCT_FORMATS, DOCUMENT_FORMATS, RESULT_FORMATS

OPENAPI_PATH = "/-/openapi.json"
router = APIRouter()
ERROR_TYPES = ("application/json", "text/plain", "text/html")
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "status", "title", "error"],
    "properties": {
        "ok": {"const": False},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "error": {"type": "string"},
        "link": {"type": "string"},
    },
}
RESULTS_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["head"],
    "properties": {"head": {"type": "object"}, "results": {"type": "object"}, "boolean": {"type": "boolean"}},
}
ACCEPT = {
    "name": "Accept",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Content negotiation (q-values honoured); a suffix or `format` wins over it.",
}
FORMAT = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "A format name (turtle, jsonld, rdfxml, ntriples, html; json, xml, csv, tsv for results).",
}
PATH = {
    "name": "path",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "`{kind}/{slug}`, optionally with a suffix (.ttl .jsonld .rdf .nt .html).",
}
SPARQL_PARAMS = [
    {
        "name": "query",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE); without it, the Service Description.",
    },
    {"name": "default-graph-uri", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "named-graph-uri", "in": "query", "required": False, "schema": {"type": "string"}},
    FORMAT,
    ACCEPT,
]


def _content(types: tuple[str, ...], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {t: {"schema": (schemas or {}).get(t, {})} for t in types}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": _content(ERROR_TYPES, {"application/json": ERROR_SCHEMA}),
    }
    if headers:
        out["headers"] = headers
    return out


RETRY = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait before trying again."}}
DOC_TYPES = tuple(f.media_type for f in DOCUMENT_FORMATS)
ANSWER_TYPES = tuple(dict.fromkeys(f.media_type for f in RESULT_FORMATS + CONSTRUCT_FORMATS + DOCUMENT_FORMATS))
COMMON = {
    "400": _error("Malformed request (a bad Accept header, path or parameter)."),
    "404": _error("Nothing is published there."),
    "406": _error("No offered format matches Accept."),
    "414": _error("The request path is too long."),
}


def _document(summary: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": [FORMAT, ACCEPT] + list((extra or {}).get("params", [])),
            "responses": {
                "200": {"description": "The document in the negotiated format.", "content": _content(DOC_TYPES)},
                "304": {"description": "Not modified (If-None-Match / If-Modified-Since)."},
                **COMMON,
            },
        }
    }


def _sparql() -> dict[str, Any]:
    ok = {
        "description": "Results (SELECT/ASK), a graph (CONSTRUCT/DESCRIBE), the Service Description or the query page.",
        "content": _content(ANSWER_TYPES, {"application/sparql-results+json": RESULTS_JSON}),
    }
    refusals = {
        "400": _error("Malformed request or query (the parser's message and position)."),
        "403": _error("Refused: an update, SERVICE or LOAD on this read-only endpoint."),
        "406": COMMON["406"],
        "408": _error("The request body arrived too slowly."),
        "413": _error("The request body is larger than the limit."),
        "414": COMMON["414"],
        "503": _error("The query timed out or every worker is busy.", RETRY),
    }
    form = {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "default-graph-uri": {"type": "string"},
            "named-graph-uri": {"type": "string"},
        },
    }
    return {
        "get": {
            "summary": "SPARQL 1.1 Protocol query (GET)",
            "parameters": SPARQL_PARAMS,
            "responses": {"200": ok, "304": {"description": "Not modified."}, **refusals},
        },
        "post": {
            "summary": "SPARQL 1.1 Protocol query (POST form or direct)",
            "parameters": [FORMAT, ACCEPT],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": form},
                    "application/sparql-query": {"schema": {"type": "string"}},
                },
            },
            "responses": {"200": ok, **refusals, "415": _error("Unsupported Content-Type or charset.")},
        },
    }


def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    thing = {
        "get": {
            "summary": "A thing's IRI: 303 See Other to its document",
            "parameters": [PATH, ACCEPT],
            "responses": {
                "303": {
                    "description": "See Other: /doc/{path}.",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                **COMMON,
            },
        }
    }
    dumps = {
        "get": {
            "summary": "The dumps of the current release",
            "responses": {
                "200": {"description": "List with checksums.", "content": _content(("text/html",))},
                **COMMON,
            },
        }
    }
    dump = {
        "get": {
            "summary": "One dump file",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "The file.",
                    "content": _content(("application/gzip", "text/turtle", "text/plain")),
                },
                "304": {"description": "Not modified."},
                **COMMON,
            },
        }
    }
    health = {
        "get": {
            "summary": "Liveness and the release served",
            "responses": {
                "200": {
                    "description": "Serving.",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}
                        }
                    },
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "parita",
            "version": __version__,
            "description": "Read-only linked open data: SPARQL 1.1 Protocol, dereferenceable IRIs (303 policy), "
            "VoID, DCAT-AP_IT and dumps.",
        },
        "paths": {
            "/sparql": _sparql(),
            "/id/{path}": thing,
            "/doc/{path}": _document("A document about a thing", {"params": [PATH]}),
            "/catalog": _document("DCAT-AP_IT catalog"),
            "/.well-known/void": _document("VoID description"),
            "/dumps/": dumps,
            "/dumps/{name}": dump,
            "/health": health,
        },
    }


@router.get(OPENAPI_PATH, include_in_schema=False)
async def openapi() -> Response:
    return JSONResponse(spec(), headers={"Cache-Control": "public, max-age=3600"})
