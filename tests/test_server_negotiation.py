"""Content negotiation is a pure function: a table of Accept headers and what they get."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize("accept", ["text", "text/turtle;q=abc", "text/turtle;q=2", "*/turtle"])
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
