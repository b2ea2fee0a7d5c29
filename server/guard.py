"""Read a SPARQL request's text before the store sees it: its form, FROM clauses, and refused features.

pyoxigraph runs SERVICE clauses over HTTP and has no switch to stop it. The real barrier is that SPARQL
workers have no network (`server/sandbox.py`); this guard is the first line, which turns a SERVICE into a
clear 403 instead of a failed connection. It decides on tokens, not on a regex over the raw text: the
query is cut into the terminals of the SPARQL grammar as oxigraph 0.5's parser reads them (comments end
at CR or LF, `\\`-escapes inside prefixed names, long strings, `\\u` escapes decoded first as the parser
does), https://www.w3.org/TR/sparql11-query/#grammar. Where the engine could read a stretch of text in two
ways, both readings are checked:

- oxigraph's keywords match without a word boundary, so a bare word or a prefix that merely *contains*
  SERVICE (`trueSERVICE`, `SERVICE:x`) counts as one; the local part of a prefixed name, a variable, a
  string, a comment and a valid IRI are opaque (`dcat:DataService` and `?service` pass);
- an `<…>` that is not a valid IRI is read a second time as a `<` operator followed by code, because
  the engine falls back to that reading when it rejects the IRI.

With `PARITA_SERVICE_ALLOWLIST` set, a SERVICE whose target is a full IRI exactly equal to an allow-listed
endpoint passes; every other SERVICE (a variable, a prefixed name, any other IRI) is refused. LOAD and the
other update operations are refused with a clear message. Queries nested deeper than `MAX_NESTING`
brackets are refused too: pyoxigraph's recursive parser overflows its stack (and dies) on a few thousand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import BadRequest, Forbidden

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# Character classes of the grammar, as oxigraph 0.5 spells them (its PN_CHARS_BASE stops at U+FFFD).
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_CHARS_U = _BASE + "_"
_CHARS = _CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_LOCAL = rf"(?:[{_CHARS_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX})*(?:\.+(?:[{_CHARS}:]|{_PLX})+)?"
_PREFIX = rf"[{_BASE}][{_CHARS}]*(?:\.+[{_CHARS}]+)*"
_ECHAR = r"\\[tbnrf\"'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

# One token at a position: the first alternative that matches, as the grammar's terminals never overlap
# except where noted. A character that starts no terminal is a token of its own ("other").
_TOKEN = re.compile(
    rf"""(?P<ws>[\x20\t\r\n]+)
    |(?P<comment>\#[^\r\n]*)
    |(?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
    |(?P<string>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|{_ECHAR}))*\"\"\"
               |'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''
               |\"(?:[^\"\\\r\n]|{_ECHAR})*\"
               |'(?:[^'\\\r\n]|{_ECHAR})*')
    |(?P<var>[?$][{_CHARS_U}0-9][{_CHARS_U}0-9\u00b7\u0300-\u036f\u203f\u2040]*)
    |(?P<bnode>_:[{_CHARS_U}0-9][{_CHARS}]*(?:\.+[{_CHARS}]+)*)
    |(?P<pname>(?P<prefix>(?:{_PREFIX})?):(?:{_LOCAL})?)
    |(?P<number>[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+)
    |(?P<name>[{_CHARS_U}][{_CHARS_U}0-9]*)
    |(?P<other>.)""",
    re.X | re.S,
)

# RFC 3987 IRI references (absolute or relative), a strict subset: no IP literals, no private-use
# characters. An `<…>` of this shape is an IRI to oxigraph too; any other one may be read as code.
_UNRESERVED = r"A-Za-z0-9\-._~\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})"  # a path character other than ":"
_PCHAR = rf"(?:{_PCHAR_NC}|:)"
_AUTHORITY = rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*(?::[0-9]*)?"
_SEGMENTS = rf"(?:/{_PCHAR}*)*"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:\#(?:{_PCHAR}|[/?])*)?"
_VALID_IRI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?://{_AUTHORITY}{_SEGMENTS}|/?(?:{_PCHAR}+{_SEGMENTS})?){_TAIL}"
    rf"|(?://{_AUTHORITY}{_SEGMENTS}|/?(?:{_PCHAR_NC}+{_SEGMENTS})?){_TAIL}",
)

_QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
_UPDATE_OPS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_FORMS = frozenset(_QUERY_FORMS + _UPDATE_OPS)
MAX_NESTING = 128
MAX_READINGS = 64  # second readings of invalid IRIs; a query needing more is refused, not guessed at
_OPEN, _CLOSE = "{([", "})]"
_READ_ONLY = "This public endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, …) is refused."
_UPDATE_LINK = "https://www.w3.org/TR/sparql11-protocol/#update-operation"
_FEDERATION_LINK = "https://www.w3.org/TR/sparql11-federated-query/"


@dataclass(frozen=True)
class QueryInfo:
    """What the guard learnt: the query form (SELECT, CONSTRUCT, DESCRIBE, ASK) and whether FROM is used."""

    form: str
    has_from: bool
    federated: bool = False  # it calls an allow-listed SERVICE: only the federation worker may run it


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    prefix: str = ""  # for a prefixed name: the part before the colon


def unescape(text: str) -> str:
    """Decode SPARQL codepoint escapes everywhere in the text, as the parser does before parsing."""
    return _ESCAPE.sub(lambda m: _char(m.group(1) or m.group(2)), text)


def _char(hex_digits: str) -> str:
    code = int(hex_digits, 16)
    return chr(code) if code <= 0x10FFFF else ""


def tokens(text: str, start: int = 0, iri_at_start: bool = True) -> Iterator[Token]:
    """The grammar's terminals of `text` from `start`, whitespace and comments included.
    With `iri_at_start` false, a `<` at `start` is read as an operator (the engine's fallback reading)."""
    pos = start
    while pos < len(text):
        if not iri_at_start and pos == start and text[pos] == "<":
            yield Token("other", "<", pos)
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        assert m is not None and m.lastgroup is not None  # "other" matches any character
        kind = m.lastgroup  # the outer group: "pname", never its inner "prefix"
        yield Token(kind, m.group(), pos, m.group("prefix") or "" if kind == "pname" else "")
        pos = m.end()


def is_valid_iri(token: Token) -> bool:
    """Whether an `iri` token holds an IRI reference that oxigraph accepts as one (a strict subset)."""
    return _VALID_IRI.fullmatch(token.text[1:-1]) is not None


def _is_service(token: Token) -> bool:
    if token.kind == "name":
        return "SERVICE" in token.text.upper()
    return token.kind == "pname" and "SERVICE" in token.prefix.upper()


def bare_syntax(text: str) -> str:
    """The text with comments, strings and valid IRIs replaced by as many spaces, so that a position in the
    result is the same position in `text` (for people and tests reading what the guard looked at)."""
    out = list(text)
    for tok in tokens(text):
        if tok.kind in ("comment", "string") or (tok.kind == "iri" and is_valid_iri(tok)):
            out[tok.start : tok.start + len(tok.text)] = " " * len(tok.text)
    return "".join(out)


def nesting(toks: list[Token]) -> int:
    """The deepest nesting of `{`, `(` and `[` among the tokens."""
    depth = deepest = 0
    for tok in toks:
        if tok.kind != "other":
            continue
        if tok.text in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif tok.text in _CLOSE:
            depth = max(0, depth - 1)
    return deepest


def _refuse_service(allowed: frozenset[str]) -> Forbidden:
    if not allowed:
        return Forbidden(
            "SERVICE (federated query) is disabled on this public endpoint: it would make the "
            "server fetch other URLs. Query the other endpoint yourself and combine the results.",
            link=_FEDERATION_LINK,
        )
    return Forbidden(
        "SERVICE may only call the endpoints this server allows, written as full IRIs: "
        + ", ".join(f"<{a}>" for a in sorted(allowed))
        + ".",
        link=_FEDERATION_LINK,
    )


def _allowed_target(toks: list[Token], at: int, allowed: frozenset[str]) -> bool:
    """Whether the SERVICE keyword at `toks[at]` is exactly `SERVICE [SILENT] <allowed IRI>`."""
    if not allowed or toks[at].kind != "name" or toks[at].text.upper() != "SERVICE":
        return False
    rest = [t for t in toks[at + 1 : at + 8] if t.kind not in ("ws", "comment")]
    if rest and rest[0].kind == "name" and rest[0].text.upper() == "SILENT":
        rest = rest[1:]
    return bool(rest) and rest[0].kind == "iri" and is_valid_iri(rest[0]) and rest[0].text[1:-1] in allowed


def _check_services(text: str, allowed: frozenset[str]) -> list[Token]:
    """Refuse every SERVICE (in every reading of the text) unless its target is allowed; the main reading's
    tokens are returned (an allowed SERVICE is among them as a name token)."""
    pending = [(0, True)]
    readings = 0
    main: list[Token] = []
    while pending:
        start, iri_first = pending.pop()
        toks = list(tokens(text, start, iri_first))
        if start == 0:
            main = toks
        for i, tok in enumerate(toks):
            if _is_service(tok) and not _allowed_target(toks, i, allowed):
                raise _refuse_service(allowed)
            if tok.kind == "iri" and not is_valid_iri(tok):
                readings += 1
                if readings > MAX_READINGS:
                    raise BadRequest(
                        f"The query has more than {MAX_READINGS} malformed IRIs; write IRIs in full "
                        "(`<http://…>`) and compare with `<` followed by a space."
                    )
                pending.append((tok.start, False))
    return main


def inspect_query(text: str, allowed_services: frozenset[str] | str = frozenset()) -> QueryInfo:
    """Classify a query and refuse what a public read-only endpoint must not run.

    `allowed_services` is the federation allow-list (a set of endpoint IRIs, or the setting's
    space/comma-separated text); empty refuses every SERVICE."""
    allowed = parse_allowlist(allowed_services) if isinstance(allowed_services, str) else allowed_services
    main: list[Token] = []
    for variant in dict.fromkeys((text, unescape(text))):
        main = _check_services(variant, allowed)
        if nesting(main) > MAX_NESTING:
            raise BadRequest(
                f"The query nests brackets more than {MAX_NESTING} levels deep; this endpoint refuses "
                "such queries. Flatten the nested groups or subqueries."
            )
    names = [t.text.upper() for t in main if t.kind == "name"]
    form = next((n for n in names if n in _FORMS), "")
    if form in _UPDATE_OPS:
        raise BadRequest(_READ_ONLY + " A `query` must be SELECT, ASK, CONSTRUCT or DESCRIBE.", link=_UPDATE_LINK)
    return QueryInfo(form=form or "SELECT", has_from="FROM" in names, federated=bool(allowed) and "SERVICE" in names)


def parse_allowlist(setting: str) -> frozenset[str]:
    """The SERVICE allow-list setting (IRIs separated by spaces or commas) as a set of IRIs."""
    return frozenset(i.strip("<>") for i in re.split(r"[\s,]+", setting) if i.strip("<>"))


def refuse_update() -> Forbidden:
    """The error for any update request (form `update=` or `application/sparql-update` body)."""
    return Forbidden(_READ_ONLY, link=_UPDATE_LINK)
