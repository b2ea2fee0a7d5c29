"""Generated lexical variants of a SERVICE clause, for the tests and `parita reliability`.

Each query calls a SERVICE at a given URL, with its tokens glued or separated in every way the SPARQL
grammar allows around it: comments ended by CR or LF, `\\`-escapes in prefixed names, long and short
strings, keywords in any case or with a `\\u` escape, a target written as an IRI, a prefixed name, an
empty-prefix name or a variable. With `word="GRAPH"` the same shapes hold a GRAPH pattern, which the
engine parses without running anything: how often it does measures how close the shapes are to the grammar.
"""

from __future__ import annotations

from hypothesis import strategies as st

SEPARATORS = st.sampled_from([" ", "\n", "\r", "\t", "\r\n", "# c\r", "# c\n", "#\\#\r", "#'\n", '#"\r', ""])
BEFORE = st.sampled_from(
    [
        "",
        "?s ?p ?o .",
        "?s ?p ex:a\\# .",
        "?s ?p ex:a\\' .",
        '?s ?p ex:a\\" .',
        '?s ?p "x" .',
        "?s ?p '''x''' .",
        "?s ?p true",
        "?s ?p 1",
        "?s ?p <urn:x>",
        "FILTER(?s<1)",
        "?s ?p ex:a.b.",
        '?s ?p "x"@en',
        "?s ?p ex:\\%",
        "?s ?p ?o # x <",
        "?s ?p '''a\\''' .",
    ]
)


@st.composite
def keyword(draw: st.DrawFn, word: str) -> str:
    """`word` in any letter case; now and then one letter as a `\\u` escape (SPARQL 1.1 decodes those before
    parsing; pyoxigraph 0.5 does not, so they are rare, for the parse rate)."""
    out = [draw(st.sampled_from([ch.upper(), ch.lower()])) for ch in word]
    if draw(st.integers(0, 7)) == 0:
        i = draw(st.integers(0, len(word) - 1))
        out[i] = f"\\u{ord(out[i]):04X}"
    return "".join(out)


@st.composite
def service_queries(draw: st.DrawFn, url: str, word: str = "SERVICE") -> str:
    """A query whose `word` pattern (SERVICE by default) targets `url`."""

    def sep() -> str:
        return draw(SEPARATORS)

    target = draw(st.sampled_from(["iri", "pname", "empty-prefix", "var"]))
    prologue = f"PREFIX ex: <{url}#>{sep()}PREFIX : <{url}#>{sep()}"
    where = {"iri": f"<{url}>", "pname": "ex:x", "empty-prefix": ":x", "var": "?u"}[target]
    bind = f"BIND(<{url}> AS ?u){sep() or ' '}" if target == "var" else ""
    silent = f"{draw(keyword('SILENT'))}{sep() or ' '}" if word == "SERVICE" and draw(st.booleans()) else ""
    return (
        f"{prologue}{draw(keyword('SELECT'))} * {{ {bind}{draw(BEFORE)}{sep()}"
        f"{draw(keyword(word))}{sep()}{silent}{where}{sep()}{{ ?s ?p ?o }} }}"
    )


def variants(url: str, count: int, seed: int = 0) -> list[str]:
    """`count` generated queries, the same ones for the same seed (for a reproducible report)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed

    found: list[str] = []

    @fixed_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(service_queries(url))
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return list(dict.fromkeys(found))
