"""Dataset metadata extensions: extra fields in catalogue manifests and in every output.

An extension owns a key under a dataset's ``[datasets.extensions]`` table in
catalogue.toml (``[datasets.extensions.<name>]``). The manifest reader hands the table to
``clean``, which returns the values to store (JSON-compatible) or raises ValueError with
one message per problem; the problems are reported like the manifest's own (with the
dataset's id), so a bad value stops the load before anything is written. The values are
stored with the dataset (``datasets.extensions``) and appear, under the extension's name,
in the dataset's JSON (``/api/v1/datasets/{id}``: ``extensions``), in CKAN's ``extras``
(``<name>.<key>``, non-text values as JSON) and in DCAT (``od:<name>_<key>`` literals of
the portal's own namespace). An extension name no enabled plugin reads is a problem.
Extensions are enabled per process, like importers (the manifest is a pure parse).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class MetadataExtension(Protocol):
    """A named group of extra dataset fields."""

    name: str  # the key under [datasets.extensions]; lower case, letters, digits, "_"

    def clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values to store, or ValueError("one problem; another problem")."""
        ...
