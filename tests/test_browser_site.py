"""The site in a real browser: Debian's chromium driven by Playwright (never a downloaded browser), over a
release built from the project's data/. Every page kind renders without console errors and is screenshotted
to `test-artifacts/browser/`; axe-core (vendored in tests/vendor) finds no serious or critical violation;
the keyboard alone reaches every control; the explorer's nodes lead to the right pages; the phone menu opens.
Skips, saying why, only where /usr/bin/chromium is absent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from conftest import ROOT, LiveServer
from markupsafe import escape
from test_html import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.server, pytest.mark.browser]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PAGES = {  # name → path: one of every kind of page people see
    "home": "/",
    "home-en": "/?lang=en",
    "bodies": "/-/browse/bodies",
    "bodies-asti": "/-/browse/bodies?province=005",
    "offices": "/-/browse/offices",
    "equality-bodies": "/-/browse/equality-bodies",
    "networks": "/-/browse/networks",
    "acts": "/-/browse/acts",
    "help-desk-list": "/-/browse/help-desks",
    "themes": "/-/browse/themes",
    "search": "/-/search?q=parit%C3%A0",
    "search-empty": "/-/search?q=zzzz",
    "timeline": "/-/timeline",
    "timeline-pisa": "/-/timeline?province=050",
    "help-desks": "/-/help-desks",
    "province": "/-/province/005",
    "explorer": "/-/explorer",
    "explorer-network": "/-/explorer/rete-antiviolenza-asti",
    "explorer-pisa": "/-/explorer/pisa-tavolo-provinciale-rete-violenze",
    "resource-network": "/doc/network/rete-antiviolenza-asti",
    "resource-body": "/doc/organization/comune-di-faenza",
    "resource-protocol": "/doc/protocol/asti-strategie-condivise-violenza-donne",
    "resource-desk": "/doc/help-desk/orecchio-di-venere",
    "resource-concept": "/doc/scheme/thematic-area",
    "kind-list": "/-/kind/organization",
    "graph": "/graph/asti-pari-opportunita",
    "ontology": "/ontology",
    "shapes": "/shapes",
    "query": "/sparql",
    "dumps": "/dumps/",
    "catalog": "/catalog",
    "catalog-en": "/catalog?lang=en",
    "error-404": "/-/no-such-page",
}
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
    'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the "
            "browser tests (Playwright must never download a browser)"
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    yield ctx
    ctx.close()


def open_page(context: Any, url: str) -> tuple[Any, list[str], Any]:
    context.clear_cookies()  # the language switch sets a cookie: each page starts from the browser's locale
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url, wait_until="load")
    return page, errors, response


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text())  # evaluated by the test driver: the site's CSP rightly refuses inline scripts
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_cleanly_and_passes_axe(context: Any, site_server: LiveServer, name: str) -> None:
    page, errors, response = open_page(context, site_server.url + PAGES[name])
    try:
        expected = 404 if name.startswith("error") else 200
        assert response.status == expected
        if expected == 404:  # chromium reports the document's own status as a console error
            errors = [e for e in errors if "status of 404" not in e]
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert errors == [], errors
        assert page.locator("h1").count() == 1 and page.locator("h1").inner_text().strip()
        assert page.evaluate("document.fonts.check('16px \"Titillium Web\"')"), "Titillium Web did not load"
        violations = axe_violations(page)
        (ARTIFACTS / f"{name}.axe.json").write_text(json.dumps(violations, indent=1))
        assert violations == [], json.dumps(violations, indent=1)
    finally:
        page.close()


@pytest.mark.parametrize(
    "path", ["/", "/-/explorer/rete-antiviolenza-asti", "/-/browse/bodies", "/sparql", "/-/help-desks"]
)
def test_keyboard_reaches_every_control(context: Any, site_server: LiveServer, path: str) -> None:
    page, _, _ = open_page(context, site_server.url + path)
    try:
        total = page.evaluate(
            """(sel) => {
            const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
            const all = [...document.querySelectorAll(sel)].filter(visible);
            all.forEach((el, i) => el.setAttribute('data-kbd', String(i)));
            return all.length; }""",
            FOCUSABLE,
        )
        reached: set[str] = set()
        for _ in range(total + 20):  # bounded: every control plus some slack
            page.keyboard.press("Tab")
            mark = page.evaluate("document.activeElement && document.activeElement.getAttribute('data-kbd')")
            if mark is not None:
                reached.add(mark)
            if len(reached) == total:
                break
        missing = page.evaluate(
            """(marks) => [...document.querySelectorAll('[data-kbd]')]
            .filter(el => !marks.includes(el.getAttribute('data-kbd'))).map(el => el.outerHTML.slice(0, 120))""",
            sorted(reached),
        )
        assert missing == [], missing
    finally:
        page.close()


def test_skip_link_comes_first(context: Any, site_server: LiveServer) -> None:
    page, _, _ = open_page(context, site_server.url + "/")
    try:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    finally:
        page.close()


def test_explorer_nodes_lead_to_their_pages(context: Any, site_server: LiveServer) -> None:
    page, errors, _ = open_page(context, site_server.url + "/-/explorer/rete-antiviolenza-asti")
    try:
        nodes = page.eval_on_selector_all(
            "a.node",
            "els => els.map(a => [a.getAttribute('href'), a.getAttribute('data-iri'), a.getAttribute('data-label')])",
        )
        assert len(nodes) >= 20
        comune = next(n for n in nodes if n[1].endswith("/id/organization/comune-di-asti"))
        page.focus(f'a.node[href="{comune[0]}"]')
        assert page.locator("#explorer-svg.is-active .edge.hl").count() >= 1  # its links are highlighted
        page.keyboard.press("Enter")
        page.wait_for_url("**/doc/organization/comune-di-asti")
        assert page.locator("h1").inner_text() == comune[2]
        for href, _iri, label in nodes:  # each node's page answers and is about that node
            r = page.request.get(site_server.url + href, headers={"Accept": "text/html", "Accept-Language": "it"})
            heading = r.text().split("<h1>", 1)[1].split("</h1>", 1)[0] if "<h1>" in r.text() else ""
            assert r.status == 200 and heading.endswith(str(escape(label))), (href, label)  # "Provincia di Asti"
        assert errors == []
    finally:
        page.close()


def test_phone_menu_opens(browser: Any, site_server: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="it-IT")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site_server.url + "/")
        assert not page.locator("#main-menu a[href='/-/timeline']").is_visible()
        page.click("button.custom-navbar-toggler")
        page.locator("#main-menu a[href='/-/timeline']").wait_for(state="visible", timeout=5000)
        page.screenshot(path=str(ARTIFACTS / "home-phone-menu.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
        assert errors == []
    finally:
        ctx.close()


def test_crawl_from_home_finds_no_broken_link(site_crawl: tuple[int, list[str]]) -> None:
    """Every internal link reachable from the home page answers 200 (an HTTP crawl; the pages above are the
    ones opened in the browser)."""
    pages, broken = site_crawl
    assert not broken, broken
    assert pages >= 100


def test_catalog_page_shows_what_a_portal_operator_needs(context: Any, site_server: LiveServer) -> None:
    page, errors, response = open_page(context, site_server.url + "/catalog")
    try:
        assert response.status == 200 and errors == []
        assert page.locator("pre").count() == 0, "the catalog page is raw RDF again"
        tables = page.locator("table caption")
        assert tables.count() >= 2  # the whole dataset's dumps and at least one publisher's graph
        first = page.locator("table").first
        # the three dumps, each with size and checksum, and the change feed (LDES), which has neither
        assert first.locator("tbody tr").count() == 4
        assert "LDES" in first.inner_text()
        hashes = first.locator("code.hash").all_inner_texts()
        assert len(hashes) == 3 and all(len(c) == 64 for c in hashes)
        assert "catalog.ttl" in page.locator(".callout.note").inner_text()
        # the fixture runs with placeholder publisher settings: the page says the catalog is not harvestable yet
        assert "dati.gov.it" in page.locator("#not-harvestable").inner_text()
        assert page.get_by_role("link", name="Endpoint SPARQL di parita").count() == 1
    finally:
        page.close()


@pytest.mark.parametrize("lang, results, rows", [("it", "Risultati", "righe"), ("en", "Results", "rows")])
def test_sparql_page_script_speaks_the_page_language(
    context: Any, site_server: LiveServer, lang: str, results: str, rows: str
) -> None:
    query = quote("SELECT ?x WHERE { VALUES ?x { 1 2 3 } }")
    page, errors, response = open_page(context, site_server.url + f"/sparql?lang={lang}&query={query}")
    try:
        assert response.status == 200
        page.locator("#results h2").wait_for()
        assert page.locator("#results h2").inner_text() == results
        assert page.locator("#status").inner_text() == f"3 {rows}"
        assert errors == []
    finally:
        page.close()


def test_sparql_results_link_only_web_iris(context: Any, site_server: LiveServer) -> None:
    query = quote("SELECT ?x WHERE { VALUES ?x { <javascript:alert(1)> <data:text/html,hi> <https://example.org/> } }")
    page, errors, response = open_page(context, site_server.url + f"/sparql?query={query}")
    try:
        assert response.status == 200
        page.locator("#results table").wait_for()
        cells = page.locator("#results td")
        assert cells.count() == 3 and "javascript:alert(1)" in cells.all_inner_texts()
        hrefs = page.locator("#results td a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs == ["https://example.org/"]
        assert errors == []
    finally:
        page.close()
