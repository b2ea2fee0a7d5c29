"""Finding a comune by ISTAT code or name among the territories a release knows (the `comune` column of
the CSV templates). The territories are data/territories.ttl, written by `python -m tools.territories`
from ISTAT's list."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from scripts.csv2rdf import Found, did_you_mean
from scripts.reconcile import normalise

CLV = "https://w3id.org/italia/onto/CLV/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
NOTATION = "http://www.w3.org/2004/02/skos/core#notation"
WITH_PROVINCE = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[A-Za-z]{2})\)$")  # "Castro (LE)"


@dataclass
class Cities:
    """The comuni a release knows (clvapit:City with an ISTAT skos:notation), found by code or name."""

    by_code: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    shown: dict[str, str] = field(default_factory=dict)  # IRI -> "Alba (CN) 004003"
    acronym: dict[str, str] = field(default_factory=dict)  # IRI -> "CN"

    @classmethod
    def from_quads(cls, quads: list[ox.Quad]) -> Cities:
        cities: set[str] = set()
        facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for q in quads:
            if not isinstance(q.subject, ox.NamedNode) or isinstance(q.object, ox.Triple):
                continue
            s, p = q.subject.value, q.predicate.value
            if p == RDF_TYPE and q.object.value == CLV + "City":
                cities.add(s)
            elif p in (LABEL, ALT_LABEL, NOTATION, CLV + "hasDirectHigherRank", CLV + "acronym"):
                if p != LABEL or not isinstance(q.object, ox.Literal) or q.object.language in (None, "it"):
                    facts[s][p].append(q.object.value)
        found = cls()
        for iri in sorted(cities):
            codes = facts[iri][NOTATION]
            if not codes:
                continue
            province = next(iter(facts[iri][CLV + "hasDirectHigherRank"]), "")
            acronym = next(iter(facts[province][CLV + "acronym"]), "")
            found.by_code[codes[0]] = iri
            found.acronym[iri] = acronym
            names = sorted(set(facts[iri][LABEL] + facts[iri][ALT_LABEL]))
            label = next(iter(sorted(facts[iri][LABEL])), codes[0])
            found.shown[iri] = f"{label} ({acronym}) {codes[0]}" if acronym else f"{label} {codes[0]}"
            for name in names:
                if iri not in found.by_name[normalise(name)]:
                    found.by_name[normalise(name)].append(iri)
        return found

    def find(self, text: str) -> Found:
        """The comune a cell names: a 6-digit ISTAT code (leading zeros a spreadsheet dropped are restored),
        its name as in ISTAT's list, or "Name (XX)" with the province's acronym when the name is ambiguous."""
        cell = text.strip()
        if cell.isdigit():
            code = cell.zfill(6)
            if code in self.by_code:
                return Found(self.by_code[code])
            return Found(
                None,
                f'Nessun comune ha il codice ISTAT "{code}" nell\'elenco ISTAT dei comuni.',
                f'No comune has the ISTAT code "{code}" in ISTAT\'s list of comuni.',
            )
        shaped = WITH_PROVINCE.match(cell)
        name, acronym = (shaped["name"], shaped["acronym"].upper()) if shaped else (cell, None)
        matches = self.by_name.get(normalise(name), [])
        if acronym:
            matches = [iri for iri in matches if self.acronym.get(iri) == acronym]
        if len(matches) == 1:
            return Found(matches[0])
        if matches:
            listed = ", ".join(self.shown[iri] for iri in matches)
            return Found(
                None,
                f'"{cell}" è il nome di più comuni ({listed}): scrivere il codice ISTAT o il nome con la sigla '
                f'della provincia, per esempio "{name} ({self.acronym[matches[-1]]})".',
                f'"{cell}" names several comuni ({listed}): write the ISTAT code, or the name with the '
                f'province\'s acronym, e.g. "{name} ({self.acronym[matches[-1]]})".',
            )
        hint_it, hint_en = did_you_mean(normalise(name), set(self.by_name))
        close = [self.shown[iri] for word in _quoted(hint_it) for iri in self.by_name[word]][:5]
        if close:
            hint_it = " Forse: " + ", ".join(close) + "?"
            hint_en = " Perhaps: " + ", ".join(close) + "?"
        return Found(
            None,
            f'Nessun comune si chiama "{cell}" nell\'elenco ISTAT.{hint_it} Scrivere il codice ISTAT (6 cifre) '
            "o il nome come nell'elenco ISTAT.",
            f'No comune is called "{cell}" in ISTAT\'s list.{hint_en} Write the ISTAT code (6 digits) or the name '
            "as ISTAT's list spells it.",
        )


def _quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text)
