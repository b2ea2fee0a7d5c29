"""`/releases`: every kept release as a version (DCAT, ADMS, PROV) with its changelog, in HTML and RDF.

`/releases` lists the kept releases, `/releases/{id}` describes one with its changelog, and
`/releases/{id}/dumps/{file}` downloads that release's dumps (the last PARITA_KEEP_RELEASES are kept).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..catalog import add_distribution, catalog_iri
from ..config import Settings
from ..errors import NotFound
from ..formats import BY_NAME, DUMP_MEDIA_TYPES, GRAPH_FORMATS, served_media_type
from ..i18n import t
from ..rdfbuild import Builder, iri, lit
from ..release import release_list
from ..vocab import ADMS, DCAT, DCT, PROV
from ..web import document_response, language, render, runtime, served_for, suffix_format

router = APIRouter()
OFFERED = (BY_NAME["html"],) + GRAPH_FORMATS
RELEASE_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$")


@router.get("/releases")
async def releases(request: Request) -> Response:
    settings = runtime(request).settings
    items = await run_in_threadpool(release_list, settings)
    return await _respond(request, settings, "/releases", None, items, t("releases", language(request)))


@router.get("/releases.{ext}")
async def releases_as(request: Request, ext: str) -> Response:
    settings = runtime(request).settings
    items = await run_in_threadpool(release_list, settings)
    return await _respond(request, settings, "/releases", ext, items, t("releases", language(request)))


@router.get("/releases/{release_id}")
async def one_release(request: Request, release_id: str) -> Response:
    settings = runtime(request).settings
    release_id, dot, ext = release_id.partition(".")
    items = [await run_in_threadpool(_find, settings, release_id)]
    title = f"{t('release', language(request))} {release_id}"
    return await _respond(request, settings, f"/releases/{release_id}", ext if dot else None, items, title, True)


@router.get("/releases/{release_id}/dumps/{name}")
async def dump(request: Request, release_id: str, name: str) -> FileResponse:
    release = await run_in_threadpool(_find, runtime(request).settings, release_id)
    if name not in DUMP_MEDIA_TYPES:
        raise NotFound(f"No dump {name!r}; dumps: {', '.join(DUMP_MEDIA_TYPES)}.")
    return FileResponse(
        release["path"] / "dumps" / name, media_type=served_media_type(name), filename=f"{release_id}-{name}"
    )


def _find(settings: Settings, release_id: str) -> dict[str, Any]:
    found = [r for r in release_list(settings) if r["id"] == release_id] if RELEASE_ID.match(release_id) else []
    if not found:
        raise NotFound(f"No kept release {release_id!r}: see /releases for the last ones.")
    return found[0]


async def _respond(
    request: Request,
    settings: Settings,
    doc_path: str,
    ext: str | None,
    items: list[dict[str, Any]],
    title: str,
    detail: bool = False,
) -> Response:
    """Through the document response every other document uses: ETag, Last-Modified, Cache-Control, Link."""
    fixed = suffix_format(doc_path, ext, OFFERED)
    served = await served_for(request)
    # the list changes when a release is built, pruned or rolled back onto: part of every validator
    variant = " ".join(f"{r['id']}{'*' if r['current'] else ''}" for r in release_list(settings))

    async def html(lang: str) -> Response:
        return render(request, "releases.html", _context(request, items, title, detail))

    def triples() -> list[ox.Triple]:
        return describe(settings, items, str(request.base_url))

    return await document_response(request, served, doc_path, fixed, triples, html, variant, offered=OFFERED)


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
    """The version notes of a changelog (strings in server/i18n.py); a rollback says which release it restored."""
    triples, entities = log.get("triples", {}), log.get("entity_counts", {})
    graphs = ", ".join(
        f"{g.rsplit('/graph/', 1)[-1]} (+{c['added']} -{c['removed']})" for g, c in log.get("graphs", {}).items()
    )
    text = t("release_notes", lang).format(
        triples_added=triples.get("added", 0),
        triples_removed=triples.get("removed", 0),
        added=entities.get("added", 0),
        removed=entities.get("removed", 0),
        changed=entities.get("changed", 0),
        graphs=graphs or t("release_notes_no_graphs", lang),
    )
    if log.get("event") == "rollback":
        rollback = log.get("rollback") or {}
        text = t("rollback_notes", lang).format(onto=rollback.get("onto"), left=rollback.get("from")) + " " + text
    return text


def _context(request: Request, items: list[dict[str, Any]], title: str, detail: bool) -> dict[str, object]:
    """`releases.html`: the releases in the site's own page layout, entity links mapped to this server's
    documents."""
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
    return {"title": title, "items": entries, "detail": detail, "dump_names": list(DUMP_MEDIA_TYPES)}
