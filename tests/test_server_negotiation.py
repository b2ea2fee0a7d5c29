"""Content negotiation is a pure function: a table of Accept headers and what they get."""

from __future__ import annotations

import httpx
import pytest
from rdflib.parser import URLInputSource

from server.errors import BadRequest, NotAcceptable
from server.formats import BY_NAME, CONSTRUCT_FORMATS, DOCUMENT_FORMATS, FORMATS, RESULT_FORMATS, by_name
from server.negotiation import choose, negotiate

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    "accept, offered, expected",
    [
        (None, DOCUMENT_FORMATS, "turtle"),
        ("", DOCUMENT_FORMATS, "turtle"),
        ("*/*", DOCUMENT_FORMATS, "turtle"),
        (BROWSER, DOCUMENT_FORMATS, "html"),
        ("text/*", DOCUMENT_FORMATS, "turtle"),
        ("application/*", DOCUMENT_FORMATS, "jsonld"),
        ("text/turtle;q=0.5, application/ld+json;q=0.9", DOCUMENT_FORMATS, "jsonld"),
        ("application/rdf+xml, text/turtle", DOCUMENT_FORMATS, "turtle"),  # equal q: the server's qs decides
        ("application/rdf+xml, */*", DOCUMENT_FORMATS, "rdfxml"),  # equal q: a named type beats a wildcard
        ("text/*, */*", DOCUMENT_FORMATS, "turtle"),
        ("text/turtle;q=0.9, application/rdf+xml", DOCUMENT_FORMATS, "rdfxml"),  # the client's q before qs
        ("*", DOCUMENT_FORMATS, "turtle"),  # a bare `*` reads as */*
        ("image/png, *;q=0.1", DOCUMENT_FORMATS, "turtle"),
        ("application/n-triples", DOCUMENT_FORMATS, "ntriples"),
        ("text/html;q=0, */*", DOCUMENT_FORMATS, "turtle"),
        ("*/*", RESULT_FORMATS, "json"),
        ("application/sparql-results+xml;q=0.5, application/sparql-results+json", RESULT_FORMATS, "json"),
        ("application/json", RESULT_FORMATS, "json"),
        ("text/tab-separated-values", RESULT_FORMATS, "tsv"),
        ("application/n-quads", CONSTRUCT_FORMATS, "nquads"),
        ("TEXT/TURTLE; charset=utf-8", CONSTRUCT_FORMATS, "turtle"),
    ],
)
def test_negotiate(accept: str | None, offered: tuple, expected: str) -> None:  # type: ignore[type-arg]
    assert negotiate(accept, offered).name == expected


@pytest.mark.parametrize("accept", ["image/png", "text/html;q=0", "application/sparql-results+json;q=0"])
def test_not_acceptable_lists_offered(accept: str) -> None:
    with pytest.raises(NotAcceptable) as err:
        negotiate(accept, RESULT_FORMATS)
    assert all(f.media_type in err.value.message for f in RESULT_FORMATS)


@pytest.mark.parametrize("accept", ["text", "text/turtle;q=abc", "text/turtle;q=2", "*/turtle", "*/"])
def test_malformed_accept_is_400(accept: str) -> None:
    with pytest.raises(BadRequest):
        negotiate(accept, DOCUMENT_FORMATS)


def test_format_parameter_wins() -> None:
    assert choose("text/turtle", "jsonld", DOCUMENT_FORMATS).name == "jsonld"
    assert choose(None, "text/csv", RESULT_FORMATS).name == "csv"
    with pytest.raises(NotAcceptable):
        choose(None, "png", RESULT_FORMATS)


def test_registry_is_consistent() -> None:
    media = [f.media_type for f in FORMATS]
    assert len(media) == len(set(media))
    extensions = [f.extension for f in FORMATS]
    assert len(extensions) == len(set(extensions))
    for f in FORMATS:
        assert by_name(f.name, FORMATS) is f and by_name(f.media_type, FORMATS) is f
        assert f.kind == "html" or f.sd_iri.startswith("http://www.w3.org/ns/formats/")
    assert BY_NAME["html"] not in RESULT_FORMATS


# The Accept headers real clients send, each from its source; what each should get from a document
# (/catalog, VoID, an /id/ thing after its 303), which offers Turtle, JSON-LD, RDF/XML, N-Triples and HTML.
REAL_CLIENTS = [
    # Java's HttpURLConnection default (sun.net.www.protocol.http.HttpURLConnection.acceptString);
    # `*` is not a valid media range, read as */*. It names text/html first, at q=1.
    ("java", "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", "html"),
    ("curl", "*/*", "turtle"),
    # python-requests' default headers (requests.utils.default_headers), also what ckanext-dcat's RDF
    # harvester sends: DCATHarvester._get_content_and_type uses a bare requests.Session (HEAD, then GET).
    ("python-requests / ckanext-dcat", "*/*", "turtle"),
    (
        "chrome",
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
        "application/signed-exchange;v=b3;q=0.7",
        "html",
    ),
    ("firefox", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("firefox (older)", BROWSER, "html"),
    # Comunica's rdf-parse actors, as its HTTP actor logs them (`comunica-sparql … -l debug`).
    (
        "comunica",
        "application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,application/n-triples;q=0.8,"
        "text/turtle;q=0.6,application/rdf+xml;q=0.5,application/json;q=0.45,text/n3;q=0.35,application/xml;q=0.3,"
        "image/svg+xml;q=0.3,text/xml;q=0.3,text/html;q=0.2,application/xhtml+xml;q=0.18,text/shaclc;q=0.1,"
        "text/shaclc-ext;q=0.05",
        "jsonld",
    ),
    ("explicit beats wildcard", "application/rdf+xml, */*", "rdfxml"),
]
DOCUMENTS = ["/catalog", "/.well-known/void", "/id/network/rete-antiviolenza-asti"]


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize("client, accept, expected", REAL_CLIENTS, ids=[c[0] for c in REAL_CLIENTS])
def test_real_client_accept_headers(live_server: object, path: str, client: str, accept: str, expected: str) -> None:
    url = live_server.url + path  # type: ignore[attr-defined]
    response = httpx.get(url, headers={"Accept": accept}, follow_redirects=True, timeout=30.0)
    assert response.status_code == 200, f"{client} on {path}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].split(";")[0] == BY_NAME[expected].media_type, client


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize(
    "rdflib_format, expected",
    [(None, "turtle"), ("xml", "rdfxml"), ("json-ld", "jsonld"), ("turtle", "turtle"), ("nt", "ntriples")],
)
def test_rdflib_fetches_what_it_asks_for(
    live_server: object, path: str, rdflib_format: str | None, expected: str
) -> None:
    """rdflib's own request (URLInputSource builds the Accept header from `format`, or from every parser it
    has) gets a type that rdflib's parser for that format reads; `nt` asks for text/plain, N-Triples' old type."""
    source = URLInputSource(live_server.url + path, rdflib_format)  # type: ignore[attr-defined]
    assert source.content_type is not None
    assert source.content_type.split(";")[0] == BY_NAME[expected].media_type
