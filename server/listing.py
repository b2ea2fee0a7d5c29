"""Lists by kind (bodies, offices, equality bodies, networks, protocols and acts, help desks, themes) with
counts and filters by province, kind and theme. Pure: reads the site index, returns what the template shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from . import terms
from .i18n import t
from .site_index import Entity, Index
from .urls import Urls


def options(index: Index, values: Iterable[str], lang: str, key: Any = None) -> list[dict[str, Any]]:
    """Facet options (value, label, count), by label; `key` turns an IRI into the value sent in the URL."""
    counts = Counter(values)
    rows = [{"value": key(v) if key else v, "label": index.label(v, lang), "count": n} for v, n in counts.items()]
    return sorted(rows, key=lambda r: str(r["label"]).casefold())


def browse(index: Index, urls: Urls, category: str, params: Mapping[str, str], lang: str) -> dict[str, Any]:
    """One list: the facets with their counts over the whole list, and the things the filters keep."""
    everything = index.category(category)
    facets = {
        "province": options(index, (e.province for e in everything if e.province), lang, index.notation)
        + _unplaced(everything, lang),
        "kind": options(index, (f for e in everything for f in e.facets if _shown_facet(index, f)), lang),
        "theme": options(index, (t for e in everything for t in e.themes), lang),
    }
    kept = [e for e in everything if _keep(index, e, params)]
    items = [
        {
            "href": urls.document_path(e.iri) or e.iri,
            "label": e.label(lang),
            "alt": e.alt,
            "province": index.label(e.province, lang) if e.province else t("no_territory", lang),
            "kinds": sorted(index.label(f, lang) for f in e.facets if _shown_facet(index, f)),
            "explore": f"/-/explorer/{e.iri.rsplit('/', 1)[-1]}" if category == "networks" else None,
        }
        for e in sorted(kept, key=lambda e: e.label(lang).casefold())
    ]
    active = {k: v for k, v in params.items() if v}
    return {
        "facets": {k: v for k, v in facets.items() if v},
        "things": items,
        "total": len(everything),
        "params": params,
        "active": active,
    }


def _shown_facet(index: Index, iri: str) -> bool:
    """Kinds worth a filter: classifications, act types, legal status, schemes; not the generic class `Act`."""
    return iri != index.term(terms.Act)


UNPLACED = "none"  # the province filter's value for things whose data states no province


def _unplaced(everything: list[Entity], lang: str) -> list[dict[str, Any]]:
    count = sum(1 for e in everything if e.province is None)
    return [{"value": UNPLACED, "label": t("no_territory", lang), "count": count}] if count else []


def _keep(index: Index, entity: Entity, params: Mapping[str, str]) -> bool:
    wanted = params.get("province")
    if wanted == UNPLACED and entity.province is not None:
        return False
    if wanted and wanted != UNPLACED and (entity.province is None or index.notation(entity.province) != wanted):
        return False
    if params.get("kind") and params["kind"] not in entity.facets:
        return False
    return not (params.get("theme") and params["theme"] not in entity.themes)
