"""Versions and history of datasets: every ingest or upload of a table is a numbered version
with its diff against the previous generation (docs/versions.md)."""
