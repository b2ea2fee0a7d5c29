"""Example queries for the query page: each answers a real question about the data."""

from __future__ import annotations

PROLOGUE = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX parita: <{base}ontology#>
"""

EXAMPLES = (
    (
        {"it": "Quante risorse di ogni tipo?", "en": "How many resources of each type?"},
        "SELECT ?type (COUNT(DISTINCT ?s) AS ?n)\nWHERE { ?s a ?type }\nGROUP BY ?type\nORDER BY DESC(?n)",
    ),
    (
        {"it": "Reti e loro aderenti", "en": "Networks and their members"},
        "SELECT ?network ?networkLabel ?member ?memberLabel\nWHERE {\n  ?m org:organization ?network ; org:member ?member .\n"
        '  OPTIONAL { ?network rdfs:label ?networkLabel FILTER(LANG(?networkLabel) = "it") }\n'
        '  OPTIONAL { ?member rdfs:label ?memberLabel FILTER(LANG(?memberLabel) = "it") }\n}\nORDER BY ?networkLabel ?memberLabel',
    ),
    (
        {"it": "Sportelli e chi li gestisce", "en": "Help desks and who runs them"},
        "SELECT ?desk ?deskLabel ?operator ?operatorLabel\nWHERE {\n  ?desk a parita:HelpDesk ; parita:operatedBy ?operator .\n"
        '  OPTIONAL { ?desk rdfs:label ?deskLabel FILTER(LANG(?deskLabel) = "it") }\n'
        '  OPTIONAL { ?operator rdfs:label ?operatorLabel FILTER(LANG(?operatorLabel) = "it") }\n}\nORDER BY ?deskLabel',
    ),
    (
        {"it": "Protocolli e atti che li approvano", "en": "Protocols and the acts approving them"},
        "SELECT ?protocol ?label ?act ?accepted\nWHERE {\n  ?protocol a parita:Protocol .\n"
        '  OPTIONAL { ?protocol rdfs:label ?label FILTER(LANG(?label) = "it") }\n'
        "  OPTIONAL { ?protocol parita:approvedBy ?act }\n  OPTIONAL { ?protocol dct:dateAccepted ?accepted }\n}",
    ),
    (
        {"it": "Fonti: documenti e ciò che dicono", "en": "Sources and what they state"},
        "SELECT ?source ?title (COUNT(DISTINCT ?thing) AS ?things)\nWHERE {\n  ?thing prov:wasDerivedFrom ?source .\n"
        "  OPTIONAL { ?source dct:title ?title }\n}\nGROUP BY ?source ?title\nORDER BY DESC(?things)",
    ),
    (
        {"it": "Grafi nominati e dimensioni", "en": "Named graphs and their sizes"},
        "SELECT ?g (COUNT(*) AS ?triples)\nWHERE { GRAPH ?g { ?s ?p ?o } }\nGROUP BY ?g\nORDER BY DESC(?triples)",
    ),
    (
        {"it": "Classi dell'ontologia", "en": "Ontology classes"},
        "SELECT ?class ?label ?comment\nWHERE {\n  ?class a <http://www.w3.org/2002/07/owl#Class> .\n"
        '  OPTIONAL { ?class rdfs:label ?label FILTER(LANG(?label) = "it") }\n'
        "  OPTIONAL { ?class rdfs:comment ?comment }\n}\nORDER BY ?class",
    ),
    (
        {"it": "Descrivi un ente", "en": "Describe a body (CONSTRUCT)"},
        "CONSTRUCT { ?s ?p ?o }\nWHERE {\n  ?s a org:Organization ; ?p ?o .\n}\nLIMIT 50",
    ),
)


def examples(base: str, lang: str = "it") -> list[dict[str, str]]:
    """Each example with the prologue (prefixes) filled in."""
    prologue = PROLOGUE.format(base=base)
    return [{"title": title[lang], "query": prologue + "\n" + body} for title, body in EXAMPLES]
