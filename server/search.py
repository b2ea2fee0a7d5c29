"""Search by name: the labels and alternative labels of every labelled thing under `B id/` (bodies, offices,
networks, acts, help desks, sites, memberships, concepts …), accent- and case-insensitive.

The search index is built from the release's site index (`site_index.py`) once per release, in memory,
the first time someone searches; releases are immutable, so it never needs updating while served."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .site_index import Index

MAX_RESULTS = 50


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: "Parità, C.I.S.A." → "parita c i s a"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


@dataclass(frozen=True)
class Entry:
    iri: str
    names: tuple[str, ...]  # folded labels (every language) then alternative labels
    compact: tuple[str, ...]  # the same without spaces, so "CISA" finds "C.I.S.A."


@dataclass(frozen=True)
class Hit:
    iri: str
    score: int
    matched_alt: str | None  # the alternative label that matched, when no label did


class SearchIndex:
    def __init__(self, index: Index) -> None:
        self.index = index
        self.entries: list[Entry] = []
        self.alts: dict[str, list[str]] = {}
        for entity in index.entities.values():
            if not entity.labels and not entity.alt:  # every labelled thing is findable (issue 14), the hospital too
                continue
            names = tuple(dict.fromkeys(fold(n) for n in [*entity.labels.values(), *entity.alt] if n))
            self.entries.append(Entry(entity.iri, names, tuple(n.replace(" ", "") for n in names)))
            self.alts[entity.iri] = entity.alt

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[Hit]:
        """Things whose label or alternative label contains every word of `query`, best first."""
        q = fold(query)
        if not q:
            return []
        hits = [hit for entry in self.entries if (hit := self._score(entry, q)) is not None]
        hits.sort(key=lambda h: (-h.score, self.index.label(h.iri, "it").casefold()))
        return hits[:limit]

    def _score(self, entry: Entry, q: str) -> Hit | None:
        words = q.split()
        best: tuple[int, int] | None = None  # (score, position of the name)
        for pos, (name, compact) in enumerate(zip(entry.names, entry.compact, strict=False)):
            if name == q:
                score = 100
            elif name.startswith(q):
                score = 80
            elif all(re.search(r"\b" + re.escape(w), name) for w in words):
                score = 60
            elif all(w in name or w in compact for w in words):
                score = 40
            else:
                continue
            if best is None or score > best[0]:
                best = (score, pos)
        if best is None:
            return None
        n_labels = len(entry.names) - len(self.alts.get(entry.iri, []))
        alt = None
        if best[1] >= n_labels:
            folded = entry.names[best[1]]
            alt = next((a for a in self.alts.get(entry.iri, []) if fold(a) == folded), None)
        return Hit(entry.iri, best[0] - (5 if alt else 0), alt)
