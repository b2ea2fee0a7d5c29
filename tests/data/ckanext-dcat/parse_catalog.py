"""Fetch a DCAT catalog as ckanext-dcat's RDF harvester does and parse it with ckanext-dcat's RDFParser.

Run with the Python of the venv tests/pip_tools.py makes (ckanext-dcat and CKAN installed, no CKAN site,
database or configuration); prints one JSON object per dataset (CKAN's package dict) on stdout.
Usage: python parse_catalog.py URL [PROFILE]
"""

import json
import sys

import requests
from ckanext.dcat.processors import RDFParser

url = sys.argv[1]
profile = sys.argv[2] if len(sys.argv) > 2 else "euro_dcat_ap_3"
# DCATHarvester._get_content_and_type: a bare requests.Session, HEAD first, then GET; the Content-Type
# of the answer tells the parser the syntax.
session = requests.Session()
head = session.head(url, timeout=30)
head.raise_for_status()
response = session.get(url, timeout=30)
response.raise_for_status()
parser = RDFParser(profiles=[profile])
parser.parse(response.text, _format=response.headers["content-type"].split(";", 1)[0])
print(json.dumps(list(parser.datasets()), ensure_ascii=False))
