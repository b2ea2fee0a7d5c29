"""A real HTTP server on loopback playing the other publishers a harvest meets: a CKAN-shaped DCAT-AP catalog
(ckanext-dcat's layout: dcat:Catalog → dcat:Dataset → dcat:Distribution with dcat:downloadURL, a literal
dcat:mediaType and spdx:checksum) and hostile or broken ones. Every statement in it is FICTITIOUS, made up
for these tests (the labels say so); no real body is described.

Sources: `ckan` (good), `status500`, `slow`, `redirect` (to another host), `loop` (an LDES page linking to
itself), `checksum` (the catalog's checksum is another file's), `big`, `xxe`, `jsonld` (a remote context),
`squat` (mints in the aggregator's namespace), `shacl` (fails the shapes), `parse` (truncated Turtle),
`trickle` (a dump that stalls until released). `streams` gives a source an LDES: `/{name}/ldes` lists its
pages, `/{name}/ldes/{n}` serves the n-th (Turtle written by the test, appended as its stream grows). `variants` makes any source serve a fault's data from now on
(`shacl`, `parse`), or redirect every request to the same URL over http (`downgrade`). Given a server TLS
context, the publishers answer over https instead.

Each source lives under its own path `/{name}/`, which is also the base URI it mints under.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CATALOG = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix spdx: <http://spdx.org/rdf/terms#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .

<{root}/catalog> a dcat:Catalog ;
    dct:title "Catalogo CKAN fittizio (dati inventati per i test)"@it ;
    dct:publisher <{root}/organization/ente-fittizio> ;
    dcat:dataset <{root}/dataset/uffici-fittizi> .
<{root}/organization/ente-fittizio> a foaf:Organization ; foaf:name "Ente fittizio" .
<{root}/dataset/uffici-fittizi> a dcat:Dataset ;
    dct:title "Uffici fittizi"@it ;
    dct:identifier "00000000-0000-0000-0000-000000000000" ;
    dcat:distribution <{root}/dataset/uffici-fittizi/resource/1> .
<{root}/dataset/uffici-fittizi/resource/1> a dcat:Distribution ;
    dct:title "uffici.{ext}" ;
    dcat:accessURL <{root}/dataset/uffici-fittizi/resource/1/download/uffici.{ext}> ;
    dcat:downloadURL <{root}/dataset/uffici-fittizi/resource/1/download/uffici.{ext}> ;
    dcat:mediaType "{media}" ;
    spdx:checksum [ a spdx:Checksum ; spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue "{sha256}" ] .
"""

TURTLE = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<{subject}> a foaf:Organization ;
    rdfs:label "Ufficio fittizio per i test (dati inventati)"@it ;
    rdfs:comment "Contenuto di prova, non descrive alcun ente reale."@it .
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "ha">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
 <rdf:Description rdf:about="{subject}"><rdfs:label xml:lang="it">&f;&xxe;</rdfs:label></rdf:Description>
</rdf:RDF>
"""

#: An organisation (an ORG class) that names no source page: parsed and inside its base, refused by the shapes.
UNSOURCED = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix org: <http://www.w3.org/ns/org#> .
<{subject}> a org:Organization ;
    rdfs:label "Ufficio fittizio senza fonte (dati inventati)"@it , "Fictitious office without a source (made up)"@en .
"""

#: Turtle cut off in the middle of a statement.
BROKEN_TURTLE = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{subject}> rdfs:label "Ufficio fittizio (dati inventati)"@it ;
    rdfs:comment
"""

REMOTE_CONTEXT = """{{"@context": "http://example.org/context.jsonld",
 "@id": "{subject}", "label": "Ufficio fittizio (dati inventati)"}}
"""

LOOP_ROOT = """@prefix tree: <https://w3id.org/tree#> .
@prefix ldes: <https://w3id.org/ldes#> .
<{root}/ldes> a ldes:EventStream ; tree:view <{root}/ldes> .
<{root}/ldes> tree:relation [ a tree:Relation ; tree:node <{root}/ldes/page> ] .
"""
LOOP_PAGE = """@prefix tree: <https://w3id.org/tree#> .
<{root}/ldes/page> a tree:Node ; tree:relation [ a tree:Relation ; tree:node <{root}/ldes/page> ] .
"""


STREAM_ROOT = """@prefix tree: <https://w3id.org/tree#> .
@prefix ldes: <https://w3id.org/ldes#> .
<{root}/ldes> a ldes:EventStream ; tree:view <{root}/ldes> .
"""


class Publishers:
    """The fixture publishers; `aggregator_base` is the namespace the squatting source mints in."""

    def __init__(
        self, aggregator_base: str, big_bytes: int, slow_seconds: float, tls: ssl.SSLContext | None = None
    ) -> None:
        self.aggregator_base = aggregator_base
        self.big_bytes = big_bytes
        self.slow_seconds = slow_seconds
        self.trickle_started = threading.Event()
        self.release_trickle = threading.Event()
        self.stop_slow = threading.Event()
        self.hits: list[str] = []
        #: source name -> the fault whose data it serves now (`shacl`, `parse`); absent: its own data
        self.variants: dict[str, str] = {}
        #: source name -> the Turtle of its LDES pages, oldest first
        self.streams: dict[str, list[str]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        if tls is not None:  # a client that fails the handshake is dropped at accept (an OSError it ignores)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.netloc = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{'https' if tls else 'http'}://{self.netloc}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_slow.set()
        self.release_trickle.set()
        self.server.shutdown()
        self.server.server_close()

    def base(self, name: str) -> str:
        return f"{self.url}/{name}/"

    def dump(self, name: str) -> tuple[bytes, str, str]:
        """(bytes, media type, extension) of source `name`'s dump."""
        root = f"{self.url}/{name}"
        subject = f"{root}/ente/ufficio-fittizio"
        if name == "xxe":
            return BILLION_LAUGHS.format(subject=subject).encode(), "application/rdf+xml", "rdf"
        if name == "jsonld":
            return REMOTE_CONTEXT.format(subject=subject).encode(), "application/ld+json", "jsonld"
        if name == "squat":
            subject = self.aggregator_base + "id/organization/ufficio-fittizio"
        variant = self.variants.get(name, name)
        if variant in ("shacl", "parse"):
            body = UNSOURCED if variant == "shacl" else BROKEN_TURTLE
            return body.format(subject=subject).encode(), "text/turtle", "ttl"
        body = TURTLE.format(subject=subject)
        if name == "big":
            body += "# riempitivo fittizio\n" * (self.big_bytes // 22 + 1)
        return body.encode(), "text/turtle", "ttl"

    def catalog(self, name: str) -> bytes:
        data, media, ext = self.dump(name)
        sha = hashlib.sha256(data).hexdigest()
        if name == "checksum":
            sha = hashlib.sha256(b"another file").hexdigest()
        return CATALOG.format(root=f"{self.url}/{name}", media=media, ext=ext, sha256=sha).encode()

    def stream(self, name: str, rest: str) -> str:
        """The root of source `name`'s LDES (linking every page), or its n-th page (`ldes/n`)."""
        root = f"{self.url}/{name}"
        pages = self.streams[name]
        if rest == "ldes":
            return STREAM_ROOT.format(root=root) + "".join(
                f"<{root}/ldes> <https://w3id.org/tree#relation> [ <https://w3id.org/tree#node> <{root}/ldes/{n}> ] .\n"
                for n in range(1, len(pages) + 1)
            )
        return pages[int(rest.rsplit("/", 1)[1]) - 1]

    def _handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        publishers = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def send(
                self, status: int, body: bytes, media: str = "text/turtle", extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                publishers.hits.append(self.path)
                name, _, rest = self.path.lstrip("/").partition("/")
                if publishers.variants.get(name) == "downgrade":
                    return self.send(302, b"", "text/plain", {"Location": f"http://{publishers.netloc}{self.path}"})
                if name == "status500":
                    return self.send(500, b"internal error (fictitious)", "text/plain")
                if name == "slow":
                    publishers.stop_slow.wait(publishers.slow_seconds)
                if name == "redirect":
                    location = f"http://localhost:{publishers.server.server_address[1]}/ckan/{rest}"
                    return self.send(302, b"", "text/plain", {"Location": location})
                if name == "loop":
                    root = f"{publishers.url}/loop"
                    body = LOOP_ROOT if rest == "ldes" else LOOP_PAGE
                    return self.send(200, body.format(root=root).encode())
                if name in publishers.streams and rest.startswith("ldes"):
                    return self.send(200, publishers.stream(name, rest).encode())
                if rest == "catalog":
                    return self.send(200, publishers.catalog(name))
                if rest.startswith("dataset/uffici-fittizi/resource/1/download/"):
                    data, media, _ = publishers.dump(name)
                    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        return self.send(304, b"", media, {"ETag": etag})
                    if name == "trickle":
                        self.send_response(200)
                        self.send_header("Content-Type", media)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data[:10])
                        self.wfile.flush()
                        publishers.trickle_started.set()
                        publishers.release_trickle.wait(60)
                        self.wfile.write(data[10:])
                        return None
                    return self.send(200, data, media, {"ETag": etag})
                return self.send(404, b"not found", "text/plain")

        return Handler


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Wait (bounded) for an observable condition."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
