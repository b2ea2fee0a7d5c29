"""The one label rule, for the site, validation reports and changelogs alike.

A thing's label comes from the first property of the chain that gives it any (skos:prefLabel, rdfs:label,
dct:title, foaf:name, sh:name); among that property's values the reader's language wins, then Italian, then
English, then an untagged one, then any. Callers hand in (property IRI, text, language tag) triples, whatever
RDF library read them.
"""

from __future__ import annotations

from collections.abc import Iterable

from .vocab import DCT, FOAF, RDFS, SH, SKOS

#: The label chain, best first.
LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label", DCT + "title", FOAF + "name", SH + "name")
RANK = {prop: n for n, prop in enumerate(LABEL_PROPERTIES)}

#: One label candidate: (property IRI, text, language tag or "").
Pair = tuple[str, str, str]


def languages(lang: str) -> tuple[str, ...]:
    """The order in which a reader of `lang` gets labels: `lang`, Italian, English, untagged."""
    return tuple(dict.fromkeys((lang, "it", "en", "")))


def best(pairs: Iterable[Pair], lang: str) -> str | None:
    """The label of one thing for a reader of `lang`, from its candidates (first given wins a tie), or None."""
    found = [p for p in pairs if p[0] in RANK]
    if not found:
        return None
    top = min(RANK[p[0]] for p in found)
    chosen = [p for p in found if RANK[p[0]] == top]
    for want in languages(lang):
        for _, text, tag in chosen:
            if tag == want:
                return text
    return chosen[0][1]


def by_language(pairs: Iterable[Pair]) -> dict[str, str]:
    """Language tag ("" untagged) → label, from the first property of the chain that has any (first given wins)."""
    found = [p for p in pairs if p[0] in RANK]
    if not found:
        return {}
    top = min(RANK[p[0]] for p in found)
    out: dict[str, str] = {}
    for prop, text, tag in found:
        if RANK[prop] == top:
            out.setdefault(tag, text)
    return out


def pick(by_lang: dict[str, str], lang: str) -> str | None:
    """The label for a reader of `lang` from a `by_language` table."""
    for want in languages(lang):
        if by_lang.get(want):
            return by_lang[want]
    return next(iter(by_lang.values()), None)
