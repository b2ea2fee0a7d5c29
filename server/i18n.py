"""Interface languages: Italian by default, English on request (`?lang=en`, cookie, or Accept-Language)."""

from __future__ import annotations

LANGUAGES = ("it", "en")
DEFAULT = "it"

STRINGS: dict[str, dict[str, str]] = {
    "site": {"it": "Parità – dati aperti collegati", "en": "Parità – linked open data"},
    "tagline": {"it": "Reti, protocolli, sportelli ed enti per le pari opportunità nella pubblica amministrazione italiana.",
                "en": "Networks, protocols, help desks and bodies for equal opportunities in Italy's public sector."},
    "home": {"it": "Home", "en": "Home"},
    "query": {"it": "Interroga (SPARQL)", "en": "Query (SPARQL)"},
    "ontology": {"it": "Ontologia", "en": "Ontology"},
    "shapes": {"it": "Forme SHACL", "en": "SHACL shapes"},
    "catalog": {"it": "Catalogo DCAT-AP_IT", "en": "DCAT-AP_IT catalog"},
    "void": {"it": "Descrizione VoID", "en": "VoID description"},
    "dumps": {"it": "Scarica i dati", "en": "Download the data"},
    "types": {"it": "Tipi", "en": "Types"},
    "property": {"it": "Proprietà", "en": "Property"},
    "value": {"it": "Valore", "en": "Value"},
    "source": {"it": "Fonte", "en": "Source"},
    "sources": {"it": "Fonti", "en": "Sources"},
    "incoming": {"it": "Collegamenti in entrata", "en": "Incoming links"},
    "formats": {"it": "Questa descrizione in", "en": "This description as"},
    "reproduce": {"it": "Riproduci con una query SPARQL", "en": "Reproduce with a SPARQL query"},
    "next": {"it": "Successivi", "en": "Next"},
    "previous": {"it": "Precedenti", "en": "Previous"},
    "triples": {"it": "triple", "en": "triples"},
    "entities": {"it": "entità", "en": "entities"},
    "graphs": {"it": "Grafi", "en": "Graphs"},
    "classes": {"it": "Classi", "en": "Classes"},
    "properties": {"it": "Proprietà", "en": "Properties"},
    "browse": {"it": "Esplora per tipo", "en": "Browse by kind"},
    "entry_points": {"it": "Punti di accesso", "en": "Entry points"},
    "release": {"it": "Versione dei dati", "en": "Data release"},
    "not_found": {"it": "Risorsa non trovata", "en": "Resource not found"},
    "error": {"it": "Errore", "en": "Error"},
    "run": {"it": "Esegui", "en": "Run"},
    "examples": {"it": "Esempi", "en": "Examples"},
    "download": {"it": "Scarica i risultati", "en": "Download results"},
    "results": {"it": "Risultati", "en": "Results"},
    "language": {"it": "English", "en": "Italiano"},
    "licence": {"it": "Licenza dei dati", "en": "Data licence"},
    "in_graph": {"it": "nel grafo", "en": "in graph"},
    "members": {"it": "Risorse", "en": "Resources"},
    "alignments": {"it": "Allineamenti", "en": "Alignments"},
    "domain": {"it": "Dominio", "en": "Domain"},
    "range": {"it": "Codominio", "en": "Range"},
    "truncated": {"it": "Risultati troncati al limite di righe", "en": "Results cut at the row limit"},
}


def t(key: str, lang: str) -> str:
    """The UI string `key` in `lang` (Italian when missing)."""
    entry = STRINGS.get(key, {})
    return entry.get(lang) or entry.get(DEFAULT) or key


def pick_language(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """`?lang=` wins, then the cookie set by the switch, then Accept-Language; Italian otherwise."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    best, best_q = DEFAULT, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best
