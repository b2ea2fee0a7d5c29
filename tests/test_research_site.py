"""Issue 14 over HTTP on the real server and the project's own data: province pages list only what the data
places in that province, no page shows a slug where a label exists, search finds every labelled thing,
SELECT * keeps the query's order and the derived graphs can be left out of the default graph."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer

BASE = "https://w3id.org/parita/"
PROVINCES = "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/provinces/"
REGIONS = "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/regions/"
PARENT_PATH = (
    "(org:unitOf|org:subOrganizationOf|org:postIn|parita:operatedBy|parita:hostedBy|parita:regulates"
    "|org:resultingOrganization|org:originalOrganization|parita:conferredBy|dct:creator|dct:publisher"
    "|prov:wasAssociatedWith)*"
)
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/sparql-results+json"}
PREFIXES = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX parita: <https://w3id.org/parita/ontology#>
PREFIX clv: <https://w3id.org/italia/onto/CLV/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


@pytest.fixture(scope="module")
def site(site_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site_server.url, timeout=30.0, headers=HTML) as client:
        yield client


def sparql(site: httpx.Client, query: str, **params: str) -> dict:
    r = site.get("/sparql", params={"query": PREFIXES + query, **params}, headers=JSON)
    assert r.status_code == 200, r.text
    return r.json()


def listed_documents(page: str) -> list[str]:
    """The /doc/ links a page lists as its own entries: not the operators or kinds in a line's meta."""
    main = page.split("<main", 1)[1] if "<main" in page else page
    main = re.sub(r'<span class="meta">.*?</span></li>', "</li>", main, flags=re.S)
    return sorted(set(re.findall(r'href="/doc/([^"#?]+)"', main)))


def province_codes(site: httpx.Client) -> list[str]:
    return sorted(set(re.findall(r'href="#desks-(\d{3})"', site.get("/-/help-desks").text)))


def test_every_province_page_lists_only_what_the_data_places_there(site: httpx.Client) -> None:
    codes = province_codes(site)
    assert {"005", "036", "046", "050"} <= set(codes)
    for code in codes:
        page = site.get(f"/-/province/{code}").text
        pages = [page] + [
            site.get(f"/-/browse/{category}", params={"province": code}).text
            for category in re.findall(rf'href="/-/browse/([a-z-]+)\?province={code}"', page)
        ]
        listed = sorted({doc for p in pages for doc in listed_documents(p)})
        assert listed, f"province {code} lists nothing"
        for doc in listed:
            placed = sparql(
                site,
                f"""ASK {{ <{BASE}id/{doc}> {PARENT_PATH}/parita:territory/clv:hasDirectHigherRank* <{PROVINCES}{code}> }}""",
            )
            assert placed["boolean"], f"/-/province/{code} lists {doc}, which the data does not place there"


def region_codes(site: httpx.Client) -> list[str]:
    return sorted(
        {
            c
            for code in province_codes(site)
            for c in re.findall(r'href="/-/region/(\d{2})"', site.get(f"/-/province/{code}").text)
        }
    )


def test_every_region_page_lists_only_what_the_data_places_there(site: httpx.Client) -> None:
    codes = region_codes(site)
    assert {"01", "08", "09"} <= set(codes)
    for code in codes:
        listed = listed_documents(site.get(f"/-/region/{code}").text)
        assert listed, f"region {code} lists nothing"
        for doc in listed:
            placed = sparql(
                site,
                f"""ASK {{ <{BASE}id/{doc}> {PARENT_PATH}/parita:territory/clv:hasDirectHigherRank* <{REGIONS}{code}> }}""",
            )
            assert placed["boolean"], f"/-/region/{code} lists {doc}, which the data does not place there"
    piemonte = site.get("/-/region/01").text
    assert "Forum regionale sulla prevenzione della violenza contro le donne" in piemonte
    assert "Rete provinciale antiviolenza di Asti" in piemonte
    assert site.get("/-/region/99", params={"lang": "it"}).status_code == 404


def test_bodies_the_data_places_nowhere_are_listed_as_such(site: httpx.Client) -> None:
    asti = site.get("/-/province/005").text
    for elsewhere in ("Croce Rossa Italiana", "Forum regionale", "Piano regionale", "D.G.R. n. 2-9099"):
        assert elsewhere not in asti.split("Sportello L&#39;orecchio di Venere")[0], elsewhere
    modena = site.get("/-/province/036").text
    assert "Istat" not in modena and "U.P.I." not in modena
    unplaced = site.get("/-/browse/bodies", params={"province": "none"}).text
    assert "Croce Rossa Italiana" in unplaced and ">Provincia di Asti</a>" not in unplaced
    desks = site.get("/-/help-desks").text
    assert 'id="desks-none"' in desks and "Posto letto segreto" in desks.split('id="desks-none"')[1]


def test_no_page_shows_a_slug_where_a_label_exists(site: httpx.Client) -> None:
    pages = ["/", "/-/help-desks", "/-/timeline", "/-/search?q=asti", "/-/explorer"]
    pages += [
        f"/-/browse/{c}" for c in ("bodies", "offices", "equality-bodies", "networks", "acts", "help-desks", "themes")
    ]
    pages += [f"/-/province/{code}" for code in province_codes(site)]
    pages += [f"/-/region/{code}" for code in region_codes(site)]
    pages += ["/doc/membership/rete-antiviolenza-asti--comune-di-asti", "/doc/site/ospedale-cardinal-massaia"]
    pages += ["/doc/organization/provincia-di-asti-servizio-pari-opportunita"]  # its entailed links name their graph
    # and every document the lists link to (bodies, networks, acts, desks, themes …)
    lists = [
        site.get(f"/-/browse/{c}").text
        for c in ("bodies", "offices", "equality-bodies", "networks", "acts", "help-desks", "themes")
    ]
    pages += sorted({f"/doc/{doc}" for page in lists for doc in re.findall(r'href="/doc/([^"#?]+)"', page)})
    for path in pages:
        r = site.get(path)
        assert r.status_code == 200, path
        main = r.text.split("<main", 1)[-1]
        for href, text in re.findall(r'<a href="(/(?:doc|graph)/[^"#?]+)"[^>]*>(.*?)</a>', main, flags=re.S):
            shown = html_lib.unescape(re.sub(r"<[^>]+>", "", text)).strip()
            slug = href.rsplit("/", 1)[-1]
            assert shown not in (slug, href.split("/", 2)[2]), f"{path} shows the slug {shown!r} for {href}"


@pytest.mark.parametrize(
    "q, found",
    [
        ("Cardinal Massaia", "Ospedale Cardinal Massaia"),
        ("Comune di Asti membro", "Comune di Asti — membro della Rete provinciale antiviolenza di Asti"),
        ("conferimento", "Conferimento all&#39;Unione della Romagna Faentina"),
    ],
)
def test_search_finds_every_labelled_thing(site: httpx.Client, q: str, found: str) -> None:
    assert found in site.get("/-/search", params={"q": q}).text


def test_select_star_keeps_the_query_variable_order(site: httpx.Client) -> None:
    head = sparql(site, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")["head"]["vars"]
    assert head == ["s", "p", "o"]
    head = sparql(site, "SELECT * WHERE { ?network org:hasMember ?member . ?member a ?class } LIMIT 1")["head"]["vars"]
    assert head == ["network", "member", "class"]
    explicit = sparql(site, "SELECT ?o ?s WHERE { ?s ?p ?o } LIMIT 1")["head"]["vars"]
    assert explicit == ["o", "s"]


def test_the_derived_graphs_are_in_the_union_and_can_be_left_out(site: httpx.Client) -> None:
    count = "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a org:Organization }"
    union = int(sparql(site, count)["results"]["bindings"][0]["n"]["value"])
    asserted = int(
        sparql(site, count, **{"default-graph-uri": BASE + "graph/asserted"})["results"]["bindings"][0]["n"]["value"]
    )
    assert union > asserted > 0  # the bodies typed only org:FormalOrganization etc. need graph/entailed
    only_entailed = sparql(site, count, **{"default-graph-uri": BASE + "graph/entailed"})["results"]["bindings"][0]
    assert int(only_entailed["n"]["value"]) > 0


@pytest.mark.parametrize(
    "path, italian, english",
    [
        ("/-/province/999", "Nessuna provincia con codice", "No province with code"),
        ("/id/organization/nessuno", "non è descritta in questi dati", "is not described in this dataset"),
        ("/-/browse/nothing", "Non esiste l&#39;elenco", "There is no list"),
        ("/nothing-here", "Non è pubblicato nulla", "Nothing is published at"),
    ],
)
def test_not_found_pages_follow_the_page_language(site: httpx.Client, path: str, italian: str, english: str) -> None:
    r = site.get(path, params={"lang": "it"}, follow_redirects=True)
    assert r.status_code == 404 and italian in r.text and english not in r.text
    r = site.get(path, params={"lang": "en"}, follow_redirects=True)
    assert r.status_code == 404 and english in r.text and italian not in r.text
