"""opendata-harvest: CKAN and DCAT catalogues harvested into an opendata portal."""

__version__ = "0.1.0"
