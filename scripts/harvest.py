"""`parita harvest SOURCES`: publish other publishers' data, harvested from their DCAT catalog or their LDES.

The sources file (TOML, documented in the README, "A network of publishers"):

    shared = ["https://w3id.org/italia/"]      # namespaces any source may describe (OntoPiA vocabularies)
    [[source]]
    id = "asti"                                # its graph: {base}graph/publisher/asti
    name = "Provincia di Asti"
    ldes = "https://dati.provincia.asti.it/ldes"      # or: catalog = "https://…/catalog"
    base_uris = ["https://dati.provincia.asti.it/"]   # where it may mint IRIs
    allow_hosts = []                           # other hosts its redirects may lead to (default: none)

Each source, in turn, is fetched (bounded: bytes, seconds, requests; only its URLs and same-host redirects),
screened, checked (its subjects inside its base URIs or the shared namespaces; its references to its own
things described), and published as the named graph `graph/publisher/ID` in a new release that `parita
build` validates with the shapes: a refusal leaves that source's last good data published and the next
source goes on. From a catalog: the RDF dump distribution, downloaded with a conditional GET, its
`spdx:checksum` verified. Its bodies are reconciled with published ones: the owl:sameAs go into the
derived graph `graph/reconciled` (scripts/reconcile.py), published in the same release. From an LDES: every page the first time, then only pages not seen before, each
version applied to the entity it is a version of (the newest wins; a tombstone removes it). A parita
source's ontology and shapes are parita's own: their terms are read as this instance's and not copied.

State (`build/harvest/state.json`, replaced atomically after each source) keeps per source the last
attempt and success, status, error, counts, validators and the pages seen; an LDES source's entities (their
current statements and their lines of the contribution file) are `build/harvest/ID.entities.sqlite`, changed
in one transaction committed with the release, so an incremental harvest works on the entities it changed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import sqlite3
import ssl
import sys
import time
import tomllib
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pyoxigraph as ox

from scripts import reconcile
from scripts.build import BuildError, Progress, build
from scripts.derive import derived_graphs
from scripts.rdfio import UnreadableInput
from scripts.rdfscreen import HostileInput, screen
from scripts.sources import RECONCILED_KEY, contributions_dir, graph_iri
from server.config import DEFAULT_BASE_URI, Settings
from server.ldes import TIMESTAMP, TOMBSTONE, TREE, VERSION_OF
from server.sources import read_state, state_path
from server.vocab import DCAT, DCT, OWL, PROV, RDF, XSD

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
SPDX = "http://spdx.org/rdf/terms#"
DEFAULT_SHARED = ("https://w3id.org/italia/",)
MAX_REDIRECTS = 5
#: A source id names graphs and files: ASCII lower-case words joined by hyphens.
SOURCE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: Distribution media types harvested, best first (the N-Quads dump keeps nothing parita needs apart, so any).
RDF_MEDIA = {
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/trig": ox.RdfFormat.TRIG,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
ACCEPT_RDF = "text/turtle, application/n-triples;q=0.9, application/ld+json;q=0.5"


class Refused(Exception):
    """A source refused: `reason` (a short code), what happened, and how its publisher can fix it."""

    def __init__(self, reason: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.reason, self.message, self.fix = reason, message, fix


@dataclass(frozen=True)
class Source:
    id: str
    base_uris: tuple[str, ...]
    catalog: str = ""
    ldes: str = ""
    name: str = ""
    allow_hosts: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return self.ldes or self.catalog


@dataclass(frozen=True)
class SourcesFile:
    sources: tuple[Source, ...]
    shared: tuple[str, ...]


def load_sources(path: Path) -> SourcesFile:
    """Read and check the sources file; a mistake is a ValueError naming the source and the key."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sources = []
    for number, raw in enumerate(data.get("source", []), 1):
        where = f"{path}: source #{number}"
        if not isinstance(raw.get("id"), str) or not SOURCE_ID.fullmatch(raw["id"]):
            raise ValueError(f"{where}: `id` must be lower-case letters, digits and hyphens")
        if bool(raw.get("catalog")) == bool(raw.get("ldes")):
            raise ValueError(f"{where} ({raw['id']}): give exactly one of `catalog` or `ldes`")
        bases = raw.get("base_uris")
        if not bases or not all(isinstance(b, str) and b.startswith(("http://", "https://")) for b in bases):
            raise ValueError(f"{where} ({raw['id']}): `base_uris` must list the http(s) base URIs it mints under")
        for key in ("catalog", "ldes"):
            if raw.get(key) and urlsplit(raw[key]).scheme not in ("http", "https"):
                raise ValueError(f"{where} ({raw['id']}): `{key}` must be an http(s) URL")
        sources.append(
            Source(
                raw["id"],
                tuple(bases),
                raw.get("catalog", ""),
                raw.get("ldes", ""),
                raw.get("name", ""),
                tuple(raw.get("allow_hosts", ())),
            )
        )
    if len({s.id for s in sources}) != len(sources):
        raise ValueError(f"{path}: two sources share an id")
    return SourcesFile(tuple(sources), tuple(data.get("shared", DEFAULT_SHARED)))


# --- Fetching: only the listed URLs, same-host redirects, bounded -----------------------------------


def _failed_verification(error: BaseException) -> bool:
    """Whether a transport error comes from a certificate the trusted authorities do not vouch for (httpx and
    httpcore wrap the ssl module's error: it is down the chain of causes)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def trusted_authorities(settings: Settings) -> ssl.SSLContext:
    """The public certificate authorities (certifi's, as httpx has them; never the environment's), plus those of
    PARITA_HARVEST_CA_BUNDLE: an administration on a private PKI signs its servers with its own. ValueError
    saying which file and why when that bundle cannot be read."""
    context = httpx.create_ssl_context(trust_env=False)
    if settings.harvest_ca_bundle:
        try:
            context.load_verify_locations(cafile=settings.harvest_ca_bundle)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(
                f"PARITA_HARVEST_CA_BUNDLE={settings.harvest_ca_bundle}: not a readable PEM file of certificates "
                f"({error})."
            ) from None
    return context


@dataclass
class Fetched:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass
class Fetcher:
    source: Source
    max_bytes: int
    timeout: float
    max_requests: int
    #: the certificate authorities an https answer is checked against (`trusted_authorities`)
    authorities: ssl.SSLContext | None = None
    requests: int = 0
    bytes: int = 0
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        verify = self.authorities or httpx.create_ssl_context(trust_env=False)
        self.client = httpx.Client(follow_redirects=False, timeout=self.timeout, trust_env=False, verify=verify)

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        allowed = {urlsplit(self.source.url).netloc, *self.source.allow_hosts}
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise Refused("scheme", f"{url} is not an http(s) URL.", "Link only http(s) URLs.")
            if urlsplit(url).netloc not in allowed:
                raise Refused(
                    "redirect-host",
                    f"{url} is on another host than the source's ({', '.join(sorted(allowed))}).",
                    "Serve the data from the host in the sources file, or list the other host in `allow_hosts`.",
                )
            answer = self._get_once(url, headers or {})
            if answer.status in (301, 302, 303, 307, 308) and "location" in answer.headers:
                target = urljoin(url, answer.headers["location"])
                if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
                    raise Refused(
                        "redirect-downgrade",
                        f"{url} redirects from https to {target}.",
                        "Serve the data over https only, or list an http URL in the sources file.",
                    )
                url = target
                continue
            return answer
        raise Refused("redirects", f"More than {MAX_REDIRECTS} redirects from {url}.", "Link the final URL.")

    def _get_once(self, url: str, headers: dict[str, str]) -> Fetched:
        if self.requests >= self.max_requests:
            raise Refused(
                "too-many-requests",
                f"More than {self.max_requests} requests for one harvest.",
                "Use fewer, larger pages, or raise PARITA_HARVEST_MAX_REQUESTS.",
            )
        self.requests += 1
        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream("GET", url, headers=headers) as answer:
                body = bytearray()
                for chunk in answer.iter_raw():
                    body += chunk
                    self.bytes += len(chunk)
                    if len(body) > self.max_bytes:
                        raise Refused(
                            "too-large",
                            f"{url} is larger than {self.max_bytes} bytes.",
                            "Publish smaller pages or dumps, or raise PARITA_HARVEST_MAX_BYTES.",
                        )
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the whole answer took too long")
        except httpx.TimeoutException:
            raise Refused(
                "timeout",
                f"{url} did not answer within {self.timeout:g} s.",
                "Check the server's load, or raise PARITA_HARVEST_TIMEOUT.",
            ) from None
        except httpx.TransportError as error:
            if _failed_verification(error):
                raise Refused(
                    "certificate",
                    f"{url}: its certificate cannot be verified ({error}).",
                    "Serve a certificate a public authority signed, or give the authority that signed it in "
                    "PARITA_HARVEST_CA_BUNDLE.",
                ) from None
            raise Refused(
                "unreachable", f"{url} is unreachable ({error}).", "Check the URL and that the server runs."
            ) from None
        data = bytes(body)
        if answer.headers.get("content-encoding", "identity").lower() in ("gzip", "x-gzip"):
            data = _gunzip(data, self.max_bytes, url)
        if answer.status_code >= 400:
            raise Refused(
                f"http-{answer.status_code}",
                f"{url} answered HTTP {answer.status_code}.",
                "Fix the server, or the URL in the sources file.",
            )
        return Fetched(url, answer.status_code, answer.headers, data)


def _gunzip(data: bytes, limit: int, url: str) -> bytes:
    """Decompress at most `limit` bytes: a small gzip that expands enormously is refused as too large. Every
    member of the file: a gzip file may be a series of members (RFC 1952 §2.2), as parita's dumps are."""
    out, rest = b"", data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as error:
            raise Refused("parse", f"{url} is not valid gzip ({error}).", "Serve a valid gzip file.") from None
        if len(out) > limit:
            raise Refused("too-large", f"{url} expands beyond {limit} bytes.", "Publish a smaller dump.")
        if not inflater.eof:  # cut short: what it held so far, as a one-member file read so far gives
            break
        rest = inflater.unused_data
    return out


# --- Reading RDF --------------------------------------------------------------------------------------


def parse(data: bytes, syntax: ox.RdfFormat, url: str) -> list[ox.Triple]:
    """Screened (XXE, entity expansion, remote JSON-LD contexts), then parsed; graphs are merged."""
    try:
        screen(data, syntax)
        if syntax == ox.RdfFormat.JSON_LD:  # after json.loads: an escaped key ("\u0040context") is the same key
            _refuse_remote_context(data, url)
        quads = list(ox.parse(data, format=syntax, base_iri=url))
    except HostileInput as error:
        raise Refused("hostile", f"{url}: {error.message}", "Publish plain RDF without DTDs or entities.") from None
    except (SyntaxError, ValueError) as error:
        raise Refused("parse", f"{url} cannot be parsed as {syntax.name}: {error}", "Publish valid RDF.") from None
    if any(isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple) for q in quads):
        raise Refused("parse", f"{url} uses RDF 1.2 triple terms.", "Publish RDF 1.1 statements.")
    return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]


def _refuse_remote_context(data: bytes, url: str) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    for ctx in value if isinstance(value, list) else [value]:
                        if isinstance(ctx, str):
                            raise HostileInput(f"a remote JSON-LD context ({ctx}) is not fetched")
                if key == "@import" and isinstance(value, str):
                    raise HostileInput(f"a remote JSON-LD context (@import {value}) is not fetched")
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    try:
        walk(json.loads(data))
    except json.JSONDecodeError as error:
        raise SyntaxError(str(error)) from None


def _v(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The lexical value of a term (triple terms are refused when a source is parsed)."""
    return str(term) if isinstance(term, ox.Triple) else term.value


def _syntax_of(media_type: str) -> ox.RdfFormat | None:
    return RDF_MEDIA.get(media_type.split(";")[0].strip().lower())


# --- From a catalog -----------------------------------------------------------------------------------


@dataclass
class Distribution:
    url: str
    syntax: ox.RdfFormat
    gzip: bool
    sha256: str | None


def find_distribution(triples: list[ox.Triple]) -> Distribution | None:
    """The catalog's best RDF dump: the first media type in RDF_MEDIA order that a distribution declares."""
    about: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for t in triples:
        about[str(t.subject)][t.predicate.value].append(t.object)
    candidates: list[tuple[int, Distribution]] = []
    for props in about.values():
        if not props.get(DCAT + "downloadURL"):
            continue
        media = [_v(o) for o in props.get(DCAT + "mediaType", []) + props.get(DCAT + "format", [])]
        media = [m.rsplit("media-types/", 1)[-1] for m in media]
        ranked = [(list(RDF_MEDIA).index(m), m) for m in media if m in RDF_MEDIA]
        if not ranked:
            continue
        rank, media_type = min(ranked)
        gz = any("gzip" in _v(o) for o in props.get(DCAT + "compressFormat", []))
        sha = None
        for checksum in props.get(SPDX + "checksum", []):
            values = about[str(checksum)].get(SPDX + "checksumValue", [])
            algorithms = [_v(a) for a in about[str(checksum)].get(SPDX + "algorithm", [])]
            if values and any(a.endswith("sha256") for a in algorithms):
                sha = _v(values[0]).lower()
        candidates.append((rank, Distribution(_v(props[DCAT + "downloadURL"][0]), RDF_MEDIA[media_type], gz, sha)))
    return min(candidates, key=lambda c: (c[0], c[1].url))[1] if candidates else None


def harvest_catalog(
    fetcher: Fetcher, source: Source, state: dict[str, Any]
) -> tuple[list[ox.Triple], dict[str, Any]] | None:
    """The source's triples and their provenance facts, or None when the dump is unchanged since last time."""
    catalog = fetcher.get(source.catalog, {"Accept": ACCEPT_RDF})
    syntax = _syntax_of(catalog.headers.get("content-type", "")) or ox.RdfFormat.TURTLE
    dist = find_distribution(parse(catalog.body, syntax, catalog.url))
    if dist is None:
        raise Refused(
            "no-distribution",
            f"{source.catalog} lists no RDF distribution with a dcat:downloadURL.",
            "Add a distribution of the dataset in N-Quads, N-Triples or Turtle, with its dcat:mediaType.",
        )
    headers = {}
    if state.get("distribution") == dist.url and state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("distribution") == dist.url and state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    answer = fetcher.get(dist.url, headers)
    if answer.status == 304:
        return None
    checksum = hashlib.sha256(answer.body).hexdigest()
    if dist.sha256 is not None and dist.sha256 != checksum:
        raise Refused(
            "checksum",
            f"{dist.url} has SHA-256 {checksum}, the catalog declares {dist.sha256}.",
            "Publish the catalog and the dump together (the checksum of the file actually served).",
        )
    data = _gunzip(answer.body, fetcher.max_bytes, dist.url) if dist.gzip or dist.url.endswith(".gz") else answer.body
    triples = parse(data, dist.syntax, dist.url)
    facts = {
        "distribution": dist.url,
        "etag": answer.headers.get("etag", ""),
        "last_modified": answer.headers.get("last-modified", ""),
        "sha256": checksum,
    }
    return triples, facts


# --- From an LDES -------------------------------------------------------------------------------------


def harvest_ldes(fetcher: Fetcher, source: Source, state: dict[str, Any], entities: Entities) -> tuple[int, bool]:
    """Apply the versions of every page not seen before to `entities`; (versions applied, changed)."""
    headers = {"Accept": "text/turtle"}
    if state.get("view_etag"):
        headers["If-None-Match"] = state["view_etag"]
    root = fetcher.get(source.ldes, headers)
    if root.status == 304:
        return 0, False
    view = parse(root.body, _syntax_of(root.headers.get("content-type", "")) or ox.RdfFormat.TURTLE, root.url)
    views = [_v(t.object) for t in view if t.predicate.value == TREE + "view" and _v(t.subject) == root.url]
    nodes = [_v(t.object) for t in view if t.predicate.value == TREE + "node"]
    if not nodes and views and views[0] != root.url:  # the root node lives at its own URL
        node = fetcher.get(views[0], {"Accept": "text/turtle"})
        view = parse(node.body, _syntax_of(node.headers.get("content-type", "")) or ox.RdfFormat.TURTLE, node.url)
        nodes = [_v(t.object) for t in view if t.predicate.value == TREE + "node"]
    seen = set(state.get("pages", []))
    applied = 0
    visited: set[str] = set()
    queue = [n for n in nodes if n not in seen]
    while queue:
        url = queue.pop(0)
        if url in visited:
            raise Refused("loop", f"The LDES links page {url} twice (a loop).", "Link each page once, forward in time.")
        visited.add(url)
        page = fetcher.get(url, {"Accept": "text/turtle"})
        triples = parse(page.body, _syntax_of(page.headers.get("content-type", "")) or ox.RdfFormat.TURTLE, page.url)
        for nxt in (_v(t.object) for t in triples if t.predicate.value == TREE + "node"):
            if nxt == url or nxt in visited:
                raise Refused(
                    "loop",
                    f"The LDES page {url} links back to {nxt} (a loop).",
                    "Link each page once, forward in time.",
                )
            if nxt not in seen and nxt not in queue:
                queue.append(nxt)
        applied += _apply(triples, entities)
        seen.add(url)
    state["pages"] = sorted(seen)
    state["view_etag"] = root.headers.get("etag", "")
    return applied, True


def _apply(triples: list[ox.Triple], entities: Entities) -> int:
    """Each version in `triples` replaces its entity's statements when it is at least as new."""
    by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        by_subject[str(t.subject)].append(t)
    applied = 0
    for statements in by_subject.values():
        entity = next((_v(t.object) for t in statements if t.predicate.value == VERSION_OF), None)
        stamp = next((_v(t.object) for t in statements if t.predicate.value == TIMESTAMP), None)
        if entity is None or stamp is None or not isinstance(statements[0].subject, ox.NamedNode):
            continue
        if (current := entities.time(entity)) is not None and current > stamp:
            continue
        applied += 1
        if any(t.predicate.value == RDF + "type" and _v(t.object) == TOMBSTONE for t in statements):
            entities.remove(entity)
            continue
        version = statements[0].subject
        closure = _closure(by_subject, version)
        tag = hashlib.sha256(entity.encode()).hexdigest()[:12]
        blanks: dict[str, ox.BlankNode] = {}  # numbered in the version's order: the same page, the same labels
        out = []
        for t in closure:
            if t.subject == version and t.predicate.value in (VERSION_OF, TIMESTAMP):
                continue
            s = ox.NamedNode(entity) if t.subject == version else _relabel(t.subject, tag, blanks)
            o = ox.NamedNode(entity) if t.object == version else _relabel(t.object, tag, blanks)
            out.append(ox.Triple(s, t.predicate, o))
        entities.put(entity, stamp, (ox.serialize(out, format=ox.RdfFormat.N_TRIPLES) or b"").decode())
    return applied


def _closure(by_subject: dict[str, list[ox.Triple]], node: ox.NamedNode) -> list[ox.Triple]:
    out, todo, seen = [], [str(node)], {str(node)}
    while todo:
        for t in by_subject.get(todo.pop(), []):
            out.append(t)
            if isinstance(t.object, ox.BlankNode) and str(t.object) not in seen:
                seen.add(str(t.object))
                todo.append(str(t.object))
    return out


def _relabel(term: Any, tag: str, blanks: dict[str, ox.BlankNode]) -> Any:
    """A blank node of an entity's version, named after the entity and its order (parsers name them at random)."""
    if not isinstance(term, ox.BlankNode):
        return term
    return blanks.setdefault(term.value, ox.BlankNode(f"h{tag}b{len(blanks)}"))


# --- The entities an LDES source publishes: kept per source, changed one transaction per harvest ------


def entities_path(settings: Settings, source_id: str) -> Path:
    return state_path(settings).parent / f"{source_id}.entities.sqlite"


#: How many values one SQL statement is given at most (SQLite's limit is far above it).
CHUNK = 500
ENTITY_TABLES = """
CREATE TABLE IF NOT EXISTS entity (
    iri TEXT PRIMARY KEY,           -- the entity, as the source names it
    time TEXT NOT NULL,             -- the timestamp of its version applied
    nt TEXT NOT NULL,               -- its statements, as that version gave them (N-Triples)
    nq TEXT,                        -- its lines of the contribution file (own_terms applied); NULL: not made yet
    described INTEGER NOT NULL DEFAULT 0,  -- whether a line has the entity as subject
    outside INTEGER NOT NULL DEFAULT 0     -- whether that subject lies outside the source's base URIs
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ref (    -- the source's own things (under its base URIs' id/) each entity refers to
    iri TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY (iri, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ref_target ON ref (target);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


class Entities:
    """The current statements of every entity an LDES source published (its newest version applied), and what
    publishing makes of them: its lines of the contribution file, whether it describes itself, which of the
    source's things it refers to. One SQLite file per source (`build/harvest/ID.entities.sqlite`), so a
    harvest reads and writes only the entities whose versions it applies, and the contribution file is the
    entities' lines in IRI order, joined. Everything a harvest changes is one transaction, committed once its
    release is published: a refusal, or a harvest killed halfway, leaves the entities as they were published."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
        try:
            self.db.executescript(ENTITY_TABLES)
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:  # locked: another harvest is publishing this source
            self.db.close()
            raise Refused(
                "busy",
                f"{path} is in use ({error}): another harvest of this source is under way.",
                "Run one harvest at a time; this source is harvested again next time.",
            ) from None
        #: the entities whose versions this harvest applied (removed ones included)
        self.changed: set[str] = set()

    def __enter__(self) -> Entities:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def count(self) -> int:
        return int(self.meta("count") or 0)

    def clear(self) -> None:
        for table in ("entity", "ref", "meta"):
            self.db.execute(f"DELETE FROM {table}")
        self.changed.clear()

    def time(self, iri: str) -> str | None:
        row = self.db.execute("SELECT time FROM entity WHERE iri = ?", (iri,)).fetchone()
        return str(row[0]) if row else None

    def put(self, iri: str, time: str, nt: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO entity (iri, time, nt) VALUES (?, ?, ?)", (iri, time, nt))
        self.changed.add(iri)

    def remove(self, iri: str) -> None:
        self.db.execute("DELETE FROM entity WHERE iri = ?", (iri,))
        self.db.execute("DELETE FROM ref WHERE iri = ?", (iri,))
        self.changed.add(iri)

    def keys(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT iri FROM entity")}

    def _chunks(self, query: str, values: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of `query` (its `{}` stands for a list of parameters) for every chunk of `values`."""
        ordered = sorted(values)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            yield from self.db.execute(query.format(", ".join("?" * len(chunk))), chunk)

    def statements(self, iris: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(iri, N-Triples) of those of `iris` that exist."""
        yield from self._chunks("SELECT iri, nt FROM entity WHERE iri IN ({})", iris)

    def lines(self, iris: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(iri, its contribution lines) of those of `iris` that exist."""
        yield from self._chunks("SELECT iri, nq FROM entity WHERE iri IN ({})", iris)

    def made(self, iri: str, lines: str, described: bool, outside: bool, targets: set[str]) -> None:
        self.db.execute(
            "UPDATE entity SET nq = ?, described = ?, outside = ? WHERE iri = ?", (lines, described, outside, iri)
        )
        self.db.execute("DELETE FROM ref WHERE iri = ?", (iri,))
        self.db.executemany("INSERT INTO ref VALUES (?, ?)", ((iri, t) for t in sorted(targets)))

    def outside(self, iris: Iterable[str]) -> set[str]:
        return {row[0] for row in self._chunks("SELECT iri FROM entity WHERE outside AND iri IN ({})", iris)}

    def described(self, iris: Iterable[str]) -> set[str]:
        return {row[0] for row in self._chunks("SELECT iri FROM entity WHERE described AND iri IN ({})", iris)}

    def targets(self, iris: Iterable[str]) -> set[str]:
        """What `iris` refer to."""
        return {row[0] for row in self._chunks("SELECT target FROM ref WHERE iri IN ({})", iris)}

    def referred(self, targets: Iterable[str]) -> set[str]:
        """Those of `targets` some entity refers to."""
        return {row[0] for row in self._chunks("SELECT DISTINCT target FROM ref WHERE target IN ({})", targets)}

    def contribution(self) -> bytes:
        """Every entity's lines, in IRI order: an entity that did not change keeps its bytes and its place. As
        the UTF-8 the file holds, read so from SQLite (not decoded, joined and encoded again)."""
        blocks = [row[0] or b"" for row in self.db.execute("SELECT CAST(nq AS BLOB) FROM entity ORDER BY iri")]
        self.set_meta("count", str(len(blocks)))
        return b"".join(blocks)


# --- Checks and publishing ----------------------------------------------------------------------------


#: What every parita instance shares, under its own base: the ontology, the shapes, the controlled vocabularies.
SHARED_PATHS = ("ontology#", "id/scheme/", "id/concept/")
#: What a parita instance describes only as software, not as its publisher's data: never copied.
SOFTWARE_PATHS = ("ontology", "shapes", "graph/", "releases/", "catalog", "ldes", "id/scheme/", "id/concept/")


def own_terms(triples: list[ox.Triple], source: Source) -> list[ox.Triple]:
    """A parita source's ontology terms, schemes and concepts are parita's own: they become this instance's
    (written against the default base, as every contribution is), so the shapes apply to the source's data as
    to ours, and their descriptions (parita's, not the publisher's) are not copied."""
    moves = [(b + p, DEFAULT_BASE_URI + p) for b in source.base_uris for p in SHARED_PATHS]
    skip = tuple(b + p for b in source.base_uris for p in SOFTWARE_PATHS)

    def move(term: Any) -> Any:
        if isinstance(term, ox.NamedNode):
            for theirs, ours in moves:
                if term.value.startswith(theirs):
                    return ox.NamedNode(ours + term.value[len(theirs) :])
        return term

    return [
        ox.Triple(t.subject, move(t.predicate), move(t.object))
        for t in triples
        if not (isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(skip))
    ]


def check_iris(triples: list[ox.Triple], source: Source, sources: SourcesFile, settings: Settings) -> None:
    """Subjects only inside the source's base URIs or the shared namespaces; its own references described."""
    allowed = source.base_uris + sources.shared
    outside = {
        _v(t.subject) for t in triples if isinstance(t.subject, ox.NamedNode) and not _v(t.subject).startswith(allowed)
    }
    refuse_outside(outside, source, sources, settings)
    described = {_v(t.subject) for t in triples if isinstance(t.subject, ox.NamedNode)}
    ids = tuple(b + "id/" for b in source.base_uris)
    refuse_missing(
        {_v(t.object) for t in triples if isinstance(t.object, ox.NamedNode) and _v(t.object).startswith(ids)}
        - described
    )


def refuse_outside(outside: set[str], source: Source, sources: SourcesFile, settings: Settings) -> None:
    """Refused when a subject lies outside the source's base URIs (and the shared namespaces): whose it is."""
    if not outside:
        return
    others = {b: s.id for s in sources.sources if s.id != source.id for b in s.base_uris}
    ours = (settings.base_uri, DEFAULT_BASE_URI)
    first = sorted(outside)[:3]
    whose = next((f"this aggregator's own namespace {o}" for o in ours if first[0].startswith(o)), None)
    whose = whose or next((f"{others[b]}'s namespace {b}" for b in others if first[0].startswith(b)), None)
    raise Refused(
        "outside-base",
        f"{len(outside)} subject(s) outside the base URIs {', '.join(source.base_uris)}"
        + (f" (in {whose})" if whose else "")
        + f": {', '.join(first)}.",
        "Describe only things under your declared base URIs (link to others by IRI), or declare the base in the sources file.",
    )


def refuse_missing(missing: set[str]) -> None:
    """Refused when the source refers to things of its own that it does not describe."""
    if missing:
        raise Refused(
            "unknown-reference",
            f"{len(missing)} reference(s) to things the source does not describe: {', '.join(sorted(missing)[:3])}.",
            "Publish every thing you link to under your base URI, or link to its publisher's IRI.",
        )


def make_lines(entities: Entities, iris: set[str], source: Source, sources: SourcesFile) -> None:
    """What publishing makes of each of `iris` (entities whose versions were applied, or all of them): its
    contribution lines (own_terms applied, duplicates dropped, in its version's order), whether it describes
    itself and lies outside the allowed namespaces, and the source's things it refers to."""
    graph = ox.NamedNode(graph_iri(DEFAULT_BASE_URI, f"publisher/{source.id}"))
    allowed = source.base_uris + sources.shared
    ids = tuple(b + "id/" for b in source.base_uris)
    for iri, nt in list(entities.statements(iris)):
        triples = own_terms(list(ox.parse(nt.encode(), format=ox.RdfFormat.N_TRIPLES)), source)
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
        # split on line feeds only: a literal may hold U+2028 or U+0085, which N-Quads writes as they are
        lines = dict.fromkeys((ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").decode().split("\n")[:-1])
        subjects = {_v(t.subject) for t in triples if isinstance(t.subject, ox.NamedNode)}
        targets = {_v(t.object) for t in triples if isinstance(t.object, ox.NamedNode) and _v(t.object).startswith(ids)}
        entities.made(
            iri,
            "".join(line + "\n" for line in lines),
            bool(subjects),
            any(not s.startswith(allowed) for s in subjects),
            targets,
        )


def check_entities(
    entities: Entities, iris: set[str], source: Source, sources: SourcesFile, settings: Settings
) -> None:
    """check_iris, for the entities `iris` whose lines were just made (the others passed it before, with the
    same base URIs): their subjects inside the allowed namespaces, what they refer to described, and nothing
    referring to one of them that no longer describes itself (removed, or emptied)."""
    refuse_outside(entities.outside(iris), source, sources, settings)
    described = entities.described(iris)
    targets = entities.targets(iris)
    missing = targets - entities.described(targets)
    refuse_missing(missing | entities.referred(iris - described))


def _to_default(triples: list[ox.Triple], bases: tuple[str, ...]) -> tuple[list[ox.Quad], dict[str, str]]:
    """The statements with IRIs under `bases` moved to the default base (where the reconcile rules read kinds
    and properties), and a map back to the original IRIs."""
    back: dict[str, str] = {}

    def move(term: Any) -> Any:
        if isinstance(term, ox.NamedNode):
            for base in bases:
                if term.value.startswith(base):
                    moved = DEFAULT_BASE_URI + term.value[len(base) :]
                    back[moved] = term.value
                    return ox.NamedNode(moved)
        return term

    return [ox.Quad(move(t.subject), move(t.predicate), move(t.object)) for t in triples], back


def _entities(triples: list[ox.Triple], bases: tuple[str, ...]) -> dict[str, reconcile.Entity]:
    quads, back = _to_default(triples, bases)
    return {back.get(e.iri, e.iri): replace(e, iri=back.get(e.iri, e.iri)) for e in reconcile.entities(quads).values()}


def published_bodies(settings: Settings, source: Source, sources: SourcesFile) -> dict[str, reconcile.Entity] | None:
    """The bodies published in the current release outside the source's own graph and the derived graphs (this
    instance's data, the other publishers' graphs), in IRI order; None before the first release. Read from the
    release's store by predicate and graph (scripts/reconcile.identifying_statements), not from its dump."""
    store = reconcile.current_store(settings)
    if store is None:
        return None
    ignored = {graph_iri(settings.base_uri, f"publisher/{source.id}"), *derived_graphs(settings.base_uri)}
    bases = tuple(b for s in sources.sources if s.id != source.id for b in s.base_uris) + (settings.base_uri,)
    try:
        quads = reconcile.identifying_statements(store, ignored, settings.base_uri, bases)
    finally:
        del store
    found = _entities([ox.Triple(q.subject, q.predicate, q.object) for q in quads], bases)
    return dict(sorted(found.items()))


def reconcile_source(
    submitted: dict[str, reconcile.Entity],
    source: Source,
    settings: Settings,
    known: dict[str, reconcile.Entity] | None,
    remade: set[str] | None = None,
) -> dict[str, Any]:
    """The source's reconcile decisions after this harvest: each of its bodies that the reconcile rules match
    with certainty with a published body (`known`: same IPA code; same territory and legal status; same label,
    kind and territory) is `certain`; the uncertain ones are `candidates`, which `parita reconcile --publisher
    ID` lists for a person to confirm. The pairs become owl:sameAs in the derived graph `graph/reconciled`
    (scripts/reconcile.py), never in the source's graph: the publisher did not state them.

    `remade`: the bodies whose decisions are made again (from `submitted`, those of them it holds; the others
    are gone); the decisions of every other body are kept as they were. None: every decision is made again.
    Both are kept in one order (by body, then best match first), so the decisions do not depend on which."""
    decisions = reconcile.load_decisions(settings, source.id)
    if known is None:
        return decisions
    rejected = {tuple(p) for p in decisions["rejected"]}
    kept = (
        set()
        if remade is None
        else {e for e, _ in decisions["certain"]} | {c["submitted"] for c in decisions["candidates"]}
    )
    kept -= remade or set()
    certain = [pair for pair in decisions["certain"] if pair[0] in kept]
    candidates = [c for c in decisions["candidates"] if c["submitted"] in kept]
    for entity in submitted.values():
        matches = [m for m in reconcile.match(entity, known) if m.existing != entity.iri]
        if matches and matches[0].certain and (entity.iri, matches[0].existing) not in rejected:
            certain.append([entity.iri, matches[0].existing])
        else:  # uncertain: listed by `parita reconcile --publisher ID`; a confirmed one is linked next time
            candidates += [reconcile.as_dict(m) for m in matches]
    candidates.sort(key=lambda c: (c["submitted"], -c["score"], c["existing"]))
    return {**decisions, "certain": sorted(certain), "candidates": candidates}


def _compared_with(known: dict[str, reconcile.Entity] | None, decisions: dict[str, Any]) -> str:
    """What a body's decisions depend on besides the body itself: the published bodies (what the rules read of
    each) and the rejections, as JSON; "" before the first release."""
    if known is None:
        return ""
    bodies = {e.iri: [e.kind, e.label, sorted(e.labels), e.ipa, e.territory, e.legal_status] for e in known.values()}
    return json.dumps({"bodies": bodies, "rejected": sorted(map(list, decisions["rejected"]))}, sort_keys=True)


def _to_remake(
    entities: Entities,
    made: set[str],
    source: Source,
    known: dict[str, reconcile.Entity],
    decisions: dict[str, Any],
    before: str | None,
    now_: str,
) -> set[str] | None:
    """The bodies whose decisions must be made again: those whose lines were made, and, when published bodies
    changed since the decisions were made (`before`, `now_`: _compared_with then and now), those whose
    decisions name one of them or that one of them now matches. None: all of them (the rejections changed, or
    what they were compared with is not known)."""
    try:
        old, new = json.loads(before or ""), json.loads(now_)
    except ValueError:
        return None
    if old["rejected"] != new["rejected"]:
        return None
    changed = {i for i in old["bodies"].keys() | new["bodies"].keys() if old["bodies"].get(i) != new["bodies"].get(i)}
    if not changed:
        return made
    remade = made | {e for e, x in decisions["certain"] if x in changed}
    remade |= {c["submitted"] for c in decisions["candidates"] if c["existing"] in changed}
    if arrived := {i: known[i] for i in changed if i in known}:
        for body in _bodies(entities, entities.keys(), source).values():
            if any(m.existing != body.iri for m in reconcile.match(body, arrived)):
                remade.add(body.iri)
    return remade


def _bodies(entities: Entities, iris: set[str], source: Source) -> dict[str, reconcile.Entity]:
    """The bodies (organizations, posts, networks) among `iris`, from their contribution lines."""

    def kind(iri: str) -> str | None:
        base = next((b for b in source.base_uris if iri.startswith(b)), None)
        return reconcile.kind_of(DEFAULT_BASE_URI + iri[len(base) :]) if base else None

    text = "".join(lines for _, lines in entities.lines(i for i in iris if kind(i) in reconcile.BODY_KINDS))
    quads = ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS)
    return _entities([ox.Triple(q.subject, q.predicate, q.object) for q in quads], source.base_uris)


def provenance(source: Source, settings: Settings, retrieved: str, facts: dict[str, Any]) -> list[ox.Triple]:
    """Where the graph comes from: PROV on the graph, the distribution's ETag (owl:versionInfo) and checksum."""
    graph = ox.NamedNode(graph_iri(DEFAULT_BASE_URI, f"publisher/{source.id}"))
    origin = ox.NamedNode(facts.get("distribution") or source.url)
    out = [
        ox.Triple(graph, ox.NamedNode(PROV + "wasDerivedFrom"), origin),
        ox.Triple(
            graph,
            ox.NamedNode(PROV + "generatedAtTime"),
            ox.Literal(retrieved, datatype=ox.NamedNode(XSD + "dateTime")),
        ),
        ox.Triple(graph, ox.NamedNode(DCT + "source"), ox.NamedNode(source.url)),
    ]
    if source.name:
        out.append(ox.Triple(graph, ox.NamedNode(DCT + "publisher"), ox.Literal(source.name, language="it")))
    if facts.get("etag"):
        out.append(ox.Triple(origin, ox.NamedNode(OWL + "versionInfo"), ox.Literal(facts["etag"])))
    if facts.get("sha256"):
        checksum = ox.BlankNode(f"checksum{source.id.replace('-', '')}")
        out += [
            ox.Triple(origin, ox.NamedNode(SPDX + "checksum"), checksum),
            ox.Triple(checksum, ox.NamedNode(SPDX + "algorithm"), ox.NamedNode(SPDX + "checksumAlgorithm_sha256")),
            ox.Triple(
                checksum,
                ox.NamedNode(SPDX + "checksumValue"),
                ox.Literal(facts["sha256"], datatype=ox.NamedNode(XSD + "hexBinary")),
            ),
        ]
    return out


def nquads(triples: list[ox.Triple], source: Source) -> bytes:
    """`triples` as N-Quads lines in the source's graph (written against the default base), sorted, once each."""
    graph = ox.NamedNode(graph_iri(DEFAULT_BASE_URI, f"publisher/{source.id}"))
    quads = sorted({ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples}, key=str)
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""


def publish(
    settings: Settings,
    source: Source,
    text: bytes,
    reconciled: list[ox.Quad] | None = None,
    progress: Progress | None = None,
) -> Path:
    """A release in which only `graph/publisher/ID` (its N-Quads `text`) and `graph/reconciled` (when given)
    change; BuildError (SHACL) leaves everything as it was. `progress` is given the build's messages."""
    work = settings.build_dir / f".tmp-harvest-{os.getpid()}-{source.id}"
    work.mkdir(parents=True, exist_ok=True)
    candidates = {source.id: work / f"{source.id}.nq"}
    candidates[source.id].write_bytes(text)
    if reconciled is not None:
        candidates[RECONCILED_KEY] = work / f"{RECONCILED_KEY}.nq"
        candidates[RECONCILED_KEY].write_bytes(
            ox.serialize(sorted(set(reconciled), key=str), format=ox.RdfFormat.N_QUADS) or b""
        )
    try:
        return build(settings, progress, candidates)
    finally:
        for path in candidates.values():
            path.unlink(missing_ok=True)
        work.rmdir()


# --- One harvest --------------------------------------------------------------------------------------


def load_state(settings: Settings) -> dict[str, Any]:
    return read_state(settings)


def save_state(settings: Settings, state: dict[str, Any]) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-state-{os.getpid()}.json")
    tmp.write_text(json.dumps(state, sort_keys=True))
    os.replace(tmp, path)


def now() -> str:
    """UTC as `Z`, the form a store keeps an xsd:dateTime in (it rewrites +00:00 as Z): the provenance's retrieval
    time is then stored as written, so the aggregator's rebuild can follow the change instead of a full pass."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Bump when what `make_lines` makes of an entity's statements changes: every entity is then made again.
LINES_VERSION = 1


def open_entities(settings: Settings, source_id: str, record: dict[str, Any]) -> Entities:
    """The source's entities, as its state `record` knows them (a record with its entities inside, written
    before they had their own file, moves them there). Entities that do not match the record (a file lost or
    left behind) are dropped with the pages seen: the stream is then read again from its start."""
    entities = Entities(entities_path(settings, source_id))
    legacy = record.pop("entities", None)
    if legacy is not None:
        entities.clear()
        for iri, version in legacy.items():
            entities.put(iri, version["time"], version["nt"])
        entities.set_meta("count", str(len(legacy)))
        entities.changed.clear()  # not changes of this harvest; made again all together, "made with" being unset
    elif entities.count() != record.get("entity_count", 0):
        entities.clear()
        record.pop("pages", None)
        record.pop("view_etag", None)
    return entities


def _lap(phases: dict[str, float], name: str, clock: float) -> float:
    at = time.perf_counter()
    phases[name] = round(phases.get(name, 0.0) + at - clock, 3)
    return at


def publish_entities(
    settings: Settings,
    sources: SourcesFile,
    source: Source,
    entities: Entities,
    started: str,
    phases: dict[str, float],
    progress: Progress | None = None,
) -> tuple[Path, int, dict[str, Any]]:
    """Publish an LDES source's entities; (release, triples, reconcile decisions). The work follows the entities
    whose versions this harvest applied: only their lines are made and checked, only their decisions made
    again (and those that published bodies changed since reach; all of them when the base URIs or the
    rejections changed), and the contribution file is the entities' lines joined. The decisions are saved once
    the release is published."""
    clock = time.perf_counter()
    made_with = json.dumps([LINES_VERSION, source.base_uris, sources.shared])
    everything = entities.meta("made with") != made_with
    made = entities.keys() if everything else set(entities.changed)
    make_lines(entities, made, source, sources)
    entities.set_meta("made with", made_with)
    check_entities(entities, made, source, sources, settings)
    clock = _lap(phases, "check", clock)
    known = published_bodies(settings, source, sources)
    previous = reconcile.load_decisions(settings, source.id)
    compared_with = _compared_with(known, previous)
    remade = None
    if not everything and known is not None:
        remade = _to_remake(entities, made, source, known, previous, entities.meta("compared with"), compared_with)
    if remade is None:
        decisions = reconcile_source(_bodies(entities, entities.keys(), source), source, settings, known)
    else:
        decisions = reconcile_source(_bodies(entities, remade, source), source, settings, known, remade)
    entities.set_meta("compared with", compared_with)
    reconciled = reconcile.reconciled_graph(settings, {source.id: decisions})
    clock = _lap(phases, "reconcile", clock)
    lines = entities.contribution()
    text = nquads(provenance(source, settings, started, {}), source) + lines
    clock = _lap(phases, "write", clock)
    release = publish(settings, source, text, reconciled, progress)
    _lap(phases, "build", clock)
    reconcile.save_decisions(settings, source.id, decisions)  # once published: they describe what is
    return release, lines.count(b"\n"), decisions


def publish_triples(
    settings: Settings,
    sources: SourcesFile,
    source: Source,
    triples: list[ox.Triple],
    facts: dict[str, Any],
    started: str,
    phases: dict[str, float],
    progress: Progress | None = None,
) -> tuple[Path, int, dict[str, Any]]:
    """Publish the whole graph a catalog's dump gave; (release, triples, reconcile decisions)."""
    clock = time.perf_counter()
    triples = own_terms(triples, source)
    check_iris(triples, source, sources, settings)
    clock = _lap(phases, "check", clock)
    known = published_bodies(settings, source, sources)
    decisions = reconcile_source(_entities(triples, source.base_uris), source, settings, known)
    reconciled = reconcile.reconciled_graph(settings, {source.id: decisions})
    clock = _lap(phases, "reconcile", clock)
    text = nquads(triples + provenance(source, settings, started, facts), source)
    clock = _lap(phases, "write", clock)
    release = publish(settings, source, text, reconciled, progress)
    _lap(phases, "build", clock)
    reconcile.save_decisions(settings, source.id, decisions)
    return release, len(triples), decisions


def harvest_source(
    settings: Settings,
    sources: SourcesFile,
    source: Source,
    state: dict[str, Any],
    authorities: ssl.SSLContext | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Harvest one source; returns its summary (with the seconds of each phase: fetch, check, reconcile, write,
    build). `state[source.id]` (and the source's entities) are updated only as far as it succeeded.
    `authorities`: what `trusted_authorities(settings)` returns, made once per harvest (else here); `progress`
    is given the messages of the build that publishes it."""
    previous = state.get(source.id, {})
    record = json.loads(json.dumps(previous))  # a working copy: kept only on success
    fetcher = Fetcher(
        source,
        settings.harvest_max_bytes,
        settings.harvest_timeout,
        settings.harvest_max_requests,
        authorities or trusted_authorities(settings),
    )
    summary: dict[str, Any] = {"source": source.id, "url": source.url, "status": "ok", "members_applied": 0}
    phases: dict[str, float] = {}
    started, clock = now(), time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            published: tuple[Path, int, dict[str, Any]] | None = None
            facts: dict[str, Any] = {}
            if source.ldes:
                entities = stack.enter_context(open_entities(settings, source.id, record))
                applied, changed = harvest_ldes(fetcher, source, record, entities)
                summary["members_applied"] = applied
                _lap(phases, "fetch", clock)  # fetched, parsed, applied
                if changed and (applied or previous.get("status") != "ok"):
                    published = publish_entities(settings, sources, source, entities, started, phases, progress)
                entities.commit()
                record["entity_count"] = entities.count()
            elif (got := harvest_catalog(fetcher, source, record)) is not None:
                _lap(phases, "fetch", clock)  # fetched, verified, parsed
                triples, facts = got
                published = publish_triples(settings, sources, source, triples, facts, started, phases, progress)
        summary["fetch_seconds"] = phases.get("fetch", 0.0)
        summary["phases"] = phases
        if published is None:
            summary["status"] = "unchanged"
        else:
            release, record["triples"], decisions = published
            summary["same_as"] = len(reconcile.linked(decisions))
            summary["release"] = release.name
            record.update(facts)
            record["last_success"] = started
        record.update(status=summary["status"] if summary["status"] != "unchanged" else "ok", error=None, fix=None)
        record["members_applied"] = record.get("members_applied", 0) + summary["members_applied"]
        record["last_attempt"] = started
        record["url"] = source.url
        if summary["status"] == "unchanged":
            record.setdefault("last_success", started)
        state[source.id] = record
    except Refused as refusal:
        summary.update(status="refused", reason=refusal.reason, error=refusal.message, fix=refusal.fix)
    except BuildError as error:
        findings = error.report.violations[:3] if error.report else []
        detail = "; ".join(f"{f.focus_node} {f.path or ''}: {f.messages.get('en', '')}" for f in findings)
        summary.update(
            status="refused",
            reason="shacl",
            error=f"{error}" + (f" — {detail}" if detail else ""),
            fix="Correct the data so it conforms to the shapes (run `parita validate` on it).",
        )
    except UnreadableInput as error:
        summary.update(status="refused", reason="parse", error=str(error), fix="Publish valid RDF.")
    finally:
        fetcher.close()
    summary["requests"], summary["bytes"] = fetcher.requests, fetcher.bytes
    if summary["status"] == "refused":
        kept = dict(previous)
        kept.update(
            last_attempt=started,
            status="refused",
            error=summary["error"],
            fix=summary["fix"],
            reason=summary["reason"],
            url=source.url,
        )
        state[source.id] = kept
    summary["triples"] = state[source.id].get("triples", 0)
    return summary


def harvest(
    settings: Settings, sources: SourcesFile, prune: bool = False, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Every source in turn; the state is saved after each, so a harvest killed halfway loses only that source.
    With `prune`, first the graphs of sources harvested before but no longer listed are unpublished.
    ValueError, before anything is fetched, when PARITA_HARVEST_CA_BUNDLE cannot be read. `progress` is given
    the messages of the builds that publish the sources."""
    authorities = trusted_authorities(settings)
    state = load_state(settings)
    summaries = prune_unlisted(settings, sources, state) if prune else []
    for source in sources.sources:
        summaries.append(harvest_source(settings, sources, source, state, authorities, progress))
        save_state(settings, state)
    return summaries


def prune_unlisted(settings: Settings, sources: SourcesFile, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Unpublish the sources the harvest state knows but the sources file no longer lists: one release without
    their graphs (and without their owl:sameAs in `graph/reconciled`), then their state and reconcile decisions
    are forgotten. A refused build (BuildError) puts their graphs back and reports them refused."""
    listed = {s.id for s in sources.sources}
    gone = sorted(set(state) - listed)
    if not gone:
        return []
    folder = contributions_dir(settings)
    work = settings.build_dir / f".tmp-prune-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    moved = {sid: work / f"{sid}.nq" for sid in gone if (folder / f"{sid}.nq").exists()}
    forgotten: dict[str, dict[str, Any]] = {
        sid: {"candidates": [], "certain": [], "confirmed": [], "rejected": []} for sid in gone
    }
    reconciled = reconcile.reconciled_graph(settings, forgotten)
    try:
        for sid, aside in moved.items():
            os.replace(folder / f"{sid}.nq", aside)
        extra: dict[str, Path] = {}
        if reconciled is not None:
            extra[RECONCILED_KEY] = work / f"{RECONCILED_KEY}.nq"
            extra[RECONCILED_KEY].write_bytes(
                ox.serialize(sorted(set(reconciled), key=str), format=ox.RdfFormat.N_QUADS) or b""
            )
        release = build(settings, None, extra).name if moved else None
    except (BuildError, UnreadableInput) as error:
        for sid, aside in moved.items():
            os.replace(aside, folder / f"{sid}.nq")
        fix = "Restore the source in the sources file, or fix what the release without it breaks."
        return [
            {"source": sid, "status": "refused", "reason": "prune", "error": str(error), "fix": fix} for sid in gone
        ]
    finally:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
    for sid in gone:
        state.pop(sid, None)
        reconcile.decisions_path(settings, sid).unlink(missing_ok=True)
        entities_path(settings, sid).unlink(missing_ok=True)
    save_state(settings, state)
    return [{"source": sid, "status": "pruned", "release": release, "unpublished": sid in moved} for sid in gone]


def format_text(summaries: list[dict[str, Any]]) -> str:
    lines = []
    for s in summaries:
        head = f"{s['source']}: {s['status']}"
        if s["status"] == "pruned":
            lines.append(f"{head} — no longer in the sources file: its graph is unpublished")
        elif s["status"] == "refused":
            lines.append(f"{head} ({s['reason']}) — {s['error']}\n    fix: {s['fix']}")
        else:
            extra = f", release {s['release']}" if "release" in s else ""
            lines.append(
                f"{head} — {s['triples']} triples, {s['members_applied']} member(s) applied, "
                f"{s['requests']} request(s), {s['bytes']} bytes{extra}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita harvest", description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, help="the sources file (TOML; see the README)")
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="harvest again every SECONDS, until stopped")
    parser.add_argument("--rounds", type=int, default=0, help="with --watch: stop after this many harvests (0: never)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--prune", action="store_true", help="unpublish the graphs of sources no longer in the sources file"
    )
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    try:
        sources = load_sources(args.sources)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as error:
        print(f"unusable sources file: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        trusted_authorities(settings)
    except ValueError as error:
        print(f"unusable setting: {error}", file=sys.stderr)
        return EXIT_USAGE
    rounds = 0
    while True:
        summaries = harvest(settings, sources, args.prune)
        print(json.dumps(summaries, indent=1) if args.format == "json" else format_text(summaries), flush=True)
        rounds += 1
        if args.watch is None or (args.rounds and rounds >= args.rounds):
            break
        time.sleep(args.watch)
    return EXIT_REFUSED if any(s["status"] == "refused" for s in summaries) else EXIT_OK
