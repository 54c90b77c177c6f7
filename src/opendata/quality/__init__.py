"""Measured data quality (数据质量): completeness, validity, uniqueness, consistency and
timeliness of each dataset, measured at every ingest and scored 0–100 (docs/quality.md)."""
