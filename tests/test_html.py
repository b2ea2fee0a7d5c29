"""HTML for people: Italian by default, English on request, every internal link resolves (crawl), the
HTML parses, and headless Chromium shows a resource page and the query page without console errors."""

from __future__ import annotations

import os
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from conftest import LiveServer

pytestmark = pytest.mark.server
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class PageParser(HTMLParser):
    """Collects links and checks that elements nest properly (a light well-formedness check)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("href", "src"):
            if a.get(name) and tag in ("a", "link", "script", "img"):
                self.links.append(a[name])  # type: ignore[arg-type]
        if a.get("id"):
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"])  # type: ignore[arg-type]
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            return
        self.stack.pop()


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    assert html.startswith("<!DOCTYPE html>")
    return parser


def crawl(base_url: str, limit: int = 3000) -> tuple[int, list[str]]:
    """Breadth-first from the home page over every internal link: HTML pages are parsed and followed,
    other targets only fetched. Returns (HTML pages seen, links that did not answer 200)."""
    seen: set[str] = set()
    queue = deque(["/"])
    broken: list[str] = []
    pages = 0
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while queue and pages < limit:
            path = queue.popleft()
            if path in seen:
                continue
            seen.add(path)
            r = http.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
            if r.status_code != 200:
                broken.append(f"{path} -> {r.status_code}")
                continue
            if not r.headers["content-type"].startswith("text/html"):
                continue
            pages += 1
            page = parse_page(r.text)
            assert not page.errors and not page.stack, (path, page.errors, page.stack)
            for link in page.links:
                parts = urlsplit(urljoin(base_url + path, link))
                if parts.netloc == urlsplit(base_url).netloc:
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages, broken


def test_crawl_every_internal_link(live_server: LiveServer) -> None:
    pages, broken = crawl(live_server.url)
    assert not broken, broken
    assert pages >= 15, f"only {pages} pages crawled"


def test_italian_default_english_on_request(http: httpx.Client) -> None:
    it = http.get("/doc/network/rete-antiviolenza-asti", headers={"Accept": "text/html"}).text
    assert '<html lang="it">' in it and "Rete antiviolenza di Asti" in it and "Fonti" in it
    en = http.get(
        "/doc/network/rete-antiviolenza-asti", headers={"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"}
    ).text
    assert '<html lang="en">' in en and "Asti anti-violence network</h1>" in en and "Sources" in en
    switched = http.get("/doc/network/rete-antiviolenza-asti?lang=en", headers={"Accept": "text/html"})
    assert '<html lang="en">' in switched.text and "lang=en" in switched.headers["set-cookie"]


def test_labels_not_bare_uris(http: httpx.Client) -> None:
    html = http.get("/doc/protocol/asti-2024", headers={"Accept": "text/html"}).text
    assert ">Provincia di Asti</a>" in html and ">Protocollo</a>" in html and ">firmatario</a>" in html


def test_home_counts_and_entry_points(http: httpx.Client) -> None:
    html = http.get("/", headers={"Accept": "text/html"}).text
    for kind in ("organization", "network", "protocol", "help-desk"):
        assert f'href="/-/kind/{kind}"' in html
    assert re.search(r"\d+ triple", html)


def test_no_cdn_assets(http: httpx.Client) -> None:
    for path in ("/", "/sparql", "/doc/network/rete-antiviolenza-asti", "/ontology"):
        page = parse_page(http.get(path, headers={"Accept": "text/html"}).text)
        external = [u for u in page.links if u.startswith(("http:", "https:", "//")) and u.endswith((".js", ".css"))]
        assert not external


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser checks"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.browser
def test_resource_page_in_chromium(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="it-IT")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/id/network/rete-antiviolenza-asti")
    value = page.locator("table.props td").first.bounding_box()
    assert value is not None and value["x"] + value["width"] <= 390 + 1, "values fall off a phone screen"
    assert page.url.endswith("/doc/network/rete-antiviolenza-asti")
    assert page.locator("h1").inner_text() == "Rete antiviolenza di Asti"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"page scrolls sideways on a phone ({width}px)"
    assert errors == []
    page.close()


@pytest.mark.browser
def test_query_page_in_chromium(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/sparql")
    assert page.locator("#highlight .hl-kw").count() > 0  # syntax highlighting applied
    page.select_option("#examples", "1")
    page.click("button[type=submit]")
    page.wait_for_selector("#results table tbody tr", timeout=10000)
    link = page.locator("#results table a").first
    assert link.get_attribute("href").startswith("/id/")  # URIs link to their pages
    download = page.locator("a.download[data-format=csv]").get_attribute("href")
    assert "format=csv" in download and "query=" in download
    assert errors == []
    page.close()
