"""A tiny triple builder for the descriptions the server writes (SD, VoID, DCAT)."""

from __future__ import annotations

from datetime import date, datetime

import pyoxigraph as ox

from .vocab import TYPE, XSD

Node = ox.NamedNode | ox.BlankNode
Obj = ox.NamedNode | ox.BlankNode | ox.Literal


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def lit(value: object, lang: str | None = None) -> ox.Literal:
    """A literal: str (optionally language-tagged), bool, int, float, date or datetime."""
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "decimal"))
    if isinstance(value, datetime):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    return ox.Literal(str(value), language=lang) if lang else ox.Literal(str(value))


class Builder:
    """Collects triples; `add(s, p, o)` takes terms or IRI strings for s and p."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: Node | str, p: str, o: Obj) -> None:
        subject = iri(s) if isinstance(s, str) else s
        self.triples.append(ox.Triple(subject, iri(p), o))

    def types(self, s: Node | str, *classes: str) -> None:
        for c in classes:
            self.add(s, TYPE, iri(c))

    def bnode(self) -> ox.BlankNode:
        return ox.BlankNode()
