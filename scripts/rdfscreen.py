"""Screen untrusted RDF before pyoxigraph parses it: refuse what would exhaust memory, time or the stack.

Measured on pyoxigraph 0.5.13 (see `parita reliability`): its RDF/XML parser expands internal XML
entities without a bound (a 1 kB "billion laughs" file took 53 s and gigabytes of memory), and its
JSON-LD and SPARQL parsers are recursive (a 10,000-deep JSON-LD nesting crashes the process with a stack
overflow). External entities (`SYSTEM`/`PUBLIC`) and remote JSON-LD contexts are already refused by the
parser itself; they are refused here too, with a clearer message, so the refusal does not depend on it.
"""

from __future__ import annotations

import re
from xml.parsers import expat

import pyoxigraph as ox

MAX_DEPTH = 256  # elements (RDF/XML) or objects and arrays (JSON-LD) nested in one another
MAX_EXPANSION = 1_000_000  # characters all entity references of one file may expand to
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class HostileInput(ValueError):
    """Input refused before parsing; the message says why, and where when the XML parser knows."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def screen(data: bytes, syntax: ox.RdfFormat) -> None:
    """Raise HostileInput when `data` in `syntax` would be unsafe to hand to the parser."""
    if syntax == ox.RdfFormat.RDF_XML:
        _screen_xml(data)
    elif syntax == ox.RdfFormat.JSON_LD:
        _screen_json(data)


def _screen_json(data: bytes) -> None:
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', data)):
        depth += 1 if m.group() in b"[{" else -1
        if depth > MAX_DEPTH:
            raise HostileInput(f"JSON-LD nested more than {MAX_DEPTH} levels deep is refused.")


def _screen_xml(data: bytes) -> None:
    entities: dict[str, int] = {}
    depth = [0]
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def entity(
        name: str,
        is_param: int,
        value: str | None,
        base: object,
        system: str | None,
        public: str | None,
        notation: str | None,
    ) -> None:
        if is_param or value is None or system or public:
            raise HostileInput(
                f"XML entity {name!r} is external or a parameter entity: refused (no file or URL "
                "is ever read while parsing)."
            )
        if "&" in value or "%" in value:
            raise HostileInput(f"XML entity {name!r} refers to other entities: nested entities are refused.")
        entities[name] = len(value)

    def start(name: str, attrs: object) -> None:
        depth[0] += 1
        if depth[0] > MAX_DEPTH:
            raise HostileInput(f"RDF/XML nested more than {MAX_DEPTH} elements deep is refused.")

    def end(name: str) -> None:
        depth[0] -= 1

    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.ExternalEntityRefHandler = lambda *args: 0
    parser.DefaultHandler = lambda text: None  # setting it keeps expat from expanding entities in content
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise HostileInput(f"not well-formed XML: {expat.ErrorString(exc.code)}", exc.lineno, exc.offset + 1) from None
    _check_expansion(data, entities)


def _check_expansion(data: bytes, entities: dict[str, int]) -> None:
    total = sum(data.count(f"&{name};".encode()) * size for name, size in entities.items())
    if total > MAX_EXPANSION:
        raise HostileInput(f"XML entity references would expand to {total} characters (limit {MAX_EXPANSION}).")
