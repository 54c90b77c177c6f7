"""The Guangzhou demo catalogue and its deterministic synthetic data.

See ``opendata.demo.generator`` for the API and docs/demo-catalogue.md for what the demo
contains. Everything here is synthetic: real place names, fictitious organisations,
people, identifiers and measurements.

The names below are loaded on first use, so ``python -m opendata.demo.generator`` does
not import the generator twice.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DEFAULT_SEED": "generator",
    "DEMO_DATASETS": "generator",
    "field_names": "generator",
    "generate_rows": "generator",
    "regenerate_demo": "generator",
    "shipped_rows": "generator",
    "synthetic_catalogue": "generator",
    "write_csv": "generator",
    "write_xlsx": "generator",
    "is_valid_credit_code": "identifiers",
    "is_valid_resident_id": "identifiers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'opendata.demo' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
