"""The timeline: acts, protocols, plans, events, organisational changes and foundations in date order,
overall or for one province. Dates are shown as precisely as the source states them (a day, a month, a
year); a thing the source gives no date for is listed apart as undated, never given a guessed date."""

from __future__ import annotations

from dataclasses import dataclass

from . import terms
from .site_index import COV, DCT, ORG, Entity, Index

MONTHS = {
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
KIND_LABELS = {
    "act": ("Atto", "Act"),
    "protocol": ("Protocollo", "Protocol"),
    "plan": ("Piano", "Plan"),
    "event": ("Evento", "Event"),
    "change-event": ("Cambiamento organizzativo", "Organisational change"),
    "conferral": ("Conferimento di funzioni", "Conferral of functions"),
    "since": ("Attività in corso dal", "Ongoing since"),
    "foundation": ("Istituzione", "Foundation"),
}


@dataclass(frozen=True)
class Item:
    iri: str
    kind: str  # a key of KIND_LABELS
    date: str | None  # lexical xsd:date, xsd:gYearMonth or xsd:gYear; None when the source states none
    note: str  # how the date was found: "" (the thing's own) or "approval" (its approving act's)
    province: str | None


def format_date(value: str, lang: str) -> str:
    """`2008-07-07` → "7 luglio 2008" / "7 July 2008"; `2008-05` → "maggio 2008"; `1994` → "1994"."""
    parts = value.split("-")
    try:
        if len(parts) >= 3:
            day, month = int(parts[2][:2]), MONTHS[lang if lang in MONTHS else "it"][int(parts[1]) - 1]
            return f"{day} {month} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[lang if lang in MONTHS else 'it'][int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        return value
    return parts[0]


def items(index: Index, province: str | None = None) -> list[Item]:
    """Every dated or datable thing, in date order; undated ones last, by label."""
    found = [
        item
        for e in index.entities.values()
        if (item := _item(index, e)) is not None and (province is None or item.province == province)
    ]
    return sorted(found, key=lambda i: (i.date is None, i.date or "", index.label(i.iri, "it").casefold()))


def _item(index: Index, entity: Entity) -> Item | None:
    kind = {
        index.term(terms.Act): "act",
        index.term(terms.Protocol): "protocol",
        index.term(terms.Plan): "plan",
        index.term(terms.Event): "event",
        ORG + "ChangeEvent": "change-event",
        index.term(terms.FunctionConferral): "conferral",
    }
    for cls, name in kind.items():
        if cls in entity.classes:
            date, note = _date(index, entity)
            return Item(entity.iri, name, date, note, entity.province)
    if (since := entity.dates.get(index.term(terms.startDate))) is not None:
        return Item(entity.iri, "since", since, "", entity.province)
    if COV + "foundationDate" in entity.dates:
        return Item(entity.iri, "foundation", entity.dates[COV + "foundationDate"], "", entity.province)
    return None


def _date(index: Index, entity: Entity) -> tuple[str | None, str]:
    for prop in (DCT + "date", DCT + "dateAccepted", DCT + "issued"):
        if prop in entity.dates:
            return entity.dates[prop], ""
    for act in index.objects(entity.iri, index.term(terms.approvedBy)):
        approving = index.entities.get(act)
        if approving is not None and DCT + "date" in approving.dates:
            return approving.dates[DCT + "date"], "approval"
    return None, ""


def by_year(timeline: list[Item]) -> list[tuple[str, list[Item]]]:
    """Dated items grouped by year, in order (undated ones are left out: list them apart)."""
    groups: dict[str, list[Item]] = {}
    for item in timeline:
        if item.date:
            groups.setdefault(item.date[:4], []).append(item)
    return list(groups.items())
