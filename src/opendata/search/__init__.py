"""The catalogue's full-text search engine: tokens, the index, synonyms, highlights and
suggestions. catalogue/search.py builds the catalogue's search on top of it."""
