"""Where to turn in each province: the help desks (their name and who runs them) and, where the sources
name no desk, the province's equality offices and bodies; then the desks and facilities whose data states
no territory, under that heading (never placed by the page that mentions them). Secret facilities are named with their operator
only: this module never reads a site, an address or a location of any of them."""

from __future__ import annotations

from typing import Any

from . import terms
from .i18n import t
from .site_index import Entity, Index
from .urls import Urls


def _link(index: Index, urls: Urls, iri: str, lang: str) -> dict[str, str]:
    return {"href": urls.document_path(iri) or iri, "label": index.label(iri, lang)}


def desks_by_province(index: Index, urls: Urls, lang: str) -> list[dict[str, Any]]:
    """One entry per province: desks with their operators, contacts, and protected facilities (no location)."""
    secret_facility = index.term(terms.SecretFacility)
    found = []
    for province in index.provinces():
        here = [e for e in index.entities.values() if e.province == province]
        desks = [_desk(index, urls, d, lang) for d in _by_label(e for e in here if e.category == "help-desks")]
        contacts = [_link(index, urls, e.iri, lang) for e in _by_label(e for e in here if _is_contact(e))]
        secret = [_secret(index, e, lang) for e in _by_label(e for e in here if secret_facility in e.classes)]
        found.append(_entry(province, index.notation(province), index.label(province, lang), desks, contacts, secret))
    unplaced = [e for e in index.entities.values() if e.province is None]
    desks = [_desk(index, urls, d, lang) for d in _by_label(e for e in unplaced if e.category == "help-desks")]
    secret = [_secret(index, e, lang) for e in _by_label(e for e in unplaced if secret_facility in e.classes)]
    if desks or secret:  # the data states no territory for these: listed as such, never guessed
        found.append(_entry("", "none", t("no_territory", lang), desks, [], secret))
    return found


def _entry(iri: str, code: str, label: str, desks: list[Any], contacts: list[Any], secret: list[Any]) -> dict[str, Any]:
    return {"iri": iri, "code": code, "label": label, "desks": desks, "contacts": contacts, "secret": secret}


def _desk(index: Index, urls: Urls, desk: Entity, lang: str) -> dict[str, Any]:
    operators = [_link(index, urls, o, lang) for o in index.objects(desk.iri, index.term(terms.operatedBy))]
    return {**_link(index, urls, desk.iri, lang), "operators": operators}


def _secret(index: Index, facility: Entity, lang: str) -> dict[str, Any]:
    return {
        "label": facility.label(lang),
        "operators": [index.label(o, lang) for o in index.objects(facility.iri, index.term(terms.operatedBy))],
    }


def _is_contact(entity: Entity) -> bool:
    """Equality bodies, and offices whose name says they deal with equal opportunities or gender policies."""
    if entity.category == "equality-bodies":
        return True
    name = entity.label("it").casefold()
    return entity.category == "offices" and ("pari opportunit" in name or "genere" in name)


def _by_label(entities: Any) -> list[Entity]:
    return sorted(entities, key=lambda e: e.label("it").casefold())
