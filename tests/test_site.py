"""The site for people over the project's real data: lists with filters, search (accent- and case-insensitive),
timeline with undated changes, the help-desk finder (never a secret facility's location), the network
explorer and its text alternative, English pages, and the vendored Bootstrap Italia assets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import LiveServer
from test_html import parse_page

from server.search import fold
from server.timeline import format_date
from tools import vendor_assets

pytestmark = pytest.mark.server
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def site(site_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site_server.url, timeout=30.0, headers=HTML) as client:
        yield client


def test_vendored_assets_match_their_pinned_checksums() -> None:
    assert vendor_assets.check() == []


@pytest.mark.parametrize(
    "path, media",
    [
        ("/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css", "text/css"),
        ("/static/vendor/bootstrap-italia/svg/sprites.svg", "image/svg+xml"),
        ("/static/vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-regular.woff2", "font/woff2"),
    ],
)
def test_vendored_assets_are_served(site: httpx.Client, path: str, media: str) -> None:
    r = site.get(path)
    assert r.status_code == 200 and media in r.headers["content-type"]


def test_every_page_uses_bootstrap_italia_locally(site: httpx.Client) -> None:
    html = site.get("/").text
    assert 'href="/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css"' in html
    assert 'class="it-header-wrapper"' in html and 'class="it-footer"' in html
    assert "Titillium Web" in site.get("/static/app.css").text


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Parità") == fold("PARITA") == "parita"
    assert fold("C.I.S.A.") == "c i s a"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("parita", "Consigliera di Parità Provinciale di Asti"),
        ("PARITÀ", "Consigliera di Parità Provinciale di Asti"),
        ("cisa", "Consorzio C.I.S.A. Asti Sud"),
        ("tavolo di lavoro", "Rete provinciale antiviolenza di Asti"),  # an alternative label
        ("cogesa", "Consorzio CO.GE.SA Asti Nord"),
        ("delibera 231", "Delibera della Giunta Provinciale n. 231 del 10.09.2010"),
    ],
)
def test_search_finds_by_label_and_alternative_label(site: httpx.Client, query: str, expected: str) -> None:
    html = site.get("/-/search", params={"q": query}).text
    assert f">{expected}</a>" in html, query


def test_search_box_on_every_page(site: httpx.Client) -> None:
    for path in ("/", "/-/timeline", "/doc/network/rete-antiviolenza-asti", "/sparql", "/ontology"):
        assert 'action="/-/search"' in site.get(path).text, path


def test_search_nothing_found(site: httpx.Client) -> None:
    html = site.get("/-/search", params={"q": "zzzznothing"}).text
    assert "Nessun risultato" in html


def test_browse_filters_by_province_and_kind(site: httpx.Client) -> None:
    everything = site.get("/-/browse/bodies").text
    assert "Comune di Faenza" in everything and "Comune di Asti" in everything
    asti = site.get("/-/browse/bodies", params={"province": "005"}).text
    assert "Comune di Asti" in asti and "Comune di Faenza" not in asti
    comuni = site.get(
        "/-/browse/bodies",
        params={
            "kind": "https://w3id.org/italia/controlled-vocabulary/classifications-for-organizations/legal-status/2430"
        },
    ).text
    assert "Comune di Faenza" in comuni and "Provincia di Asti" not in comuni
    assert re.search(r"Asti \(\d+\)</option>", everything)


def test_browse_themes_filter(site: httpx.Client) -> None:
    offices = site.get("/-/browse/offices").text
    assert 'name="theme"' in offices
    lucca = site.get(
        "/-/browse/offices",
        # "due filoni di intervento": a line of intervention in the source's words (ontology/README.md)
        params={
            "theme": "https://w3id.org/parita/id/concept/line-of-intervention/lucca-pari-opportunita-politiche-di-genere"
        },
    ).text
    assert "Centro Pari Opportunità della Provincia di Lucca" in lucca and "Faenza" not in lucca.split("<main")[1]


@pytest.mark.parametrize(
    "category", ["bodies", "offices", "equality-bodies", "networks", "acts", "help-desks", "themes"]
)
def test_every_list_renders(site: httpx.Client, category: str) -> None:
    r = site.get(f"/-/browse/{category}")
    assert r.status_code == 200
    assert not parse_page(r.text).errors


def test_unknown_list_is_404(site: httpx.Client) -> None:
    assert site.get("/-/browse/nothing").status_code == 404


def test_timeline_orders_dates_and_shows_undated_honestly(site: httpx.Client) -> None:
    html = site.get("/-/timeline").text
    dates = re.findall(r'<time datetime="([0-9-]+)"', html)
    assert dates == sorted(dates) and "2016-01-01" in dates
    assert "1 gennaio 2016" in html and "Conferimento all&#39;Unione della Romagna Faentina" in html
    undated = html.split("Senza data", 1)[1]
    assert "data non indicata dalla fonte" in undated and "Confluenza del Tavolo Interistituzionale" in undated
    pisa = site.get("/-/timeline", params={"province": "050"}).text
    assert "Confluenza del Tavolo" in pisa and "Faentina" not in pisa


def test_format_date_keeps_the_precision_of_the_source() -> None:
    assert format_date("2008-07-07", "it") == "7 luglio 2008"
    assert format_date("2008-05", "en") == "May 2008"
    assert format_date("1994", "it") == "1994"


def test_help_desks_say_who_runs_them_and_never_where_a_secret_facility_is(site: httpx.Client) -> None:
    html = site.get("/-/help-desks").text
    asti = html.split('id="desks-005"', 1)[1].split("</section>", 1)[0]
    assert "Sportello L&#39;orecchio di Venere" in asti and "Croce Rossa Italiana" in asti
    # the seed states no territory for the ASL AT or its bed: listed under "no territory stated", not under Asti
    unplaced = html.split('id="desks-none"', 1)[1].split("</section>", 1)[0]
    assert "Posto letto segreto" in unplaced and "non è pubblicato" in unplaced and "Posto letto" not in asti
    for place in ("Ospedale Cardinal Massaia", "/doc/site/", "/doc/address/"):
        assert place not in html
    lucca = html.split('id="desks-046"', 1)[1].split("</section>", 1)[0]
    assert "non indica sportelli" in lucca and "Centro Pari Opportunità della Provincia di Lucca" in lucca


def test_province_page(site: httpx.Client) -> None:
    html = site.get("/-/province/050").text
    assert "<h1>Provincia di Pisa</h1>" in html and "/-/explorer/rete-provinciale-violenza-pisa" in html
    assert site.get("/-/province/999").status_code == 404


def test_explorer_nodes_and_table_for_a_network(site: httpx.Client) -> None:
    html = site.get("/-/explorer/rete-antiviolenza-asti").text
    nodes = re.findall(r'<a class="node[^"]*" href="([^"]+)" id="n\d+" data-iri="([^"]+)"', html)
    assert len(nodes) >= 20
    for href, iri in nodes:
        if iri.startswith("https://w3id.org/parita/id/"):
            assert href == "/doc/" + iri[len("https://w3id.org/parita/id/") :]
    assert "/doc/organization/comune-di-asti" in dict(nodes).keys()
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert table.count("<tr>") == html.count('<path class="edge')
    assert "aderisce a" in table and "regola" in table and "è approvato da" in table


def test_explorer_overview_links_provinces(site: httpx.Client) -> None:
    html = site.get("/-/explorer").text
    assert 'href="/-/province/005"' in html and "Piemonte" in html and "Rete provinciale antiviolenza di Asti" in html
    assert site.get("/-/explorer/no-such-network").status_code == 404


def test_english_everywhere(site: httpx.Client) -> None:
    for path, text in (
        ("/", "Where to turn"),
        ("/-/timeline", "date not stated by the source"),
        ("/-/help-desks", "run by"),
        ("/-/explorer/rete-antiviolenza-asti", "is a member of"),
        ("/-/browse/networks", "Networks and tables"),
        ("/-/search?q=asti", "results for"),
    ):
        html = site.get(path, headers={"Accept-Language": "en"}).text
        assert '<html lang="en">' in html and text in html, path


def test_error_page_offers_search(site: httpx.Client) -> None:
    r = site.get("/-/nothing-here")
    assert r.status_code == 404 and 'action="/-/search"' in r.text and "it-header-wrapper" in r.text


def test_a_dump_has_the_same_media_type_wherever_it_is_served(site: httpx.Client) -> None:
    release = site.get("/health").json()["release"]
    current = site.get("/dumps/parita.nq.gz")
    kept = site.get(f"/releases/{release}/dumps/parita.nq.gz")
    assert current.status_code == kept.status_code == 200
    assert current.headers["content-type"] == kept.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in current.headers and "content-encoding" not in kept.headers
    assert current.content == kept.content and current.content[:2] == b"\x1f\x8b"
