"""Interface languages: Italian by default, English on request (`?lang=en`, cookie, or Accept-Language)."""

from __future__ import annotations

LANGUAGES = ("it", "en")
DEFAULT = "it"

STRINGS: dict[str, dict[str, str]] = {
    "site": {"it": "Parità – dati aperti collegati", "en": "Parità – linked open data"},
    "tagline": {
        "it": "Reti, protocolli, sportelli ed enti per le pari opportunità nella pubblica amministrazione italiana.",
        "en": "Networks, protocols, help desks and bodies for equal opportunities in Italy's public sector.",
    },
    "home": {"it": "Home", "en": "Home"},
    "query": {"it": "Interroga (SPARQL)", "en": "Query (SPARQL)"},
    "ontology": {"it": "Ontologia", "en": "Ontology"},
    "shapes": {"it": "Forme SHACL", "en": "SHACL shapes"},
    "catalog": {"it": "Catalogo DCAT-AP_IT", "en": "DCAT-AP_IT catalog"},
    "void": {"it": "Descrizione VoID", "en": "VoID description"},
    "ldes": {"it": "Flusso delle modifiche (LDES)", "en": "Change feed (LDES)"},
    "dumps": {"it": "Scarica i dati", "en": "Download the data"},
    "releases": {"it": "Versioni e modifiche", "en": "Versions and changes"},
    "release_notes": {
        "it": "Triple aggiunte {triples_added}, rimosse {triples_removed}; entità aggiunte {added}, rimosse {removed}, "
        "modificate {changed}. Grafi: {graphs}.",
        "en": "Triples added {triples_added}, removed {triples_removed}; entities added {added}, removed {removed}, "
        "changed {changed}. Graphs: {graphs}.",
    },
    "release_notes_no_graphs": {"it": "nessuno", "en": "none"},
    "rollback_notes": {
        "it": "Ritorno ai dati della versione {onto}, che annulla la versione {left}.",
        "en": "Rollback to the data of release {onto}, undoing release {left}.",
    },
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
    "catalog_intro": {
        "it": "Il catalogo DCAT-AP_IT descrive i dataset pubblicati qui, i file da scaricare e il servizio SPARQL: "
        "è ciò che i portali (dati.gov.it, data.europa.eu, CKAN) raccolgono.",
        "en": "The DCAT-AP_IT catalog describes the datasets published here, their files and the SPARQL "
        "service: it is what portals (dati.gov.it, data.europa.eu, CKAN) harvest.",
    },
    "publisher": {"it": "Editore", "en": "Publisher"},
    "sparql_service": {"it": "Servizio SPARQL", "en": "SPARQL service"},
    "harvest_title": {"it": "Come raccogliere questo catalogo", "en": "How to harvest this catalog"},
    "not_harvestable_title": {
        "it": "Catalogo non ancora raccoglibile da dati.gov.it",
        "en": "This catalog cannot be harvested by dati.gov.it yet",
    },
    "not_harvestable": {
        "it": "Chi gestisce questo sito non ha ancora impostato i dati dell'editore; finché restano segnaposto, "
        "l'harvester di dati.gov.it scarta i dataset. Impostazioni mancanti:",
        "en": "Whoever runs this site has not set the publisher's details yet; while they are placeholders, "
        "dati.gov.it's harvester rejects the datasets. Missing settings:",
    },
    "harvest_ckan": {
        "it": "In CKAN con ckanext-dcat: attivare i plugin dcat e dcat_rdf_harvester e aggiungere una fonte di "
        "raccolta di tipo «DCAT RDF» con questo indirizzo:",
        "en": "In CKAN with ckanext-dcat: enable the dcat and dcat_rdf_harvester plugins and add a harvest "
        "source of type “DCAT RDF” with this URL:",
    },
    "harvest_formats": {"it": "Il catalogo è disponibile anche in:", "en": "The catalog is also available as:"},
    "datasets": {"it": "Dataset", "en": "Datasets"},
    "distributions": {"it": "Distribuzioni", "en": "Distributions"},
    "modified": {"it": "Aggiornato il", "en": "Modified"},
    "file": {"it": "File", "en": "File"},
    "format": {"it": "Formato", "en": "Format"},
    "bytes": {"it": "Byte", "en": "Bytes"},
    "media_type": {"it": "Tipo di contenuto", "en": "Media type"},
    "rows_max": {"it": "al massimo N righe", "en": "N rows max"},
    "cut_at_limit": {"it": "troncati al limite di righe", "en": "cut at the row limit"},
    "sparql_query": {"it": "Query SPARQL", "en": "SPARQL query"},
    "error_detail": {"it": "Dettaglio tecnico (in inglese):", "en": "Technical detail:"},
    "status_400": {"it": "Richiesta non valida", "en": "Bad request"},
    "status_403": {"it": "Operazione non consentita", "en": "Forbidden"},
    "status_404": {"it": "Pagina non trovata", "en": "Not found"},
    "status_405": {"it": "Metodo non consentito", "en": "Method not allowed"},
    "status_406": {"it": "Formato non disponibile", "en": "Not acceptable"},
    "status_413": {"it": "Richiesta troppo grande", "en": "Payload too large"},
    "status_429": {"it": "Troppe richieste", "en": "Too many requests"},
    "status_500": {"it": "Errore interno", "en": "Internal error"},
    "status_503": {"it": "Servizio momentaneamente non disponibile", "en": "Service unavailable"},
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
    "skip": {"it": "Vai al contenuto principale", "en": "Skip to main content"},
    "site_short": {"it": "Parità", "en": "Parità"},
    "site_slim": {
        "it": "Dati aperti collegati · Pari opportunità nella PA",
        "en": "Linked open data · Equal opportunities in the public sector",
    },
    "menu": {"it": "Menu principale", "en": "Main menu"},
    "menu_toggle": {"it": "Mostra o nascondi il menu", "en": "Show or hide the menu"},
    "menu_close": {"it": "Chiudi il menu", "en": "Close the menu"},
    "search": {"it": "Cerca", "en": "Search"},
    "search_label": {"it": "Cerca enti, reti e atti", "en": "Search bodies, networks and acts"},
    "search_placeholder": {"it": "Cerca enti, reti, atti…", "en": "Search bodies, networks, acts…"},
    "search_hint": {
        "it": "Cerca per nome o nome alternativo; maiuscole e accenti non contano.",
        "en": "Search by name or alternative name; case and accents do not matter.",
    },
    "search_results": {"it": "risultati per", "en": "results for"},
    "search_none": {
        "it": "Nessun risultato. Prova con una parola sola o sfoglia per tipo.",
        "en": "No results. Try a single word or browse by kind.",
    },
    "search_alt": {"it": "trovato come", "en": "found as"},
    "search_index_note": {
        "it": "L'indice di ricerca è costruito in memoria dalla versione dei dati pubblicata, una volta per versione.",
        "en": "The search index is built in memory from the published data release, once per release.",
    },
    "bodies": {"it": "Enti", "en": "Bodies"},
    "offices": {"it": "Uffici", "en": "Offices"},
    "equality-bodies": {"it": "Organismi di parità", "en": "Equality bodies"},
    "networks": {"it": "Reti e tavoli", "en": "Networks and tables"},
    "acts": {"it": "Protocolli, atti e piani", "en": "Protocols, acts and plans"},
    "help-desks": {"it": "Sportelli", "en": "Help desks"},
    "themes": {"it": "Aree tematiche e linee di intervento", "en": "Thematic areas and lines of intervention"},
    "bodies_one": {"it": "Ente", "en": "Body"},
    "offices_one": {"it": "Ufficio", "en": "Office"},
    "equality-bodies_one": {"it": "Organismo di parità", "en": "Equality body"},
    "networks_one": {"it": "Rete o tavolo", "en": "Network or table"},
    "acts_one": {"it": "Protocollo, atto o piano", "en": "Protocol, act or plan"},
    "help-desks_one": {"it": "Sportello", "en": "Help desk"},
    "themes_one": {"it": "Area tematica o linea di intervento", "en": "Thematic area or line of intervention"},
    "bodies_about": {
        "it": "Comuni, province, unioni, prefetture, aziende sanitarie e associazioni.",
        "en": "Municipalities, provinces, unions, prefectures, health authorities and associations.",
    },
    "offices_about": {
        "it": "Assessorati, uffici, servizi e centri per le pari opportunità.",
        "en": "Departments, offices, services and centres for equal opportunities.",
    },
    "equality-bodies_about": {
        "it": "Consigliere di parità, commissioni, CUG, conferenze delle elette.",
        "en": "Equality advisers, commissions, guarantee committees, conferences of elected women.",
    },
    "networks_about": {
        "it": "Reti antiviolenza, tavoli interistituzionali e forum.",
        "en": "Anti-violence networks, inter-institutional tables and forums.",
    },
    "acts_about": {
        "it": "Protocolli d'intesa, delibere e piani, con le loro date.",
        "en": "Memoranda of understanding, resolutions and plans, with their dates.",
    },
    "help-desks_about": {
        "it": "Sportelli antiviolenza e chi li gestisce.",
        "en": "Anti-violence help desks and who runs them.",
    },
    "themes_about": {
        "it": "Ambiti tematici e filoni di intervento dichiarati dagli enti.",
        "en": "Thematic areas and strands of work the bodies declare.",
    },
    "tools": {"it": "Strumenti", "en": "Tools"},
    "explorer": {"it": "Esplora le reti", "en": "Network explorer"},
    "explorer_about": {
        "it": "Il grafo di aderenti, ruoli, protocolli, firmatari e province.",
        "en": "The graph of members, roles, protocols, signatories and provinces.",
    },
    "timeline": {"it": "Cronologia", "en": "Timeline"},
    "timeline_about": {
        "it": "Atti, protocolli, piani, eventi e cambiamenti in ordine di data.",
        "en": "Acts, protocols, plans, events and changes in date order.",
    },
    "finder": {"it": "A chi rivolgersi", "en": "Where to turn"},
    "finder_about": {
        "it": "Gli sportelli e gli uffici di parità di ogni provincia.",
        "en": "The help desks and equality offices of each province.",
    },
    "query_about": {
        "it": "Interroga i dati con SPARQL, con esempi pronti.",
        "en": "Query the data with SPARQL, with ready examples.",
    },
    "province": {"it": "Provincia", "en": "Province"},
    "provinces": {"it": "Province", "en": "Provinces"},
    "no_territory": {"it": "Territorio non indicato dalla fonte", "en": "No territory stated by the source"},
    "province_note": {
        "it": "Provincia: il territorio che i dati indicano per la cosa o per l'ente a cui appartiene (che la gestisce, la ospita, la emana), mai la provincia della pagina che la cita; ciò che non ha territorio indicato è elencato a parte.",
        "en": "Province: the territory the data states for the thing or for the body it belongs to (that runs, hosts or issues it), never the province of the page that mentions it; things with no stated territory are listed apart.",
    },
    "kind": {"it": "Tipo", "en": "Kind"},
    "theme": {"it": "Area tematica", "en": "Thematic area"},
    "all": {"it": "Tutte", "en": "All"},
    "filter": {"it": "Filtra", "en": "Filter"},
    "filters": {"it": "Filtri", "en": "Filters"},
    "reset": {"it": "Azzera i filtri", "en": "Clear filters"},
    "shown": {"it": "mostrati", "en": "shown"},
    "none_found": {"it": "Nessun elemento con questi filtri.", "en": "Nothing matches these filters."},
    "no_province": {"it": "senza provincia", "en": "no province"},
    "by_uri_kind": {"it": "Tutte le risorse per tipo di URI", "en": "Every resource by URI kind"},
    "in_numbers": {"it": "I dati in numeri", "en": "The data in numbers"},
    "open_data": {"it": "Dati aperti", "en": "Open data"},
    "undated": {"it": "Senza data", "en": "Undated"},
    "undated_note": {"it": "data non indicata dalla fonte", "en": "date not stated by the source"},
    "approval_date": {"it": "data dell'atto che lo approva", "en": "date of the act approving it"},
    "whole_dataset": {"it": "Tutto il dataset", "en": "Whole dataset"},
    "overall": {"it": "In tutte le province", "en": "In every province"},
    "graph_table": {"it": "Lo stesso grafo come tabella", "en": "The same graph as a table"},
    "graph_table_caption": {
        "it": "Collegamenti del grafo: chi, quale relazione, con chi",
        "en": "The graph's links: who, which relation, with whom",
    },
    "from": {"it": "Da", "en": "From"},
    "relation": {"it": "Relazione", "en": "Relation"},
    "to": {"it": "A", "en": "To"},
    "role": {"it": "ruolo", "en": "role"},
    "legend": {"it": "Legenda", "en": "Legend"},
    "graph_help": {
        "it": "Ogni nodo è un collegamento alla sua pagina. Passa sopra un nodo o raggiungilo con il tasto Tab per evidenziarne i collegamenti.",
        "en": "Every node links to its page. Hover over a node or reach it with the Tab key to highlight its links.",
    },
    "networks_list": {"it": "Le reti e i tavoli", "en": "The networks and tables"},
    "members_count": {"it": "collegamenti", "en": "links"},
    "open_explorer": {"it": "Apri nel grafo delle reti", "en": "Open in the network explorer"},
    "desks": {"it": "Sportelli", "en": "Help desks"},
    "run_by": {"it": "gestito da", "en": "run by"},
    "no_desk": {
        "it": "La fonte non indica sportelli in questa provincia. Uffici e organismi di parità a cui rivolgersi:",
        "en": "The source names no help desk in this province. Equality offices and bodies to turn to:",
    },
    "contacts": {"it": "Uffici e organismi di parità", "en": "Equality offices and bodies"},
    "secret": {"it": "Strutture protette", "en": "Protected facilities"},
    "secret_note": {
        "it": "Il luogo non è pubblicato, per la sicurezza delle donne accolte: vi si accede tramite gli sportelli e i servizi.",
        "en": "The location is not published, for the safety of the women sheltered there: access is through the help desks and services.",
    },
    "finder_note": {
        "it": "Solo ciò che le fonti pubblicate dichiarano; per un'emergenza rivolgersi ai servizi del proprio territorio.",
        "en": "Only what the published sources state; in an emergency, turn to your local services.",
    },
    "see_also": {"it": "Vedi anche", "en": "See also"},
    "page_not_found_help": {
        "it": "Controlla l'indirizzo, cerca per nome o riparti dalla pagina iniziale.",
        "en": "Check the address, search by name or start again from the home page.",
    },
    "date": {"it": "Data", "en": "Date"},
    "nav_networks": {"it": "Reti", "en": "Networks"},
    "nav_bodies": {"it": "Enti", "en": "Bodies"},
    "nav_equality": {"it": "Organismi di parità", "en": "Equality bodies"},
    "nav_acts": {"it": "Atti", "en": "Acts"},
    "nav_explorer": {"it": "Grafo", "en": "Graph"},
    "nav_finder": {"it": "Sportelli", "en": "Help desks"},
    "province_of": {"it": "Provincia di", "en": "Province of"},
    "region_of": {"it": "Regione", "en": "Region"},
    "region_note": {
        "it": "Ciò che i dati collocano in questa regione: con il territorio della regione stessa (per esempio un forum regionale) o di una sua provincia o comune, proprio o dell'ente a cui appartiene.",
        "en": "What the data places in this region: with the region itself as territory (a regional forum, for example) or one of its provinces or comuni, its own or its body's.",
    },
    "regional": {"it": "intera regione", "en": "whole region"},
    "what": {"it": "Che cosa", "en": "What"},
}


#: Plural forms, (one, other), with N for the number: Italian and English both use "one" for 1 only.
PLURALS: dict[str, dict[str, tuple[str, str]]] = {
    "rows": {"it": ("N riga", "N righe"), "en": ("N row", "N rows")},
    "documents": {"it": ("N documento", "N documenti"), "en": ("N document", "N documents")},
}


def plural_forms(key: str, lang: str) -> tuple[str, str]:
    """(one, other) of `key` in `lang`, with N where the number goes (for scripts that count themselves)."""
    return PLURALS[key].get(lang) or PLURALS[key][DEFAULT]


def tn(key: str, n: int, lang: str) -> str:
    """The plural form of `key` for `n` in `lang`, with the number in it."""
    one, other = plural_forms(key, lang)
    return (one if n == 1 else other).replace("N", str(n))


def t(key: str, lang: str) -> str:
    """The UI string `key` in `lang` (Italian when missing)."""
    entry = STRINGS.get(key, {})
    return entry.get(lang) or entry.get(DEFAULT) or key


def pick_language(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """`?lang=` wins, then the cookie set by the switch, then Accept-Language; Italian otherwise."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate
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
