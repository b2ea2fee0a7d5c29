"""Read a SPARQL request's text before the store sees it: its form, FROM clauses, and refused features.

pyoxigraph runs SERVICE clauses over HTTP and has no switch to stop it, so a public endpoint must refuse
them itself. A plain regex is fooled by comments, strings and IRIs, so the text is first reduced to its
bare syntax: `\\u` escapes decoded (SPARQL 1.1 §19.2, as oxigraph does before parsing), then comments,
string literals, IRIs and variables blanked out. Whatever still spells SERVICE, in any case and glued
to any neighbour, refuses the query: a false refusal costs a rewrite, a miss costs a network request.
The one exception is federation an operator switched on: with `PARITA_SERVICE_ALLOWLIST` set, a SERVICE
whose target is written as a full IRI exactly equal to an allow-listed endpoint passes; every other SERVICE
(a variable, a prefixed name, any other IRI) is still refused. LOAD and the other update operations never
reach `Store.query` (which parses queries only) and are refused earlier with a clear message. Queries
nested deeper than `MAX_NESTING` brackets are refused too: pyoxigraph's recursive parser overflows its
stack (and dies) on a few thousand. https://www.w3.org/TR/sparql11-query/#grammar
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadRequest, Forbidden

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_VARNAME = (  # SPARQL 1.1 grammar [166] VARNAME, exactly
    "A-Za-z0-9_\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040"
    "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF"
)
_VAR = re.compile(f"[?$][{_VARNAME}]+")
# Not preceded by [\w:?$-] nor followed by [\w:-]. Keywords start with a letter, so `\b` rules out a word
# character before them; leading with it lets the regex engine skip ahead 3× faster than the look-behind alone.
_KEYWORD = r"\b(?<![:?$-]){}(?![\w:-])"
_QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
_UPDATE_OPS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_FORM = re.compile(_KEYWORD.format("(" + "|".join(_QUERY_FORMS + _UPDATE_OPS) + ")"), re.I)
_FROM = re.compile(_KEYWORD.format("FROM"), re.I)
_SERVICE = re.compile("SERVICE", re.I)
_SERVICE_TARGET = re.compile(r"SERVICE(?:\s+SILENT)?\s*(<[^<>\"{}|^`\\\x00-\x20]*>)", re.I)
MAX_NESTING = 128
_OPEN, _CLOSE = "{([", "})]"
_READ_ONLY = "This public endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, …) is refused."
_UPDATE_LINK = "https://www.w3.org/TR/sparql11-protocol/#update-operation"


@dataclass(frozen=True)
class QueryInfo:
    """What the guard learnt: the query form (SELECT, CONSTRUCT, DESCRIBE, ASK) and whether FROM is used."""

    form: str
    has_from: bool


def unescape(text: str) -> str:
    """Decode SPARQL codepoint escapes everywhere in the text, as the parser does before parsing."""
    return _ESCAPE.sub(lambda m: _char(m.group(1) or m.group(2)), text)


def _char(hex_digits: str) -> str:
    code = int(hex_digits, 16)
    return chr(code) if code <= 0x10FFFF else ""


# Comments, strings (long and short, with backslash escapes; a short one unterminated at the end of its
# line stops there, for the parser to report) and IRIs, matched left to right in one pass: a character-by-
# character loop in Python cost 50 µs of a typical query's 71 µs in the guard, on every SPARQL request.
_OPAQUE = re.compile(
    r"#[^\n]*"
    r'|"""(?:[^"\\]|\\(?:.|\Z)|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\(?:.|\Z)|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\\r\n]|\\(?:.|\Z))*"?'
    r"|'(?:[^'\\\r\n]|\\(?:.|\Z))*'?"
    r'|<[^<>"{}|^`\\\x00-\x20]*>',
    re.S,
)
_NOT_BRACKET = re.compile(r"[^{}()\[\]]+")


def bare_syntax(text: str) -> str:
    """The text with comments, strings and IRIs replaced by as many spaces (variables are kept), so that a
    position in the result is the same position in `text`."""
    return _OPAQUE.sub(lambda m: " " * (m.end() - m.start()), text)


def _blank_vars(view: str) -> str:
    return _VAR.sub(lambda m: " " * len(m.group()), view)


def nesting(bare: str) -> int:
    """The deepest nesting of `{`, `(` and `[` in bare syntax."""
    depth = deepest = 0
    for c in _NOT_BRACKET.sub("", bare):
        if c in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def _check_services(text: str, bare: str, allowed: frozenset[str]) -> None:
    """Refuse every SERVICE unless its target is a full IRI on the allow-list."""
    for m in _SERVICE.finditer(bare):
        target = _SERVICE_TARGET.match(text, m.start())
        if not allowed or target is None or target.group(1)[1:-1] not in allowed:
            raise Forbidden(
                "SERVICE (federated query) is disabled on this public endpoint: it would make the server "
                "fetch other URLs. Query the other endpoint yourself and combine the results."
                if not allowed else
                "SERVICE may only call the endpoints this server allows, written as full IRIs: "
                + ", ".join(f"<{a}>" for a in sorted(allowed)) + ".",
                link="https://www.w3.org/TR/sparql11-federated-query/",
            )


def inspect_query(text: str, allowed_services: frozenset[str] | str = frozenset()) -> QueryInfo:
    """Classify a query and refuse what a public read-only endpoint must not run.

    `allowed_services` is the federation allow-list (a set of endpoint IRIs, or the setting's
    space/comma-separated text); empty refuses every SERVICE."""
    allowed = parse_allowlist(allowed_services) if isinstance(allowed_services, str) else allowed_services
    texts = list(dict.fromkeys((text, unescape(text))))
    views = [bare_syntax(t) for t in texts]
    for original, view in zip(texts, views):
        if nesting(view) > MAX_NESTING:
            raise BadRequest(f"The query nests brackets more than {MAX_NESTING} levels deep; this endpoint refuses "
                             "such queries. Flatten the nested groups or subqueries.")
        _check_services(original, _blank_vars(view), allowed)
    bare = _blank_vars(views[-1])
    m = _FORM.search(bare)
    form = m.group(1).upper() if m else ""
    if form in _UPDATE_OPS:
        raise BadRequest(_READ_ONLY + " A `query` must be SELECT, ASK, CONSTRUCT or DESCRIBE.", link=_UPDATE_LINK)
    return QueryInfo(form=form or "SELECT", has_from=bool(_FROM.search(bare)))


def parse_allowlist(setting: str) -> frozenset[str]:
    """The SERVICE allow-list setting (IRIs separated by spaces or commas) as a set of IRIs."""
    return frozenset(i.strip("<>") for i in re.split(r"[\s,]+", setting) if i.strip("<>"))


def refuse_update() -> Forbidden:
    """The error for any update request (form `update=` or `application/sparql-update` body)."""
    return Forbidden(_READ_ONLY, link=_UPDATE_LINK)
