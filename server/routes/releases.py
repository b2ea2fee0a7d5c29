"""`/releases`: every kept release as a version (DCAT, ADMS, PROV) with its changelog, in HTML and RDF.

`/releases` lists the kept releases, `/releases/{id}` describes one with its changelog, and
`/releases/{id}/dumps/{file}` downloads that release's dumps (the last KEEP_RELEASES are kept).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from scripts.releases import release_list
from server.catalog import add_distribution, catalog_iri
from server.config import Settings
from server.errors import NotFound
from server.formats import BY_NAME, GRAPH_FORMATS
from server.i18n import t
from server.negotiation import negotiate
from server.rdfbuild import Builder, iri, lit
from server.release import DUMP_MEDIA_TYPES, served_media_type
from server.results import write_triples
from server.vocab import ADMS, DCAT, DCATAPIT, DCT, FOAF, PROV, SKOS
from server.web import language, render, runtime

PREFIXES = {"dcat": DCAT, "adms": ADMS, "prov": PROV, "dct": DCT, "dcatapit": DCATAPIT, "skos": SKOS, "foaf": FOAF}
OFFERED = (BY_NAME["html"],) + GRAPH_FORMATS
RELEASE_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$")


def router(settings: Settings) -> APIRouter:
    """The routes, bound to `settings` (which build folder to read)."""
    api = APIRouter()

    @api.get("/releases")
    def releases(request: Request) -> Response:
        return _respond(request, settings, release_list(settings), t("releases", language(request)))

    @api.get("/releases/{release_id}")
    def one_release(request: Request, release_id: str) -> Response:
        return _respond(
            request,
            settings,
            [_find(settings, release_id)],
            f"{t('release', language(request))} {release_id}",
            detail=True,
        )

    @api.get("/releases/{release_id}/dumps/{name}")
    def dump(release_id: str, name: str) -> FileResponse:
        release = _find(settings, release_id)
        if name not in DUMP_MEDIA_TYPES:
            raise NotFound(f"No dump {name!r}; dumps: {', '.join(DUMP_MEDIA_TYPES)}.")
        return FileResponse(
            release["path"] / "dumps" / name, media_type=served_media_type(name), filename=f"{release_id}-{name}"
        )

    return api


def _find(settings: Settings, release_id: str) -> dict[str, Any]:
    found = [r for r in release_list(settings) if r["id"] == release_id] if RELEASE_ID.match(release_id) else []
    if not found:
        raise NotFound(f"No kept release {release_id!r}: see /releases for the last ones.")
    return found[0]


def _respond(
    request: Request, settings: Settings, items: list[dict[str, Any]], title: str, detail: bool = False
) -> Response:
    fmt = negotiate(request.headers.get("accept"), OFFERED)
    headers = {"Vary": "Accept"}
    if fmt.name == "html":
        return _page(request, items, title, detail, headers)
    triples = describe(settings, items, str(request.base_url))
    return Response(write_triples(triples, fmt, PREFIXES), media_type=fmt.media_type, headers=headers)


def release_iri(settings: Settings, release_id: str) -> str:
    return f"{settings.base_uri}releases/{release_id}"


def describe(settings: Settings, items: list[dict[str, Any]], site: str) -> list[ox.Triple]:
    """Each release as a DCAT-AP 3.0.1 dataset version of the catalog's whole dataset: dcat:version,
    adms:versionNotes, prov:wasRevisionOf, its dumps as distributions (the catalog's own distribution form)."""
    b = Builder()
    for r in items:
        node, log = release_iri(settings, r["id"]), r["changelog"] or {}
        b.types(node, DCAT + "Dataset")
        b.add(node, DCT + "title", lit(f"Dati parità, versione {r['id']}", "it"))
        b.add(node, DCT + "title", lit(f"parita data, release {r['id']}", "en"))
        b.add(node, DCT + "description", lit(notes(log, "it"), "it"))
        b.add(node, DCT + "description", lit(notes(log, "en"), "en"))
        b.add(node, DCAT + "isVersionOf", iri(catalog_iri(settings.base_uri) + "#dataset"))
        b.add(node, DCAT + "version", lit(r["id"]))  # DCAT 3
        b.add(node, DCT + "identifier", lit(r["id"]))
        if r["created"]:
            created = lit(datetime.fromisoformat(r["created"]))
            b.add(node, DCT + "issued", created)
            b.add(node, PROV + "generatedAtTime", created)
        b.add(node, ADMS + "versionNotes", lit(notes(log, "it"), "it"))
        b.add(node, ADMS + "versionNotes", lit(notes(log, "en"), "en"))
        if log.get("previous"):
            b.add(node, PROV + "wasRevisionOf", iri(release_iri(settings, log["previous"])))
        for name, media_type in DUMP_MEDIA_TYPES.items():
            dist = iri(f"{node}/dumps/{name}")
            b.add(node, DCAT + "distribution", dist)
            # kept only while among the last releases (see the module docstring): a temporary availability
            add_distribution(
                b,
                dist,
                f"{site}releases/{r['id']}/dumps/{name}",
                media_type,
                settings,
                f"Dump {name} della versione {r['id']}",
                f"Dump {name} of release {r['id']}",
                availability="TEMPORARY",
            )
    return list(dict.fromkeys(b.triples))


def notes(log: dict[str, Any], lang: str) -> str:
    t, e = log.get("triples", {}), log.get("entity_counts", {})
    graphs = ", ".join(
        f"{g.rsplit('/graph/', 1)[-1]} (+{c['added']} -{c['removed']})" for g, c in log.get("graphs", {}).items()
    )
    if lang == "it":
        return (
            f"Triple aggiunte {t.get('added', 0)}, rimosse {t.get('removed', 0)}; entità aggiunte {e.get('added', 0)}, "
            f"rimosse {e.get('removed', 0)}, modificate {e.get('changed', 0)}. Grafi: {graphs or 'nessuno'}."
        )
    return (
        f"Triples added {t.get('added', 0)}, removed {t.get('removed', 0)}; entities added {e.get('added', 0)}, "
        f"removed {e.get('removed', 0)}, changed {e.get('changed', 0)}. Graphs: {graphs or 'none'}."
    )


def _page(request: Request, items: list[dict[str, Any]], title: str, detail: bool, headers: dict[str, str]) -> Response:
    """The releases in the site's own page layout, entity links mapped to this server's documents."""
    lang = language(request)
    urls = runtime(request).urls
    entries = []
    for r in items:
        log = r["changelog"] or {}
        entities = [
            (
                kind,
                [
                    {"href": urls.document_path(x["iri"]) or x["iri"], "label": x["label"] or x["iri"]}
                    for x in log.get("entities", {}).get(kind, [])
                ],
            )
            for kind in ("added", "removed", "changed")
        ]
        entries.append(
            {
                "id": r["id"],
                "current": r["current"],
                "created": r["created"],
                "triples": r["triples"],
                "notes": notes(log, lang),
                "entities": entities,
            }
        )
    context = {"title": title, "items": entries, "detail": detail, "dump_names": list(DUMP_MEDIA_TYPES)}
    return render(request, "releases.html", context, headers=headers)
