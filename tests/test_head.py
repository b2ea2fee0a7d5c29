"""HEAD wherever GET is: the same status and headers, no body (RFC 9110 §9.3.2)."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import BASE, LiveServer

pytestmark = pytest.mark.server
VOLATILE_HEADERS = {"date", "content-length", "transfer-encoding", "x-request-id"}


def paths_to_try(http: httpx.Client) -> list[str]:
    """Every parameterless GET route the OpenAPI description documents, every URL of the sitemap, and
    every local link of the home page and of the pages it links to (the site's own pages under `/-/`)."""
    schema = http.get("/-/openapi.json").json()
    documented = {p for p, ops in schema["paths"].items() if "get" in ops and "{" not in p}
    sitemap = http.get("/sitemap.xml").text
    listed = {"/" + u[len(BASE) :] for u in re.findall(r"<loc>([^<]+)</loc>", sitemap) if u.startswith(BASE)}
    fixed = {"/", "/health", "/metrics", "/robots.txt", "/sitemap.xml", "/-/openapi.json", "/releases", "/sparql"}
    linked: set[str] = set()
    for page in ("/", *sorted(local_links(http.get("/", headers={"Accept": "text/html"}).text))):
        linked |= (
            local_links(http.get(page, headers={"Accept": "text/html"}).text) if page.startswith("/-/") else {page}
        )
    return sorted(documented | listed | fixed | linked)


def local_links(html: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*)"', html) if not h.startswith("/static/")}


def comparable(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in VOLATILE_HEADERS}


def test_head_answers_like_get_everywhere(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        paths = paths_to_try(http)
        assert len(paths) >= 15, paths
        for path in paths:
            for accept in ("text/html", "text/turtle", "*/*"):
                got = http.get(path, headers={"Accept": accept})
                head = http.head(path, headers={"Accept": accept})
                assert head.status_code == got.status_code, (path, accept, head.status_code, got.status_code)
                assert head.content == b"", (path, accept)
                assert comparable(head.headers) == comparable(got.headers), (path, accept)
                if "content-length" in got.headers and got.status_code == 200 and path != "/metrics":  # counts change
                    assert head.headers.get("content-length") == got.headers["content-length"], (path, accept)
