"""Every page speaks the visitor's language: rendered in Italian, no English UI string; in English, no
Italian one. The word lists are the two sides of the UI catalog (`server/i18n.py`), plus the strings the
SPARQL page's script shows (they come from the page, in its language)."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from conftest import LiveServer

from server.i18n import STRINGS

pytestmark = pytest.mark.server
PAGES = [
    "/",
    "/-/browse/bodies",
    "/-/browse/offices",
    "/-/browse/equality-bodies",
    "/-/browse/networks",
    "/-/browse/acts",
    "/-/browse/help-desks",
    "/-/browse/themes",
    "/-/search?q=asti",
    "/-/search?q=zzzz",
    "/-/timeline",
    "/-/help-desks",
    "/-/province/005",
    "/-/explorer",
    "/-/explorer/rete-antiviolenza-asti",
    "/doc/network/rete-antiviolenza-asti",
    "/doc/organization/comune-di-faenza",
    "/-/kind/organization",
    "/graph/asti-pari-opportunita",
    "/ontology",
    "/shapes",
    "/sparql",
    "/dumps/",
    "/catalog",
    "/releases",
    "/.well-known/void",
    "/-/no-such-page",
    "/doc/no-such-thing",
]


PAGE = 5000  # SPARQL rows per request, under the endpoint's cap
HOMOGRAPHS = {"Data"}  # Italian for "date", and an English word on every English page ("Data licence")


def catalog_side(lang: str) -> set[str]:
    """UI phrases of one language that the other language does not also use (names like "SPARQL" or
    "Parità" are the same in both and prove nothing)."""
    other = "it" if lang == "en" else "en"
    theirs = {v[other] for v in STRINGS.values() if other in v} | HOMOGRAPHS
    return {
        v[lang]
        for k, v in STRINGS.items()
        if lang in v and v[lang] not in theirs and len(v[lang]) >= 4 and k != "language"
    }  # "language" is the switch, named in the language it switches to


def ui_text(page: str, data: list[str]) -> str:
    """What a visitor reads or hears of the interface: text outside scripts and styles, labels in
    attributes; minus the data (every literal of the release: a name like "Provincia di Asti" is the same
    on both pages) and minus passages marked with their own language (`lang="en"` technical details)."""
    page = re.sub(r"<(script|style|pre)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<(\w+)\b[^>]*\blang="\w+"[^>]*>.*?</\1>', " ", page[page.index("<body") :], flags=re.S)
    attrs = " ".join(re.findall(r'(?:aria-label|placeholder|title|alt|data-i18n-[\w-]+)="([^"]*)"', page))
    text = html.unescape(" ".join((re.sub(r"<[^>]+>", " ", page) + " " + attrs).split()))
    text = without_identifiers(text)
    for value in data:
        text = text.replace(value, " ")
    return text


def without_identifiers(text: str) -> str:
    """Identifiers, not words: IRIs, media types (application/n-triples), CURIEs (parita:Office)."""
    return " ".join(re.sub(r"\S+://\S+|[\w.+-]+/[\w.+-]+|\b[\w-]+:[\w-]+", " ", text).split())


def literals(http: httpx.Client) -> list[str]:
    """Every literal of the served release, longest first (so a longer one is blanked before its parts)."""
    values: set[str] = set()
    for offset in range(0, 50 * PAGE, PAGE):  # paged: the endpoint caps a result (territories alone exceed it)
        r = http.get(
            "/sparql",
            params={
                "query": f"SELECT DISTINCT ?o {{ ?s ?p ?o FILTER(isLiteral(?o)) }} ORDER BY ?o LIMIT {PAGE} OFFSET {offset}"
            },
            headers={"Accept": "application/sparql-results+json"},
        )
        rows = r.json()["results"]["bindings"]
        values |= {" ".join(b["o"]["value"].split()) for b in rows}
        if len(rows) < PAGE:
            break
    else:
        raise AssertionError("more literals than the test pages through")
    for document in ("/catalog.nt", "/.well-known/void.nt"):  # generated descriptions: data too
        values |= {" ".join(v.split()) for v in re.findall(r'"((?:[^"\\]|\\.)*)"', http.get(document).text)}
    return sorted({without_identifiers(v) for v in values if len(v) >= 4} - {""}, key=len, reverse=True)


def foreign_phrases(text: str, phrases: set[str]) -> list[str]:
    return sorted(p for p in phrases if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", text))


@pytest.mark.parametrize("lang", ["it", "en"])
def test_no_page_mixes_in_the_other_language(site_server: LiveServer, lang: str) -> None:
    other = "en" if lang == "it" else "it"
    unwanted = catalog_side(other)
    found: dict[str, list[str]] = {}
    with httpx.Client(base_url=site_server.url, timeout=30, follow_redirects=True) as http:
        data = literals(http)
        for path in PAGES:
            page = http.get(path, params={"lang": lang}, headers={"Accept": "text/html"})
            assert f'<html lang="{lang}"' in page.text, (path, page.status_code)
            if hits := foreign_phrases(ui_text(page.text, data), unwanted):
                found[path] = hits
    assert found == {}, found


def test_a_page_whose_language_the_cookie_chose_is_never_shared(site_server: LiveServer) -> None:
    """Without `?lang=`, the switch's cookie picks the language: every page so chosen, documents included,
    is `private` and varies on Cookie, so a shared cache never hands one visitor's language to another."""
    leaks: dict[str, tuple[str, str]] = {}
    with httpx.Client(base_url=site_server.url, timeout=30, cookies={"lang": "en"}) as http:
        for path in PAGES:
            page = http.get(path, headers={"Accept": "text/html"})
            assert '<html lang="en"' in page.text, (path, page.status_code)
            cache, vary = page.headers.get("cache-control", ""), page.headers.get("vary", "")
            if "private" not in cache or "public" in cache or "cookie" not in vary.lower():
                leaks[path] = (cache, vary)
    assert leaks == {}, leaks
