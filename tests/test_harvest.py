"""`parita harvest` across real instances on loopback: two provinces (Asti's and Modena's seed data, each with
its own base URI = its own address) and an aggregator (the project's data) harvesting Asti's LDES and
Modena's DCAT catalog; a CKAN-shaped fixture catalog; hostile and broken sources (tests/harvest_fixtures.py).

Each province serves its seed file, the identifiers and the concepts its own source pages support (the
vocabulary file names every province's pages; a province publishes only its own). Tests run in order and
share the network: the incremental test starts from the first harvest.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import trustme

from scripts import reconcile, reconcile_command
from scripts.build import build
from scripts.harvest import Refused, harvest, load_sources, parse
from server.config import PROJECT_ROOT, Settings
from server.urls import Urls
from tests.conftest import LiveServer, start_server, stop_server
from tests.harvest_fixtures import Publishers, wait_for
from tools.processes import clean_env, free_port, launch

DERIVED = ("http://www.w3.org/ns/prov#wasDerivedFrom", "http://purl.org/dc/terms/source")
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
TREE_NODE = "https://w3id.org/tree#node"
NETWORKS_AND_MEMBERS = """PREFIX org: <http://www.w3.org/ns/org#>
SELECT DISTINCT ?network ?member WHERE {{ {pattern} }}"""
MEMBERSHIP = (
    "?network a org:OrganizationalCollaboration . OPTIONAL { ?m org:organization ?network ; org:member ?member }"
)
#: A membership made up for the incremental test (FICTITIOUS: no source says ASL AT joined the network).
NEW_MEMBERSHIP = """@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/parita/id/membership/rete-antiviolenza-asti--asl-at> a org:Membership ;
    org:organization <https://w3id.org/parita/id/network/rete-antiviolenza-asti> ;
    org:member <https://w3id.org/parita/id/organization/asl-at> ;
    org:role <https://w3id.org/parita/id/concept/network-role/membro> ;
    prov:wasDerivedFrom <https://w3id.org/parita/id/source/asti-pari-opportunita> .
"""


def province_data(folder: Path, seed: str) -> None:
    """The seed file, the identifiers, and the vocabulary without concepts (or provenance links) that rest
    only on other provinces' source pages."""
    folder.mkdir(parents=True)
    for name in ("identifiers.ttl", seed):
        shutil.copy(PROJECT_ROOT / "data" / name, folder / name)
    seed_triples = ox.parse((PROJECT_ROOT / "data" / seed).read_bytes(), format=ox.RdfFormat.TURTLE)
    pages = {t.subject.value for t in seed_triples if t.object.value.endswith("#SourcePage")}
    vocabulary = list(ox.parse((PROJECT_ROOT / "data" / "vocabularies.ttl").read_bytes(), format=ox.RdfFormat.TURTLE))
    sources: dict[str, set[str]] = {}
    for t in vocabulary:
        if t.predicate.value in DERIVED:
            sources.setdefault(t.subject.value, set()).add(t.object.value)
    foreign = {s for s, found in sources.items() if not found & pages}
    kept = [
        t
        for t in vocabulary
        if t.subject.value not in foreign
        and t.object.value not in foreign
        and not (t.predicate.value in DERIVED and t.object.value not in pages)
    ]
    (folder / "vocabularies.ttl").write_bytes(ox.serialize(kept, format=ox.RdfFormat.TURTLE) or b"")


@dataclass
class Instance:
    settings: Settings
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    def rebuild(self) -> None:
        release = build(self.settings)
        wait_for(lambda: self.release() == release.name)

    def select(self, query: str) -> set[tuple[str, ...]]:
        answer = httpx.post(
            self.url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        names = body["head"]["vars"]
        return {tuple(row.get(n, {}).get("value", "") for n in names) for row in body["results"]["bindings"]}

    def release(self) -> str:
        # the request that finds a new release opens it before answering: seconds on a loaded machine
        return str(httpx.get(self.url + "/health", timeout=60).json()["release"])


@dataclass
class Network:
    asti: Instance
    modena: Instance
    aggregator: Instance
    publishers: Publishers
    tmp: Path

    def sources(self, *extra: str) -> Path:
        """A sources file: the two provinces, then the named fixture sources."""
        text = f"""
[[source]]
id = "asti"
name = "Provincia di Asti"
ldes = "{self.asti.url}/ldes"
base_uris = ["{self.asti.settings.base_uri}"]

[[source]]
id = "modena"
name = "Provincia di Modena"
catalog = "{self.modena.url}/catalog"
base_uris = ["{self.modena.settings.base_uri}"]
"""
        for name in extra:
            url = (
                f"http://127.0.0.1:{free_port()}/catalog" if name == "down" else f"{self.publishers.url}/{name}/catalog"
            )
            key = "ldes" if name == "loop" else "catalog"
            url = f"{self.publishers.url}/loop/ldes" if name == "loop" else url
            text += f'\n[[source]]\nid = "{name}"\n{key} = "{url}"\nbase_uris = ["{self.publishers.base(name)}"]\n'
        path = self.tmp / f"sources-{'-'.join(extra) or 'provinces'}.toml"
        path.write_text(text)
        return path

    def harvest(self, *extra: str) -> dict[str, dict[str, object]]:
        return self.harvest_file(self.sources(*extra))

    def harvest_file(self, path: Path, settings: Settings | None = None) -> dict[str, dict[str, object]]:
        """Harvest the sources file `path` into the aggregator (with other `settings` of its, if given)."""
        summaries = harvest(settings or self.aggregator.settings, load_sources(path))
        published = [s["release"] for s in summaries if "release" in s]
        if published:
            wait_for(lambda: self.aggregator.release() == published[-1])
        return {str(s["source"]): s for s in summaries}


def start_instance(tmp: Path, name: str, data: Path | None, **overrides: object) -> Instance:
    port = free_port()
    settings = Settings(
        build_dir=tmp / name / "build",
        data_dir=data or PROJECT_ROOT / "data",
        base_uri=f"http://127.0.0.1:{port}/",
        sparql_timeout=10.0,
        **overrides,  # type: ignore[arg-type]
    )
    build(settings)
    return Instance(settings, start_server(settings, tmp / f"{name}.log", port=port))


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    tmp = tmp_path_factory.mktemp("network")
    province_data(tmp / "asti-data", "asti-pari-opportunita.ttl")
    province_data(tmp / "modena-data", "modena-pari-opportunita.ttl")
    asti = start_instance(tmp, "asti", tmp / "asti-data")
    modena = start_instance(tmp, "modena", tmp / "modena-data")
    aggregator = start_instance(tmp, "aggregator", None, harvest_timeout=5.0, harvest_max_bytes=500_000)
    publishers = Publishers(aggregator.settings.base_uri, big_bytes=5_000_000, slow_seconds=20.0)
    yield Network(asti, modena, aggregator, publishers, tmp)
    publishers.stop()
    for instance in (asti, modena, aggregator):
        stop_server(instance.server)


def _turtle(client: httpx.Client, url: str) -> list[ox.Triple]:
    answer = client.get(url, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200, answer.text
    return list(ox.parse(answer.content, format=ox.RdfFormat.TURTLE))


def harvested(network: Network) -> set[tuple[str, ...]]:
    graphs = network.aggregator.settings.base_uri + "graph/publisher/"
    pattern = f'GRAPH ?g {{ {MEMBERSHIP} }} FILTER(STRSTARTS(STR(?g), "{graphs}"))'
    return network.aggregator.select(NETWORKS_AND_MEMBERS.format(pattern=pattern))


def union_of_provinces(network: Network) -> set[tuple[str, ...]]:
    query = NETWORKS_AND_MEMBERS.format(pattern=MEMBERSHIP)
    return network.asti.select(query) | network.modena.select(query)


def test_one_harvest_answers_as_the_union_of_the_provinces(network: Network) -> None:
    summaries = network.harvest()
    assert summaries["asti"]["status"] == "ok", json.dumps(summaries["asti"])[:3000]
    assert summaries["modena"]["status"] == "ok", summaries
    expected = union_of_provinces(network)
    assert {row[0].split("/id/")[0] for row in expected} == {
        network.asti.url,
        network.modena.url,
    }
    assert harvested(network) == expected
    # a body the aggregator already publishes is one entity: an owl:sameAs pair, never two unrelated copies.
    # The pair is derived by the reconcile rules, not stated by Asti: it lives in graph/reconciled only.
    agg = network.aggregator.settings.base_uri
    same_as = network.aggregator.select(
        "SELECT ?g ?a ?b WHERE { GRAPH ?g { ?a <http://www.w3.org/2002/07/owl#sameAs> ?b } }"
    )
    assert same_as and {g for g, _, _ in same_as} == {agg + "graph/reconciled"}
    linked = {(a, b) for _, a, b in same_as}
    rule = network.aggregator.select(
        f"""SELECT ?compared WHERE {{ GRAPH <{agg}graph/reconciled> {{ <{agg}graph/reconciled> a
        <{agg}ontology#DerivedGraph> ; <http://www.w3.org/2000/01/rdf-schema#comment> ?rule ;
        <http://www.w3.org/ns/prov#wasDerivedFrom> ?compared }} FILTER(CONTAINS(?rule, "scripts/reconcile.py")) }}"""
    )
    assert (agg + "graph/publisher/asti",) in rule and len(rule) >= 2, rule  # Asti's graph and the matches' graphs
    with httpx.Client(base_url=network.aggregator.url) as client:  # the stream carries what sources state
        pages = [t.object.value for t in _turtle(client, "/ldes") if t.predicate.value == TREE_NODE]
        members = [t for url in pages for t in _turtle(client, url)]
    assert members and not [t for t in members if t.predicate.value == OWL_SAME_AS]
    bodies = network.aggregator.select(
        f"""SELECT DISTINCT ?a ?b WHERE {{ GRAPH <{agg}graph/publisher/asti> {{ ?a a ?type }}
        FILTER(REGEX(STR(?a), "/id/(organization|post|network)/"))
        BIND(IRI(REPLACE(STR(?a), "^{network.asti.settings.base_uri}", "{agg}")) AS ?b)
        FILTER EXISTS {{ GRAPH ?g {{ ?b ?p ?o }} FILTER(!STRSTARTS(STR(?g), "{agg}graph/publisher/")) }} }}"""
    )
    decisions = json.loads((network.aggregator.settings.build_dir / "reconciliation" / "asti.json").read_text())
    listed = {(c["submitted"], c["existing"]) for c in decisions["candidates"]}
    assert bodies
    assert (
        f"{network.asti.url}/id/organization/provincia-di-asti",
        f"{agg}id/organization/provincia-di-asti",
    ) in linked  # certain: same IPA code
    assert bodies <= linked | listed, sorted(bodies - linked - listed)  # the rest wait for a person
    # provenance of the graph: where it came from, when, and the dump's checksum
    graph = network.aggregator.settings.base_uri + "graph/publisher/modena"
    facts = network.aggregator.select(f"SELECT ?p ?o WHERE {{ GRAPH <{graph}> {{ <{graph}> ?p ?o }} }}")
    assert ("http://www.w3.org/ns/prov#wasDerivedFrom", f"{network.modena.url}/dumps/parita.nq.gz") in facts


def test_a_second_harvest_with_nothing_new_fetches_one_root_and_publishes_nothing(network: Network) -> None:
    before = network.aggregator.release()
    summaries = network.harvest()
    assert summaries["asti"]["status"] == "unchanged" and summaries["asti"]["requests"] == 1
    assert summaries["modena"]["status"] == "unchanged"  # the dump answered 304 to its ETag
    assert network.aggregator.release() == before


def test_a_candidate_a_person_confirms_is_linked_in_graph_reconciled_only(network: Network) -> None:
    """`parita reconcile --publisher asti --confirm 1` on the aggregator: the pair becomes an owl:sameAs in the
    derived graph, not in Asti's graph, and the next harvest keeps it."""
    settings = network.aggregator.settings
    todo = reconcile.pending(reconcile.load_decisions(settings, "asti"))
    assert todo, "the first harvest left no uncertain candidate to confirm"
    pair = (todo[0]["submitted"], todo[0]["existing"])
    assert reconcile_command.main(["--publisher", "asti", "--confirm", "1"], settings=settings) == 0
    wait_for(lambda: network.aggregator.release() == settings.current_release.resolve().name)
    query = "SELECT ?g ?a ?b WHERE { GRAPH ?g { ?a <http://www.w3.org/2002/07/owl#sameAs> ?b } }"
    same_as = network.aggregator.select(query)
    assert (settings.base_uri + "graph/reconciled", *pair) in same_as
    assert {g for g, _, _ in same_as} == {settings.base_uri + "graph/reconciled"}
    assert network.harvest()["asti"]["status"] == "unchanged"
    assert (settings.base_uri + "graph/reconciled", *pair) in network.aggregator.select(query)


def test_a_new_member_arrives_in_one_incremental_harvest_and_a_removed_one_leaves(network: Network) -> None:
    first = json.loads((network.aggregator.settings.build_dir / "harvest" / "state.json").read_text())["asti"]
    extra = network.asti.settings.data_dir / "test-new-member.ttl"
    extra.write_text(NEW_MEMBERSHIP)
    network.asti.rebuild()
    summaries = network.harvest()
    asti = summaries["asti"]
    new_member = (network.asti.url + "/id/network/rete-antiviolenza-asti", network.asti.url + "/id/organization/asl-at")
    assert asti["status"] == "ok" and asti["members_applied"] == 1
    assert asti["requests"] == 2  # the root node and the one new page, nothing else
    state = json.loads((network.aggregator.settings.build_dir / "harvest" / "state.json").read_text())["asti"]
    assert len(state["pages"]) == len(first["pages"]) + 1
    print(f"\nincremental harvest: {asti['requests']} requests, {asti['bytes']} bytes")
    assert new_member in harvested(network)
    assert harvested(network) == union_of_provinces(network)

    extra.unlink()
    network.asti.rebuild()
    summaries = network.harvest()
    assert summaries["asti"]["members_applied"] == 1 and summaries["asti"]["requests"] == 2
    assert new_member not in harvested(network)
    assert harvested(network) == union_of_provinces(network)


def test_a_ckan_catalog_with_one_turtle_distribution_is_harvested(network: Network) -> None:
    summaries = network.harvest("ckan")
    assert summaries["ckan"]["status"] == "ok", summaries["ckan"]
    rows = network.aggregator.select(
        f"SELECT ?label WHERE {{ <{network.publishers.base('ckan')}ente/ufficio-fittizio> "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    )
    assert rows == {("Ufficio fittizio per i test (dati inventati)",)}


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("down", "unreachable"),
        ("status500", "http-500"),
        ("slow", "timeout"),
        ("checksum", "checksum"),
        ("big", "too-large"),
        ("xxe", "hostile"),
        ("jsonld", "hostile"),
        ("squat", "outside-base"),
        ("redirect", "redirect-host"),
        ("loop", "loop"),
        ("shacl", "shacl"),
        ("parse", "parse"),
    ],
)
def test_a_faulty_source_is_refused_and_the_others_go_on(network: Network, fault: str, reason: str) -> None:
    network.harvest("ckan")  # the good sources are current
    before = network.aggregator.release()
    summaries = network.harvest(fault, "ckan")
    refused = summaries[fault]
    assert refused["status"] == "refused" and refused["reason"] == reason, refused
    assert refused["error"] and refused["fix"]
    assert all(summaries[s]["status"] == "unchanged" for s in ("asti", "modena", "ckan"))
    assert network.aggregator.release() == before  # nothing published, the last good data stays
    state = json.loads((network.aggregator.settings.build_dir / "harvest" / "state.json").read_text())
    assert state[fault]["status"] == "refused" and state[fault]["error"] == refused["error"]


def test_an_https_source_is_verified_with_the_ca_bundle_and_never_followed_to_http(network: Network) -> None:
    """PARITA_HARVEST_CA_BUNDLE: a source signed by a private authority (trustme's throwaway CA) is refused
    without the bundle and harvested with it; redirecting to http from then on, it is refused with the reason,
    its last good data stays published and the other sources go on. An unreadable bundle stops the harvest
    before anything is fetched."""
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    bundle = network.tmp / "private-authority.pem"
    authority.cert_pem.write_to_path(str(bundle))
    secure = Publishers(network.aggregator.settings.base_uri, big_bytes=0, slow_seconds=0.0, tls=server_tls)
    try:
        sources = network.tmp / "sources-secure.toml"
        sources.write_text(
            f'[[source]]\nid = "secure"\ncatalog = "{secure.url}/secure/catalog"\n'
            f'base_uris = ["{secure.base("secure")}"]\n\n'
            f'[[source]]\nid = "ckan"\ncatalog = "{network.publishers.url}/ckan/catalog"\n'
            f'base_uris = ["{network.publishers.base("ckan")}"]\n'
        )
        assert secure.url.startswith("https://")
        with pytest.raises(ValueError, match="PARITA_HARVEST_CA_BUNDLE"):
            network.harvest_file(sources, replace(network.aggregator.settings, harvest_ca_bundle=str(bundle) + "-x"))
        assert secure.hits == []

        untrusted = network.harvest_file(sources)["secure"]
        assert untrusted["status"] == "refused" and untrusted["reason"] == "certificate", untrusted
        assert "PARITA_HARVEST_CA_BUNDLE" in str(untrusted["fix"])

        trusting = replace(network.aggregator.settings, harvest_ca_bundle=str(bundle))
        first = network.harvest_file(sources, trusting)
        assert first["secure"]["status"] == "ok", first["secure"]
        query = (
            f"SELECT ?label WHERE {{ <{secure.base('secure')}ente/ufficio-fittizio> "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?label }"
        )
        good = network.aggregator.select(query)
        assert good == {("Ufficio fittizio per i test (dati inventati)",)}
        before = network.aggregator.release()

        secure.variants["secure"] = "downgrade"
        asked = len(secure.hits)
        summaries = network.harvest_file(sources, trusting)
        refused = summaries["secure"]
        assert refused["status"] == "refused" and refused["reason"] == "redirect-downgrade", refused
        assert f"redirects from https to http://{secure.netloc}/secure/catalog" in str(refused["error"]), refused
        assert refused["fix"]
        assert summaries["ckan"]["status"] == "unchanged"  # the other source went on
        assert secure.hits[asked:] == ["/secure/catalog"]  # the redirect was not followed
        assert network.aggregator.release() == before
        assert network.aggregator.select(query) == good  # the last good data stays published
        state = json.loads((network.aggregator.settings.build_dir / "harvest" / "state.json").read_text())["secure"]
        assert state["status"] == "refused" and state["last_success"]
    finally:
        secure.stop()


@pytest.mark.parametrize("fault", ["shacl", "parse"])
def test_a_source_that_turns_bad_keeps_its_last_good_data_published(network: Network, fault: str) -> None:
    """Harvested once with good data, then serving data that fails the shapes or does not parse: refused with
    the source, the reason and the fix; its good statements stay published and the other sources go on."""
    name = f"turns-{fault}"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    query = f"SELECT ?label WHERE {{ <{network.publishers.base(name)}ente/ufficio-fittizio> {label} ?label }}"
    first = network.harvest(name)
    assert first[name]["status"] == "ok", first[name]
    good = network.aggregator.select(query)
    assert good == {("Ufficio fittizio per i test (dati inventati)",)}
    before = network.aggregator.release()
    network.publishers.variants[name] = fault
    try:
        summaries = network.harvest("ckan", name)
    finally:
        del network.publishers.variants[name]
    refused = summaries[name]
    assert refused["status"] == "refused" and refused["reason"] == fault, refused
    assert refused["fix"] and refused["url"] == f"{network.publishers.base(name)}catalog"
    if fault == "shacl":  # the report names the node the shapes refused
        assert f"{network.publishers.base(name)}ente/ufficio-fittizio" in str(refused["error"]), refused
    else:  # the parser's message, with where
        assert "cannot be parsed as Turtle" in str(refused["error"]) and "line 4" in str(refused["error"]), refused
    assert all(summaries[s]["status"] == "unchanged" for s in ("asti", "modena", "ckan"))
    assert network.aggregator.release() == before
    assert network.aggregator.select(query) == good  # the last good data stays published
    state = json.loads((network.aggregator.settings.build_dir / "harvest" / "state.json").read_text())[name]
    assert state["status"] == "refused" and state["error"] == refused["error"] and state["last_success"]
    assert summaries[name]["triples"] == first[name]["triples"]


def test_kill_9_halfway_leaves_the_release_served_and_the_next_harvest_completes(network: Network) -> None:
    before = network.aggregator.release()
    env = clean_env(
        {
            "PARITA_BUILD_DIR": str(network.aggregator.settings.build_dir),
            "PARITA_BASE_URI": network.aggregator.settings.base_uri,
            "PARITA_HARVEST_TIMEOUT": "60",
        }
    )
    sources = network.sources("trickle")
    process = launch([sys.executable, "-m", "scripts.cli", "harvest", str(sources)], network.tmp / "killed.log", env)
    try:
        assert network.publishers.trickle_started.wait(60), "the harvest never reached the slow dump"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # its own process group (launch), ours alone
        process.wait(timeout=10)
    assert network.aggregator.release() == before
    assert httpx.get(network.aggregator.url + "/health").status_code == 200
    network.publishers.release_trickle.set()
    summaries = network.harvest("trickle")
    assert summaries["trickle"]["status"] == "ok", summaries["trickle"]
    assert network.aggregator.release() != before


def test_sources_page_lists_every_source_in_italian_first(network: Network) -> None:
    page = httpx.get(network.aggregator.url + "/-/sources", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for name in ("asti", "modena", "ckan", "loop"):
        assert name in page.text
    assert "Fonti raccolte" in page.text
    assert "rifiutata" in page.text  # the refused sources say so


def test_watch_with_json_output(network: Network) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.cli",
            "harvest",
            str(network.sources()),
            "--watch",
            "0.1",
            "--rounds",
            "2",
            "--format",
            "json",
        ],
        cwd=PROJECT_ROOT,
        env=clean_env(
            {
                "PARITA_BUILD_DIR": str(network.aggregator.settings.build_dir),
                "PARITA_BASE_URI": network.aggregator.settings.base_uri,
            }
        ),
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()
    decoder, text, rounds = json.JSONDecoder(), done.stdout.decode().strip(), []
    while text:
        value, end = decoder.raw_decode(text)
        rounds.append(value)
        text = text[end:].strip()
    assert len(rounds) == 2 and all({s["source"] for s in r} == {"asti", "modena"} for r in rounds)


def test_a_harvested_thing_is_described_on_the_aggregator_with_its_publisher_and_home(network: Network) -> None:
    iri = network.asti.url + "/id/network/rete-antiviolenza-asti"
    with httpx.Client(base_url=network.aggregator.url) as client:
        page = client.get("/doc/", params={"uri": iri}, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "Pubblicato da Provincia di Asti" in page.text and f'href="{iri}"' in page.text
        turtle = client.get("/doc/", params={"uri": iri, "format": "ttl"})
        assert turtle.status_code == 200
        triples = list(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE))
        about = {(t.predicate.value, t.object.value) for t in triples if t.subject.value == iri}
        assert ("http://xmlns.com/foaf/0.1/isPrimaryTopicOf", iri) in about
        assert (
            "http://purl.org/dc/terms/source",
            network.aggregator.settings.base_uri + "graph/publisher/asti",
        ) in about
        assert any(p == "http://www.w3.org/ns/org#hasMember" or p.endswith("label") for p, _ in about)
        assert turtle.headers["content-location"].endswith("&format=turtle")
        own = network.aggregator.settings.base_uri + "id/network/rete-antiviolenza-asti"
        redirect = client.get("/doc/", params={"uri": own})
        assert redirect.status_code == 303 and redirect.headers["location"] == "/doc/network/rete-antiviolenza-asti"
        assert client.get("/doc/", params={"uri": "http://example.org/unknown"}).status_code == 404


def test_links_to_harvested_things_go_to_their_description_here(network: Network) -> None:
    """A page linking to a thing outside this instance's base that a harvested graph describes links to its
    description here (`/doc/?uri=`), not to its publisher; that page still says where its home is."""
    asti = network.asti.url
    network_iri, member = asti + "/id/network/rete-antiviolenza-asti", asti + "/id/organization/prefettura-di-asti"
    assert (network_iri, member) in harvested(network)  # a member the network's page links to
    with httpx.Client(base_url=network.aggregator.url) as client:
        page = client.get("/doc/", params={"uri": network_iri}, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert f'href="{Urls.foreign_document(member)}"' in page.text
        assert f'href="{member}"' not in page.text
        assert f'Pubblicato da Provincia di Asti, su <a href="{network_iri}">' in page.text  # its home, kept
        described = client.get(Urls.foreign_document(member), headers={"Accept": "text/html"})
        assert described.status_code == 200 and f'href="{member}"' in described.text  # the member's home
        # an IRI outside the base that no publisher's graph describes keeps linking to itself
        assert 'href="http://www.w3.org/ns/org#OrganizationalCollaboration"' in page.text


def test_a_source_removed_from_the_file_stays_until_a_harvest_with_prune(network: Network) -> None:
    """Without --prune a source no longer listed keeps its graph; `--prune` unpublishes it in one release."""
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    ckan = (network.aggregator.settings.base_uri + "graph/publisher/ckan",)
    network.harvest("ckan")
    assert ckan in network.aggregator.select(graphs)
    network.harvest()  # the provinces only: ckan is not listed, and stays published
    assert ckan in network.aggregator.select(graphs)
    before = network.aggregator.release()
    summaries = harvest(network.aggregator.settings, load_sources(network.sources()), prune=True)
    pruned = {str(s["source"]): s for s in summaries if s["status"] == "pruned"}
    assert pruned["ckan"]["unpublished"] is True and pruned["ckan"]["release"]
    assert "down" in pruned and pruned["down"]["unpublished"] is False  # never published: only forgotten
    wait_for(lambda: network.aggregator.release() == pruned["ckan"]["release"])
    assert network.aggregator.release() != before
    published = network.aggregator.select(graphs)
    assert ckan not in published
    assert {(network.aggregator.settings.base_uri + f"graph/publisher/{p}",) for p in ("asti", "modena")} <= published
    state = json.loads((network.aggregator.settings.build_dir / "harvest" / "state.json").read_text())
    assert set(state) == {"asti", "modena"}
    assert [s["source"] for s in summaries if s["status"] != "pruned"] == ["asti", "modena"]


@pytest.mark.parametrize(
    "document",
    [
        '{"\\u0040context": "http://127.0.0.1:9/context.jsonld", "@id": "http://127.0.0.1:9/x"}',
        '{"@context": {"@import": "http://127.0.0.1:9/context.jsonld"}, "@id": "http://127.0.0.1:9/x"}',
    ],
)
def test_a_remote_context_is_refused_as_hostile_however_it_is_spelled(document: str) -> None:
    """The screen reads the JSON, not the bytes: an escaped key or an @import is the same remote context."""
    with pytest.raises(Refused) as refused:
        parse(document.encode(), ox.RdfFormat.JSON_LD, "http://127.0.0.1:9/doc.jsonld")
    assert refused.value.reason == "hostile", refused.value.message


@pytest.mark.parametrize("bad", ["àsti", "a\u00b2", "Asti", "asti-", "-asti", "as--ti"])
def test_a_source_id_is_ascii_lower_case_words_joined_by_hyphens(tmp_path: Path, bad: str) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "{bad}"\nurl = "http://127.0.0.1:9/catalog"\nbase = ["http://127.0.0.1:9/"]\n'
    )
    with pytest.raises(ValueError, match="lower-case letters, digits and hyphens"):
        load_sources(sources)
