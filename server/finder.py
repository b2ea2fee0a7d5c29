"""Where to turn in each province: the help desks (their name and who runs them) and, where the sources
name no desk, the province's equality offices and bodies. Secret facilities are named with their operator
only: this module never reads a site, an address or a location of any of them."""

from __future__ import annotations

from typing import Any

from .site_index import Entity, Index
from .urls import Urls


def _link(index: Index, urls: Urls, iri: str, lang: str) -> dict[str, str]:
    return {"href": urls.document_path(iri) or iri, "label": index.label(iri, lang)}


def desks_by_province(index: Index, urls: Urls, lang: str) -> list[dict[str, Any]]:
    """One entry per province: desks with their operators, contacts, and protected facilities (no location)."""
    ns = index.ns
    found = []
    for province in index.provinces():
        here = [e for e in index.entities.values() if e.province == province]
        desks = [
            {
                **_link(index, urls, d.iri, lang),
                "operators": [_link(index, urls, o, lang) for o in index.objects(d.iri, ns + "operatedBy")],
            }
            for d in _by_label(e for e in here if e.category == "help-desks")
        ]
        contacts = [_link(index, urls, e.iri, lang) for e in _by_label(e for e in here if _is_contact(e))]
        secret = [
            {
                "label": e.label(lang),
                "operators": [index.label(o, lang) for o in index.objects(e.iri, ns + "operatedBy")],
            }
            for e in _by_label(e for e in here if ns + "SecretFacility" in e.classes)
        ]
        found.append(
            {
                "iri": province,
                "code": index.notation(province),
                "label": index.label(province, lang),
                "desks": desks,
                "contacts": contacts,
                "secret": secret,
            }
        )
    return found


def _is_contact(entity: Entity) -> bool:
    """Equality bodies, and offices whose name says they deal with equal opportunities or gender policies."""
    if entity.category == "equality-bodies":
        return True
    name = entity.label("it").casefold()
    return entity.category == "offices" and ("pari opportunit" in name or "genere" in name)


def _by_label(entities: Any) -> list[Entity]:
    return sorted(entities, key=lambda e: e.label("it").casefold())
