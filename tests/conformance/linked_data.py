"""Linked-data dereferencing of a resource path, after "Cool URIs for the Semantic Web" and "Best Practice
Recipes for Publishing RDF Vocabularies": the 303/200 policy, content negotiation, Vary, Link alternates,
validators and 304, HEAD, CORS, and 404 for what does not exist.

The policy checked by default is parita's (server/urls.py): `/id/x` names a thing and answers 303 See
Other to `/doc/x` whatever the Accept header; documents (`/doc/…`, `/ontology`, `/shapes`, `/graph/…`)
answer 200, `*/*` and no Accept get Turtle, browsers get HTML, an unknown media type gets 406. A named
graph's document (`/graph/…`) serves exactly the graph (the catalog's checksum covers it), so it need not
mention its own IRI; any other document must say something about its subject.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from functools import partial
from urllib.parse import urljoin

import httpx
import rdflib

from .core import (
    BROWSER_ACCEPT,
    GRAPH_TYPES,
    HTML_TYPES,
    ORIGIN,
    Result,
    client,
    cors_allowed,
    follow,
    media_type,
    raw_head,
    require,
    response_graph,
    run_check,
    same_graph,
    seen,
    statuses,
    varies_on_accept,
)

LABELS = {"text/turtle": "turtle", "application/ld+json": "jsonld", "application/rdf+xml": "rdfxml"}
LABELS["application/n-triples"] = "ntriples"
UNKNOWN = "application/x-no-such-type"
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_TAG = re.compile(r"<link\b[^>]*>", re.I)
_ATTR = re.compile(r"""(\w[\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def parita_document(path: str) -> str | None:
    """The document a path redirects to under parita's URI policy, or None for a path that is a document."""
    return "/doc/" + path[len("/id/") :] if path.startswith("/id/") else None


def link_alternates(response: httpx.Response) -> dict[str, str]:
    """media type -> target of every `Link: <…>; rel="alternate"; type="…"` of a response."""
    found = {}
    for value in response.headers.get_list("link"):
        for target, params in _LINK.findall(value):
            attrs = {
                k.strip().lower(): v.strip().strip('"') for k, _, v in (p.partition("=") for p in params.split(";"))
            }
            if "alternate" in attrs.get("rel", "").split() and attrs.get("type"):
                found[attrs["type"].lower()] = target
    return found


def html_alternates(html: str) -> dict[str, str]:
    """media type -> href of every `<link rel="alternate" type="…" href="…">` of an HTML page."""
    found = {}
    for tag in _TAG.findall(html):
        attrs = {m[0].lower(): m[1] or m[2] or m[3] for m in _ATTR.findall(tag)}
        if "alternate" in attrs.get("rel", "").lower().split() and attrs.get("type") and attrs.get("href"):
            found[attrs["type"].lower()] = attrs["href"]
    return found


def check_resource(
    base_url: str,
    path: str,
    *,
    public_base: str | None = None,
    document_of: Callable[[str], str | None] = parita_document,
    default_type: str | None = "text/turtle",
    timeout: float = 30.0,
) -> list[Result]:
    """Dereference `base_url + path`, whose IRI is `public_base + path` (default: `base_url + path`).
    `document_of(path)`: where the path must 303 to (None: it must answer 200 itself). `default_type`: what
    `*/*` and no Accept must get (None: any RDF or HTML)."""
    base_url = base_url.rstrip("/")
    request_path = path.partition("#")[0]
    url = base_url + request_path
    iri = rdflib.URIRef((public_base or base_url).rstrip("/") + path)
    document = document_of(request_path)
    tag = f"ld:{path}"
    results: list[Result] = []
    check = partial(run_check, results)
    with client(timeout) as http:
        chains = {mime: follow(http, url, {"Accept": mime}) for mime in (*GRAPH_TYPES, "text/html")}

        def policy() -> str:
            accepts: list[str | None] = [*GRAPH_TYPES, "text/html", "*/*", BROWSER_ACCEPT, None]
            if document:
                accepts.append(UNKNOWN)  # a thing redirects whatever the Accept header
            for accept in accepts:
                first = http.get(url, headers={"Accept": accept} if accept else {})
                if document is None:
                    require(first.status_code == 200, f"Accept {accept}: a document must answer 200, got {seen(first)}")
                    continue
                require(first.status_code == 303, f"Accept {accept}: a thing must answer 303, got {seen(first)}")
                target = urljoin(url, first.headers.get("location", ""))
                require(target == base_url + document, f"Accept {accept}: 303 to {target}, expected {document}")
            return f"{len(accepts)} Accept headers: " + (f"303 to {document}" if document else "200")

        check(f"{tag}:303_or_200_policy", policy)

        def representation(mime: str) -> str:
            hops = chains[mime]
            final = hops[-1]
            require(final.status_code == 200, f"{statuses(hops)}: {seen(final)}")
            require(media_type(final) == mime, f"{statuses(hops)}: Content-Type {final.headers.get('content-type')}")
            graph = response_graph(final)
            if request_path.startswith("/graph/"):  # a named graph's document is the graph, not a description of it
                require(len(graph), f"{statuses(hops)}: an empty named graph")
                return f"{statuses(hops)}; the named graph, {len(graph)} triples"
            about = len(list(graph.predicate_objects(iri)))
            require(about, f"{statuses(hops)}: no triple with subject <{iri}>")
            return f"{statuses(hops)}; {about} triples about <{iri}>"

        for mime in GRAPH_TYPES:
            check(f"{tag}:conneg_{LABELS[mime]}", partial(representation, mime))

        def html() -> str:
            hops = chains["text/html"]
            final = hops[-1]
            require(final.status_code == 200 and media_type(final) in HTML_TYPES, f"{statuses(hops)}: {seen(final)}")
            require(re.search(r"<!doctype html|<html", final.text[:2048], re.I), "no <html> element")
            return f"{statuses(hops)}; {media_type(final)}"

        check(f"{tag}:conneg_html", html)

        def suffix_urls() -> str:
            graphs = {}
            for mime in GRAPH_TYPES:
                final = chains[mime][-1]
                location = final.headers.get("content-location")
                require(location, f"{mime}: no Content-Location naming the representation sent")
                fixed = http.get(urljoin(str(final.url), location))
                require(fixed.status_code == 200 and media_type(fixed) == mime, f"{location}: {seen(fixed)}")
                graphs[mime] = response_graph(fixed)
                require(same_graph(graphs[mime], response_graph(final)), f"{location} differs from the negotiated one")
            first = graphs.pop("text/turtle")
            differ = [m for m, g in graphs.items() if not same_graph(first, g)]
            require(not differ, f"not the same graph as Turtle: {differ}")
            return "Content-Location of each syntax serves it; all the same graph"

        check(f"{tag}:content_location_same_graph", suffix_urls)

        def alternates() -> str:
            final = chains["text/html"][-1]
            in_page = html_alternates(final.text)
            in_header = link_alternates(chains["text/turtle"][-1])
            missing = [m for m in GRAPH_TYPES if m not in in_page] + [
                f"Link {m}" for m in GRAPH_TYPES if m not in in_header
            ]
            require(not missing, f"no rel=alternate for {missing} (page: {in_page}, header: {in_header})")
            targets = {(m, urljoin(str(final.url), h)) for found in (in_page, in_header) for m, h in found.items()}
            for mime, target in sorted(targets):
                if mime in GRAPH_TYPES or mime in HTML_TYPES:
                    r = http.get(target)
                    require(r.status_code == 200 and media_type(r) == mime, f"alternate {target}: {seen(r)}")
            return f"{len(targets)} alternates (HTML <link> and Link header) resolve to their type"

        check(f"{tag}:link_alternates", alternates)

        def vary() -> str:
            missing = [
                f"{r.status_code} {r.url} ({m})" for m, hops in chains.items() for r in hops if not varies_on_accept(r)
            ]
            require(not missing, f"no Vary: Accept on {missing[:3]}")
            return "Vary: Accept on every negotiated response"

        check(f"{tag}:vary_accept", vary)

        def defaults() -> str:
            seen_types = []
            for headers in ({}, {"Accept": "*/*"}):
                hops = follow(http, url, headers)
                final = hops[-1]
                require(final.status_code == 200, f"Accept {headers.get('Accept')}: {statuses(hops)} {seen(final)}")
                mime = media_type(final)
                if default_type:
                    require(mime == default_type, f"Accept {headers.get('Accept')}: {mime}, expected {default_type}")
                elif mime not in HTML_TYPES:
                    response_graph(final)
                seen_types.append(mime)
            return f"no Accept and */* -> {seen_types}"

        check(f"{tag}:default_representation", defaults)

        def browser() -> str:
            final = follow(http, url, {"Accept": BROWSER_ACCEPT})[-1]
            require(final.status_code == 200 and media_type(final) in HTML_TYPES, f"browser Accept: {seen(final)}")
            return "browsers get HTML"

        check(f"{tag}:browser_gets_html", browser)

        def q_values() -> str:
            final = follow(http, url, {"Accept": "text/turtle;q=0.5, application/ld+json;q=0.9"})[-1]
            require(final.status_code == 200 and media_type(final) == "application/ld+json", seen(final))
            return "text/turtle;q=0.5, application/ld+json;q=0.9 -> JSON-LD"

        check(f"{tag}:accept_q_values", q_values)

        def not_acceptable() -> str:
            hops = follow(http, url, {"Accept": UNKNOWN})
            final = hops[-1]
            require(final.status_code == 406, f"Accept {UNKNOWN}: {statuses(hops)} {seen(final)}")
            require("text/turtle" in final.text, f"the 406 does not list what is offered: {seen(final)}")
            return f"{statuses(hops)}, alternatives listed"

        check(f"{tag}:unknown_type_406", not_acceptable)

        def head() -> str:
            gets = chains["text/turtle"]
            with client(timeout) as other:  # its own connections: a broken HEAD must not upset later checks
                heads = follow(other, url, {"Accept": "text/turtle"}, method="HEAD")
            require(statuses(heads) == statuses(gets), f"HEAD {statuses(heads)}, GET {statuses(gets)}")
            h, g = heads[-1], gets[-1]
            require(g.status_code == 200, f"nothing to compare HEAD with: GET {statuses(gets)} {seen(g)}")
            for name in ("content-type", "etag", "last-modified", "vary"):
                require(
                    h.headers.get(name) == g.headers.get(name),
                    f"{name}: HEAD {h.headers.get(name)}, GET {g.headers.get(name)}",
                )
            for hop in dict.fromkeys(str(r.url) for r in heads):
                status, extra = raw_head(hop, "text/turtle", timeout)
                require(not extra, f"HEAD {hop} -> {status} carried {len(extra)} body bytes")
            return f"HEAD {statuses(heads)}, same headers as GET, no body"

        check(f"{tag}:head", head)

        def validators() -> str:
            final = chains["text/turtle"][-1]
            etag, modified = final.headers.get("etag"), final.headers.get("last-modified")
            require(etag and modified, f"ETag {etag}, Last-Modified {modified}")
            parsedate_to_datetime(modified)
            by_url: dict[str, dict[str, str]] = {}
            for mime, hops in chains.items():
                tag_ = hops[-1].headers.get("etag", "")
                if hops[-1].status_code == 200 and tag_ and not tag_.startswith("W/"):
                    by_url.setdefault(str(hops[-1].url), {})[mime] = tag_
            for at, tags in by_url.items():  # RFC 9110 8.8.3: a strong ETag names one representation
                require(len(set(tags.values())) == len(tags), f"one strong ETag for several representations of {at}")
            return f"ETag {etag}, Last-Modified {modified}; one ETag per representation"

        check(f"{tag}:etag_and_last_modified", validators)

        def conditional() -> str:
            final = chains["text/turtle"][-1]
            doc, etag, modified = str(final.url), final.headers.get("etag"), final.headers.get("last-modified")
            require(etag and modified, "no validators to test")
            for headers in (
                {"If-None-Match": etag},
                {"If-None-Match": f'W/{etag}, "x"'},
                {"If-Modified-Since": modified},
            ):
                r = http.get(doc, headers={"Accept": "text/turtle", **headers})
                require(r.status_code == 304 and not r.content, f"{headers}: {seen(r)}")
                require(r.headers.get("etag") == etag, f"304 with ETag {r.headers.get('etag')}, expected {etag}")
            r = http.get(doc, headers={"Accept": "text/turtle", "If-None-Match": '"not-the-etag"'})
            require(r.status_code == 200, f"a non-matching If-None-Match: {seen(r)}")
            return "If-None-Match and If-Modified-Since -> 304"

        check(f"{tag}:conditional_get_304", conditional)

        def cors() -> str:
            hops = follow(http, url, {"Accept": "text/turtle", "Origin": ORIGIN})
            require(hops[-1].status_code == 200, seen(hops[-1]))
            bad = [f"{r.status_code} {r.url}" for r in hops if not cors_allowed(r)]
            require(not bad, f"no Access-Control-Allow-Origin on {bad}")
            return "Access-Control-Allow-Origin on every hop"

        check(f"{tag}:cors", cors)

        missing = request_path.rstrip("/") + f"-missing-{uuid.uuid4().hex[:8]}"

        def not_found() -> str:
            for accept in ("text/turtle", "text/html"):
                r = http.get(base_url + missing, headers={"Accept": accept})
                require(r.status_code == 404, f"{missing} Accept {accept}: {seen(r)}")
                if accept == "text/html":
                    require(media_type(r) in HTML_TYPES, f"browsers get an HTML 404 page: {seen(r)}")
            return f"{missing}: 404 (HTML for browsers)"

        check(f"{tag}:unknown_404", not_found)
    return results


def check_resources(base_url: str, paths: list[str], **options: object) -> list[Result]:
    results: list[Result] = []
    for path in paths:
        results += check_resource(base_url, path, **options)  # type: ignore[arg-type]
    return results
