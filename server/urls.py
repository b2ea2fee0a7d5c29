"""Map request paths to canonical IRIs and back, whatever host and port serve them (Pubby's
datasetBase/webBase): `http://127.0.0.1:8000/id/x` ↔ `https://w3id.org/parita/id/x`.

URI policy (one rule, followed everywhere):
* `B id/{kind}/{slug}` names a *thing* (a body, a network, a protocol …). Requesting it answers
  **303 See Other** to its document `B doc/{kind}/{slug}` (httpRange-14, "Cool URIs" §4.3), whatever
  the Accept header; an unknown thing is a 404.
* Documents answer **200** with content negotiation (Turtle, JSON-LD, RDF/XML, N-Triples, HTML;
  `*/*` gets Turtle, browsers get HTML), `Vary: Accept`, `Content-Location` naming the suffix URL
  actually sent, and suffix URLs `.ttl .jsonld .rdf .nt .html` that fix the format.
* Information resources under the base — `B ontology` and `B shapes` (hash namespaces: `#Term`
  lands on the term's entry), named graphs `B graph/{name}`, `B catalog`, `B .well-known/void` —
  are documents already and answer 200 the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from .formats import DOCUMENT_FORMATS, Format

_WEB = re.compile(r"https?://", re.I)


@dataclass(frozen=True)
class Urls:
    """Canonical base `base` (ending with / or #)."""

    base: str

    def iri(self, path: str) -> str:
        """Canonical IRI of a request path (`/id/x` → `B id/x`)."""
        return self.base + path.lstrip("/")

    def path(self, iri: str) -> str | None:
        """Server path of a canonical IRI, or None when the IRI is outside the base."""
        if not iri.startswith(self.base):
            return None
        return "/" + quote(iri[len(self.base) :], safe="/#:@!$&'()*+,;=-._~%")

    def link(self, iri: str) -> str:
        """Where a page should link for `iri`: our own path for our IRIs, the IRI itself for other http(s)
        IRIs, and "" (no link: templates show the text alone) for any other scheme (`javascript:`, `data:`)."""
        return self.path(iri) or (iri if _WEB.match(iri) else "")

    def document_path(self, iri: str) -> str | None:
        """The document describing `iri`: `/doc/…` for things, the document itself otherwise."""
        path = self.path(iri)
        if path is None:
            return None
        path = path.split("#", 1)[0]
        return "/doc/" + path[len("/id/") :] if path.startswith("/id/") else path

    @staticmethod
    def foreign_document(iri: str) -> str:
        """The description here of a thing outside the base (a harvested publisher's): `/doc/?uri=IRI`."""
        return "/doc/?" + urlencode({"uri": iri})

    @staticmethod
    def with_format(doc_path: str, fmt: Format) -> str:
        """Suffix URL of a document in one format: `/doc/x` → `/doc/x.ttl`."""
        if "?" in doc_path:  # a document named by a query (`/doc/?uri=…`, an IRI outside the base)
            return f"{doc_path}&format={fmt.name}"
        return f"{doc_path}.{fmt.extension}"

    @staticmethod
    def split_suffix(path: str) -> tuple[str, Format | None]:
        """`/doc/x.ttl` → (`/doc/x`, Turtle); a path without a known suffix → (path, None)."""
        stem, dot, ext = path.rpartition(".")
        if dot and "/" not in ext:
            fmt = next((f for f in DOCUMENT_FORMATS if f.extension == ext), None)
            if fmt is not None:
                return stem, fmt
        return path, None
