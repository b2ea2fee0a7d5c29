"""Shared fixtures for the server tests: a tiny release on disk, and a real uvicorn server over it.

The release follows the layout `scripts.build` writes (release.json, dumps/, store/); FIXTURE_TRIG
below is its whole content, one example of each kind of resource, written for these tests.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from scripts.ldes_build import write_stream
from server.config import Settings
from tests.ingest_helpers import Ingested, ingest_cuneo
from tests.locks import machine_lock
from tests.release_helpers import copy_build
from tools.processes import start_parita, stop_group

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/parita/"
RELEASE_ID = "20261123T014500Z"

FIXTURE_TRIG = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix p: <https://w3id.org/parita/ontology#> .
@prefix id: <https://w3id.org/parita/id/> .
@prefix g: <https://w3id.org/parita/graph/> .

g:ontology {
  <https://w3id.org/parita/ontology> a owl:Ontology ; dct:title "Ontologia parità"@it, "Parità ontology"@en ;
      rdfs:comment "Reti, protocolli e sportelli per le pari opportunità."@it ; owl:versionInfo "0.1.0" .
  p:Network a owl:Class ; rdfs:label "Rete"@it, "Network"@en ; rdfs:comment "Una rete territoriale antiviolenza."@it ;
      rdfs:subClassOf org:Organization ; rdfs:isDefinedBy <https://w3id.org/parita/ontology> .
  p:Protocol a owl:Class ; rdfs:label "Protocollo"@it, "Protocol"@en ; rdfs:comment "Un protocollo d'intesa."@it ;
      owl:equivalentClass <http://example.org/alignment/Agreement> ; rdfs:isDefinedBy <https://w3id.org/parita/ontology> .
  p:HelpDesk a owl:Class ; rdfs:label "Sportello"@it, "Help desk"@en ; rdfs:isDefinedBy <https://w3id.org/parita/ontology> .
  p:Membership a owl:Class ; rdfs:label "Adesione"@it, "Membership"@en ; rdfs:subClassOf org:Membership ;
      rdfs:isDefinedBy <https://w3id.org/parita/ontology> .
  p:signatory a owl:ObjectProperty ; rdfs:label "firmatario"@it, "signatory"@en ; rdfs:domain p:Protocol ;
      rdfs:range org:Organization ; rdfs:isDefinedBy <https://w3id.org/parita/ontology> .
  p:thematicArea a owl:ObjectProperty ; rdfs:label "area tematica"@it, "thematic area"@en ;
      rdfs:subPropertyOf dct:subject ; rdfs:isDefinedBy <https://w3id.org/parita/ontology> .
}

g:shapes {
  <https://w3id.org/parita/shapes#NetworkShape> a sh:NodeShape ; sh:name "Rete"@it ; sh:targetClass p:Network ;
      sh:property [ sh:path rdfs:label ; sh:minCount 1 ; sh:datatype rdf:langString ] .
}

g:vocabularies {
  id:scheme\\/thematic-area a skos:ConceptScheme ; skos:prefLabel "Aree tematiche"@it, "Thematic areas"@en .
  id:concept\\/thematic-area\\/violenza a skos:Concept ; skos:prefLabel "Violenza di genere"@it, "Gender-based violence"@en ;
      skos:inScheme id:scheme\\/thematic-area .
}

g:territories {
  id:organization\\/provincia-di-asti a org:Organization ; rdfs:label "Provincia di Asti"@it .
  id:organization\\/comune-di-asti a org:Organization ; rdfs:label "Comune di Asti"@it .
}

g:source\\/asti-rete-antiviolenza {
  id:source\\/asti-rete-antiviolenza a foaf:Document, prov:Entity ; dct:title "Rete antiviolenza di Asti (pagina web)"@it ;
      dct:publisher id:organization\\/provincia-di-asti ; dct:issued "2024-03-08"^^xsd:date ;
      foaf:page <https://www.provincia.asti.it/rete-antiviolenza> .
  id:network\\/rete-antiviolenza-asti a p:Network ; rdfs:label "Rete antiviolenza di Asti"@it, "Asti anti-violence network"@en ;
      p:thematicArea id:concept\\/thematic-area\\/violenza ; prov:wasDerivedFrom id:source\\/asti-rete-antiviolenza ;
      vcard:hasAddress [ vcard:street-address "Piazza Alfieri 33" ; vcard:locality "Asti" ] .
  id:membership\\/asti-comune-rete a p:Membership ; org:member id:organization\\/comune-di-asti ;
      org:organization id:network\\/rete-antiviolenza-asti ; prov:wasDerivedFrom id:source\\/asti-rete-antiviolenza .
  id:protocol\\/asti-2024 a p:Protocol ; rdfs:label "Protocollo d'intesa della rete di Asti"@it ;
      p:signatory id:organization\\/provincia-di-asti, id:organization\\/comune-di-asti ;
      dct:issued "2024-03-08"^^xsd:date ; prov:wasDerivedFrom id:source\\/asti-rete-antiviolenza .
  id:help-desk\\/asti-centro-ascolto a p:HelpDesk ; rdfs:label "Centro di ascolto di Asti"@it ;
      vcard:hasEmail <mailto:ascolto@example.org> ; prov:wasDerivedFrom id:source\\/asti-rete-antiviolenza .
}
"""


def write_release(build_dir: Path, trig: str = FIXTURE_TRIG, release_id: str = RELEASE_ID) -> Path:
    """Write a release in the layout `scripts.build` produces and point `build_dir/current` at it."""
    quads = list(ox.parse(trig.encode(), format=ox.RdfFormat.TRIG))
    rel = build_dir / "releases" / release_id
    (rel / "dumps").mkdir(parents=True)
    nq = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    files = {
        "parita.nq.gz": (gzip.compress(nq, mtime=0), "application/n-quads"),
        "parita.ttl": (ox.serialize(triples, format=ox.RdfFormat.TURTLE), "text/turtle"),
        "parita.nt.gz": (
            gzip.compress(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), mtime=0),
            "application/n-triples",
        ),
    }
    dumps = {}
    for name, (data, media_type) in files.items():
        (rel / "dumps" / name).write_bytes(data)
        dumps[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "media_type": media_type}
    (rel / "dumps" / "SHA256SUMS").write_text("".join(f"{d['sha256']}  {n}\n" for n, d in dumps.items()))
    graphs: dict[str, dict[str, object]] = {}
    for q in quads:
        entry = graphs.setdefault(q.graph_name.value, {"triples": 0, "file": "data/fixture.ttl"})
        entry["triples"] = int(entry["triples"]) + 1  # type: ignore[call-overload]
    store = ox.Store(str(rel / "store"))
    store.extend(quads)
    store.flush()
    del store
    meta = {
        "id": release_id,
        "created": "2026-11-23T01:45:00+00:00",
        "base_uri": BASE,
        "triples": len(quads),
        "graphs": graphs,
        "dumps": dumps,
    }
    (rel / "release.json").write_text(json.dumps(meta, indent=1))
    write_stream(rel, None, quads, meta["created"], BASE)  # its event stream, as every build writes one
    link = build_dir / "current.next"
    link.symlink_to(rel.relative_to(build_dir))
    os.replace(link, build_dir / "current")  # atomic switch, as `parita build` does
    return rel


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder holding the fixture release as `current`."""
    path = tmp_path_factory.mktemp("build")
    write_release(path)
    return path


@pytest.fixture(scope="session")
def settings(build_dir: Path) -> Settings:
    return Settings(build_dir=build_dir, sparql_timeout=3.0, sparql_row_limit=50, sparql_workers=2)


#: Modules whose tests are independent of each other (no module fixture, no order) and long: under pytest-xdist
#: their tests are handed to the workers one by one instead of all to one worker.
INDEPENDENT_MODULES = {"test_validation_oracle"}  # pySHACL over the whole real data, once per test
#: Modules that read the same session fixture's long result run in one worker, so it is computed once there.
RUN_WITH = {"test_server_real_data": "test_browser_site"}  # site_crawl


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before pytest-xdist's own choice; absent without xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadfile` (pyproject.toml's addopts): a module's tests run together in one worker, in file order,
    so its module fixtures are built once and tests that build on each other (tests/test_harvest.py) still do;
    the tests of INDEPENDENT_MODULES are handed out one by one, and RUN_WITH's modules go with their partner."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = Path(nodeid.split("::", 1)[0]).stem
            return nodeid if module in INDEPENDENT_MODULES else RUN_WITH.get(module, module)

    return ModuleScheduling(config, log)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path


def start_server(
    settings: Settings, log: Path, env_extra: dict[str, str] | None = None, port: int | None = None
) -> LiveServer:
    """Start `uvicorn --factory server.app:create_app` on a free loopback port (or `port`, when the release's
    base URI names it); wait (bounded) until it answers."""
    env = {
        "PARITA_BUILD_DIR": str(settings.build_dir),
        "PARITA_SPARQL_TIMEOUT": str(settings.sparql_timeout),
        "PARITA_SPARQL_ROW_LIMIT": str(settings.sparql_row_limit),
        "PARITA_SPARQL_WORKERS": str(settings.sparql_workers),
        "PARITA_BASE_URI": settings.base_uri,
        **(env_extra or {}),
    }
    server = start_parita(env, log, how="uvicorn", port=port or 0, limit=30.0)
    return LiveServer(server.url, settings, server.process, log)


def stop_server(server: LiveServer) -> None:
    stop_group(server.process)


@pytest.fixture(scope="session")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server on 127.0.0.1 over the fixture release, for the whole session."""
    server = start_server(settings, tmp_path_factory.mktemp("logs") / "uvicorn.log")
    yield server
    stop_server(server)


@pytest.fixture()
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client bound to the live server, not following redirects."""
    with httpx.Client(base_url=live_server.url, timeout=30.0, follow_redirects=False) as client:
        yield client


def _engine_fixture(start: object, folder: Path) -> Iterator[object]:
    """Start an engine (tools/engines.py) or skip loudly, with the install or start error as the reason. An
    engine may be installed with apt-get first: one install at a time on the machine (xdist workers)."""
    from tools.engines import EngineUnavailable

    try:
        with machine_lock("apt-get"):
            engine = start(folder)  # type: ignore[operator]
    except EngineUnavailable as error:
        pytest.skip(f"ENGINE NOT AVAILABLE, tests against it skipped: {error}")
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def oxigraph_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real Oxigraph server (`oxigraph serve`, pip-installed) on a loopback port, stopped by process group."""
    from tools.engines import start_oxigraph

    yield from _engine_fixture(start_oxigraph, tmp_path_factory.mktemp("oxigraph"))


@pytest.fixture(scope="session")
def virtuoso_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real Virtuoso Open Source 7 (Debian package, apt-installed as root) on loopback ports."""
    from tools.engines import start_virtuoso

    yield from _engine_fixture(start_virtuoso, tmp_path_factory.mktemp("virtuoso"))


@pytest.fixture(scope="session")
def built_data(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The project's own data/ built once by `scripts.build` with the default settings (about 44,000 triples
    with ISTAT's territories, seconds per build). READ ONLY: tests and servers that only read the release share
    it; a test that builds, ingests or rolls back works on a copy (tests/release_helpers.copy_build)."""
    from scripts.build import build

    settings = Settings(build_dir=tmp_path_factory.mktemp("real") / "build")
    build(settings)
    return settings


@pytest.fixture(scope="session")
def site_crawl(site_server: LiveServer) -> tuple[int, list[str]]:
    """One HTTP crawl of `site_server` from its home page (test_html.crawl): (HTML pages seen, broken links).
    The server only reads its release, so the tests that check the crawl share it instead of crawling again."""
    from test_html import crawl

    return crawl(site_server.url)


@pytest.fixture(scope="session")
def cuneo_ingested(built_data: Settings, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """A copy of `built_data` with the fictitious Cuneo set ingested (tests/ingest_helpers.py), once per session:
    (settings, the new release, the ingest's report). READ ONLY; a test that writes takes `copy_ingested`."""
    return ingest_cuneo(copy_build(built_data, tmp_path_factory.mktemp("cuneo")))


@pytest.fixture(scope="session")
def site_server(built_data: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server over the release built by `scripts.build` from the project's own data/
    (`built_data`, which it only reads), for the site and browser tests (what people will look at)."""
    tmp = tmp_path_factory.mktemp("site")
    settings = Settings(build_dir=built_data.build_dir, sparql_timeout=10.0)
    server = start_server(settings, tmp / "uvicorn.log")
    yield server
    stop_server(server)
