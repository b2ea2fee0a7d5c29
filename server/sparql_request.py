"""Read a SPARQL 1.1 Protocol request (GET, POST form, POST direct) into one `SparqlRequest`.
https://www.w3.org/TR/sparql11-protocol/#query-operation"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

from .errors import BadRequest, UnsupportedMediaType
from .guard import refuse_update

_SPEC = "https://www.w3.org/TR/sparql11-protocol/#query-operation"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class SparqlRequest:
    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    format: str | None


def _media(request: Request) -> tuple[str, str | None]:
    raw = request.headers.get("content-type")
    if raw is None:
        raise BadRequest(
            "A POST to /sparql needs a Content-Type: application/x-www-form-urlencoded (query=…) "
            "or application/sparql-query (the query as body).",
            link=_SPEC,
        )
    media, *params = (p.strip() for p in raw.split(";"))
    charset = next(
        (p.split("=", 1)[1].strip().strip('"').lower() for p in params if p.lower().startswith("charset=")), None
    )
    return media.lower(), charset


def _decode(body: bytes, charset: str | None) -> str:
    if charset not in (None, "utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset={charset} is not supported: send the request body as UTF-8.", link=_SPEC)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The request body is not valid UTF-8 ({exc}).", link=_SPEC) from None


def _single(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        raise BadRequest(f"{len(values)} `{name}` parameters were sent; the protocol allows exactly one.", link=_SPEC)
    return values[0] if values else None


def _build(pairs: list[tuple[str, str]], query: str | None) -> SparqlRequest:
    if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k, _ in pairs):
        raise refuse_update()
    return SparqlRequest(
        query=query,
        default_graphs=tuple(v for k, v in pairs if k == "default-graph-uri"),
        named_graphs=tuple(v for k, v in pairs if k == "named-graph-uri"),
        format=_single(pairs, "format"),
    )


async def read_request(request: Request) -> SparqlRequest:
    """Parse GET parameters, or a POST body (form or direct), into a `SparqlRequest` or a 4xx error."""
    url_pairs = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method in ("GET", "HEAD"):
        return _build(url_pairs, _single(url_pairs, "query"))
    media, charset = _media(request)
    body = await request.body()
    if media == FORM:
        form = parse_qsl(_decode(body, charset), keep_blank_values=True)
        pairs = url_pairs + form
        if _single(url_pairs, "query") is not None:
            raise BadRequest("With a form POST the query goes in the body, not in the URL.", link=_SPEC)
        query = _single(form, "query")
        if query is None and not any(k == "update" for k, _ in form):
            raise BadRequest("The form has no `query` field.", link=_SPEC)
        return _build(pairs, query)
    if media == DIRECT:
        if _single(url_pairs, "query") is not None:
            raise BadRequest("With application/sparql-query the query is the body; drop `query=` from the URL.")
        return _build(url_pairs, _decode(body, charset))
    if media == UPDATE:
        raise refuse_update()
    raise UnsupportedMediaType(f"Content-Type {media!r} is not accepted: use {FORM} or {DIRECT}.", link=_SPEC)
