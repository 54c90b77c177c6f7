"""Usage statistics: views, downloads by format and API row queries, per day."""
