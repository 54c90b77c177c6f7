"""Namespaces and the mapping of our vocabularies onto the EU controlled vocabularies
that DCAT-AP 3 recommends (publications.europa.eu/resource/authority/...).

The same tables are printed in docs/interop.md; keep the two in step.
"""

from __future__ import annotations

from typing import Final

from rdflib import Namespace, URIRef

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
PROV = Namespace("http://www.w3.org/ns/prov#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")

AUTHORITY = "http://publications.europa.eu/resource/authority/"
THEME_SCHEME = URIRef(AUTHORITY + "data-theme")
FREQUENCY_SCHEME = URIRef(AUTHORITY + "frequency")
ACCESS_RIGHT_SCHEME = URIRef(AUTHORITY + "access-right")
AVAILABILITY_SCHEME = URIRef(AUTHORITY + "planned-availability")
PUBLISHER_TYPE_SCHEME = URIRef("http://purl.org/adms/publishertype/1.0")
LICENCE_TYPE_SCHEME = URIRef("http://purl.org/adms/licencetype/1.0")
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"

# Our data domains (数据领域) -> EU data themes, with the theme's English label.
THEMES: Final = {
    "transport": ("TRAN", "Transport"),
    "health": ("HEAL", "Health"),
    "education": ("EDUC", "Education, culture and sport"),
    "environment": ("ENVI", "Environment"),
    "market": ("ECON", "Economy and finance"),
    "social_security": ("SOCI", "Population and society"),
    "finance": ("ECON", "Economy and finance"),
    "urban": ("REGI", "Regions and cities"),
    "culture_tourism": ("EDUC", "Education, culture and sport"),
    "public_safety": ("JUST", "Justice, legal system and public safety"),
    "agriculture": ("AGRI", "Agriculture, fisheries, forestry and food"),
    "economy": ("ECON", "Economy and finance"),
    "credit": ("ECON", "Economy and finance"),
    "geography": ("REGI", "Regions and cities"),
}

# Our update frequencies -> EU frequency vocabulary.
FREQUENCIES: Final = {
    "realtime": ("UPDATE_CONT", "continuously updated"),
    "daily": ("DAILY", "daily"),
    "weekly": ("WEEKLY", "weekly"),
    "monthly": ("MONTHLY", "monthly"),
    "quarterly": ("QUARTERLY", "quarterly"),
    "semiannual": ("ANNUAL_2", "semiannual"),
    "yearly": ("ANNUAL", "annual"),
    "irregular": ("IRREG", "irregular"),
    "static": ("NEVER", "never"),
}

# Our open levels -> EU access rights.
ACCESS_RIGHTS: Final = {
    "unconditional": ("PUBLIC", "public"),
    "conditional": ("RESTRICTED", "restricted"),
    "closed": ("NON_PUBLIC", "non-public"),
}

# Formats we serve -> EU file types.
FILE_TYPES: Final = {
    "csv": ("CSV", "CSV"), "xlsx": ("XLSX", "XLSX"), "json": ("JSON", "JSON"),
    "ndjson": ("JSON", "JSON"), "pdf": ("PDF", "PDF"), "zip": ("ZIP", "ZIP"),
    "geojson": ("GEOJSON", "GeoJSON"),
}

LANGUAGES: Final = {"zh": ("ZHO", "Chinese"), "en": ("ENG", "English")}

# Places named in spatial coverage -> GeoNames, with a WGS-84 bounding box and centroid.
PLACES: Final = {
    "广州": ("https://sws.geonames.org/1809858/", "Guangzhou",
             "POLYGON((112.95 22.55,114.05 22.55,114.05 23.95,112.95 23.95,112.95 22.55))",
             "POINT(113.26 23.13)"),
}


def authority(scheme: URIRef, code: str) -> URIRef:
    return URIRef(f"{scheme}/{code}")
