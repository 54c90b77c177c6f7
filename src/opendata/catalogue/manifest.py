"""Reading and validating catalogue manifests (catalogue.toml).

Validation collects every problem before reporting, and each problem names the file, the
dataset, the resource and field, and the key, so a department can fix a manifest in one
pass instead of one error at a time.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from opendata.catalogue import field_rules as rules
from opendata.catalogue import vocabulary as vocab
from opendata.quality import rules as quality_rules

from opendata.catalogue.manifest_schema import (
    CATALOGUE_KEYS,
    DATASET_KEYS,
    FIELD_KEYS,
    PUBLISHER_KEYS,
    RESOURCE_KEYS,
    Checker,
)

MANIFEST_NAME = "catalogue.toml"


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    dataset: str | None = None
    resource: str | None = None
    field: str | None = None
    key: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file + (f":{self.line}" if self.line else "")]
        if self.dataset:
            where.append(f"dataset {self.dataset!r}")
        if self.resource:
            where.append(f"resource {self.resource!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        if self.key:
            where.append(f"key {self.key!r}")
        return f"{', '.join(where)}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class CatalogueError(Exception):
    """A catalogue that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- the manifest's shape ------------------------------------------------------------


@dataclass
class FieldSpec:
    name: str
    title_zh: str
    title_en: str | None = None
    type: str = "string"
    unit: str | None = None
    description: str | None = None
    sensitivity: str = "L1"
    mask: str | None = None
    missing_values: list[str] | None = None
    required: bool | None = None
    unique: bool | None = None
    minimum: Any = None
    maximum: Any = None
    enum: list[Any] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None

    @property
    def constraints(self) -> dict[str, Any] | None:
        """The declared constraints as the fields table stores them (None when none)."""
        declared = {k: getattr(self, k) for k in rules.CONSTRAINT_KEYS if getattr(self, k) is not None}
        return rules.json_safe(declared)


@dataclass
class ResourceSpec:
    id: str
    title_zh: str
    format: str
    title_en: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    path: str | None = None
    history: list[str] | None = None
    primary_key: str | None = None
    subject_key: str | None = None
    missing_values: list[str] | None = None
    checks: list[str] | None = None
    references: list[dict[str, str]] | None = None
    unique_keys: list[list[str]] | None = None
    fields: list[FieldSpec] = field(default_factory=list)
    # The catalogue's markers, which apply where the resource names none of its own.
    inherited_missing_values: list[str] | None = None

    @property
    def effective_missing_values(self) -> list[str] | None:
        return self.missing_values if self.missing_values is not None else self.inherited_missing_values

    @property
    def is_tabular(self) -> bool:
        return vocab.is_tabular_format(self.format)

    @property
    def quality_rules(self) -> dict[str, Any] | None:
        """The quality rules as the resources table stores them (None when none)."""
        declared = {k: getattr(self, k) for k in ("checks", "references", "unique_keys") if getattr(self, k)}
        return declared or None


@dataclass
class DatasetSpec:
    id: str
    title_zh: str
    description_zh: str
    domain: str
    publisher: str
    open_level: str
    update_frequency: str
    licence: str
    version: str
    title_en: str | None = None
    description_en: str | None = None
    industry_code: str | None = None
    tags: list[str] = field(default_factory=list)
    contact: str | None = None
    spatial_coverage: str | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    issued: date | None = None
    modified: date | None = None
    source_system: str | None = None
    update_mechanism: str | None = None
    quality_standard: str | None = None
    usage_notes: str | None = None
    extensions: dict[str, Any] | None = None
    resources: list[ResourceSpec] = field(default_factory=list)


@dataclass
class PublisherSpec:
    id: str
    name_zh: str
    name_en: str | None = None
    website: str | None = None
    contact: str | None = None


@dataclass
class CatalogueSpec:
    id: str
    title_zh: str
    title_en: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    missing_values: list[str] | None = None
    publishers: list[PublisherSpec] = field(default_factory=list)
    datasets: list[DatasetSpec] = field(default_factory=list)
    folder: Path | None = None
    digest: str | None = None
    catalogue_file: str = MANIFEST_NAME


class _Reader:
    """Checks raw TOML tables against the key tables, collecting problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, message: str, **where: Any) -> None:
        self.problems.append(Problem(self.file, message, **where))

    def section(
        self,
        raw: Any,
        keys: dict[str, tuple[bool, Checker]],
        what: str,
        nested: str | None = None,
        **where: Any,
    ) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.problem(f"{what} must be a table", **where)
            return None
        clean: dict[str, Any] = {}
        for key in raw:
            if key not in keys and key != nested:
                self.problem(f"unknown key in {what}", key=key, **where)
        for key, (required, check) in keys.items():
            if key not in raw:
                if required:
                    self.problem(f"{what} is missing required key", key=key, **where)
                continue
            try:
                clean[key] = check(raw[key])
            except ValueError as exc:
                self.problem(str(exc), key=key, **where)
        return clean

    def array(self, raw: Any, key: str, **where: Any) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(f"{key} must be an array of tables ([[{key}]])", key=key, **where)
            return []
        return raw


def parse_manifest(text: str, *, file: str = MANIFEST_NAME, folder: Path | None = None) -> CatalogueSpec:
    """Parse and validate manifest text; raises CatalogueError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 only puts the position into the message: "(at line 3, column 12)".
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise CatalogueError([Problem(file, f"not valid TOML: {exc}", line=line)]) from None
    return parse_raw(raw, file=file, folder=folder, source_text=text)


def parse_raw(
    raw: dict[str, Any], *, file: str, folder: Path | None = None, source_text: str | None = None
) -> CatalogueSpec:
    """Validate a manifest already read into plain tables (from TOML or from Excel)."""
    reader = _Reader(file)
    spec = _read_catalogue(reader, raw)
    if spec is not None:
        for dataset_id, resource_id, field_name, message in quality_rules.reference_problems(spec.datasets):
            reader.problem(message, dataset=dataset_id, resource=resource_id, field=field_name, key="references")
    if folder is not None and spec is not None:
        _check_paths(reader, spec, folder)
    if reader.problems or spec is None:
        raise CatalogueError(reader.problems)
    spec.folder = folder
    spec.catalogue_file = file
    spec.digest = _digest(source_text or repr(raw), spec, folder)
    return spec


def _digest(text: str, spec: CatalogueSpec, folder: Path | None) -> str:
    """Fingerprint of the manifest and its data files, to skip reloading what is loaded."""
    digest = hashlib.sha256(text.encode())
    for dataset in spec.datasets:
        for resource in dataset.resources:
            if folder is not None and resource.path:
                digest.update(resource.path.encode())
                with open(folder / resource.path, "rb") as data:
                    for block in iter(lambda: data.read(1 << 20), b""):
                        digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> CatalogueSpec:
    """Read ``catalogue.toml`` from a catalogue folder."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise CatalogueError([Problem(str(path), "no catalogue.toml in this folder")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError([Problem(str(path), f"not UTF-8 text: {exc}")]) from None
    return parse_manifest(text, file=str(path), folder=folder)


def spec_to_raw(spec: CatalogueSpec) -> dict[str, Any]:
    """The manifest tables of a spec, leaving out unset optional keys."""

    def pick(obj: Any, keys: dict[str, Any]) -> dict[str, Any]:
        values = {k: getattr(obj, k) for k in keys}
        return {k: v for k, v in values.items() if v not in (None, [], "")}

    datasets = []
    for ds in spec.datasets:
        table = pick(ds, DATASET_KEYS)
        table["resources"] = [
            {**pick(r, RESOURCE_KEYS), "fields": [pick(f, FIELD_KEYS) for f in r.fields]}
            for r in ds.resources
        ]
        datasets.append(table)
    return {
        "catalogue": pick(spec, CATALOGUE_KEYS),
        "publishers": [pick(p, PUBLISHER_KEYS) for p in spec.publishers],
        "datasets": datasets,
    }


def dump_manifest(spec: CatalogueSpec) -> str:
    import tomli_w

    return tomli_w.dumps(spec_to_raw(spec))


def _read_catalogue(reader: _Reader, raw: dict[str, Any]) -> CatalogueSpec | None:
    for key in raw:
        if key not in ("catalogue", "publishers", "datasets"):
            reader.problem("unknown top-level key", key=key)
    head = reader.section(raw.get("catalogue"), CATALOGUE_KEYS, "[catalogue]")
    publishers = []
    for item in reader.array(raw.get("publishers"), "publishers"):
        clean = reader.section(item, PUBLISHER_KEYS, "[[publishers]]")
        if clean and "id" in clean and "name_zh" in clean:
            publishers.append(PublisherSpec(**clean))
    _no_duplicates(reader, [p.id for p in publishers], "publisher")
    publisher_ids = {p.id for p in publishers}
    datasets = [
        ds
        for item in reader.array(raw.get("datasets"), "datasets")
        if (ds := _read_dataset(reader, item, publisher_ids)) is not None
    ]
    _no_duplicates(reader, [d.id for d in datasets], "dataset")
    if not datasets and not reader.problems:
        reader.problem("the catalogue has no [[datasets]]")
    if head is None or not {"id", "title_zh"} <= head.keys():
        return None
    for dataset in datasets:
        for resource in dataset.resources:
            resource.inherited_missing_values = head.get("missing_values")
    return CatalogueSpec(**head, publishers=publishers, datasets=datasets)


def _no_duplicates(reader: _Reader, ids: list[str], what: str, **where: Any) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            reader.problem(f"duplicate {what} id {item_id!r}", **where)
        seen.add(item_id)


def _read_dataset(reader: _Reader, raw: Any, publisher_ids: set[str]) -> DatasetSpec | None:
    dataset_id = raw.get("id") if isinstance(raw, dict) else None
    where = {"dataset": dataset_id if isinstance(dataset_id, str) else "?"}
    clean = reader.section(raw, DATASET_KEYS, "[[datasets]]", "resources", **where)
    if clean is None:
        return None
    if "publisher" in clean and clean["publisher"] not in publisher_ids:
        reader.problem(f"publisher {clean['publisher']!r} is not defined in [[publishers]]",
                       key="publisher", **where)
    start, end = clean.get("temporal_start"), clean.get("temporal_end")
    if start and end and end < start:
        reader.problem("temporal_end is before temporal_start", key="temporal_end", **where)
    resources = [
        res
        for item in reader.array(raw.get("resources"), "resources", **where)
        if (res := _read_resource(reader, item, where)) is not None
    ]
    _no_duplicates(reader, [r.id for r in resources], "resource", **where)
    missing = {k for k, (required, _) in DATASET_KEYS.items() if required} - clean.keys()
    if missing:
        return None
    return DatasetSpec(**clean, resources=resources)


def _read_resource(reader: _Reader, raw: Any, where: dict[str, Any]) -> ResourceSpec | None:
    resource_id = raw.get("id") if isinstance(raw, dict) else None
    where = {**where, "resource": resource_id if isinstance(resource_id, str) else "?"}
    clean = reader.section(raw, RESOURCE_KEYS, "[[datasets.resources]]", "fields", **where)
    if clean is None:
        return None
    fields = []
    for item in reader.array(raw.get("fields"), "fields", **where):
        name = item.get("name") if isinstance(item, dict) else None
        field_where = {**where, "field": name if isinstance(name, str) else "?"}
        field_clean = reader.section(item, FIELD_KEYS, "[[datasets.resources.fields]]", **field_where)
        if field_clean and {"name", "title_zh", "type"} <= field_clean.keys():
            declared = {k: field_clean.pop(k) for k in rules.CONSTRAINT_KEYS if k in field_clean}
            typed, problems = rules.canonical_constraints(field_clean["type"], declared)
            for key, message in problems:
                reader.problem(message, key=key, **field_where)
            fields.append(FieldSpec(**field_clean, **typed))
    _no_duplicates(reader, [f.name for f in fields], "field", **where)
    if {"id", "title_zh", "format"} - clean.keys():
        return None
    resource = ResourceSpec(**clean, fields=fields)
    if resource.history and not (resource.path and resource.is_tabular):
        reader.problem("history lists earlier files of a table resource, which needs a path", key="history", **where)
    names = {f.name for f in fields}
    if resource.is_tabular and not fields:
        reader.problem("a table resource needs a data dictionary ([[datasets.resources.fields]])", **where)
    for key in ("primary_key", "subject_key"):
        value = getattr(resource, key)
        if value and value not in names:
            reader.problem(f"{key} {value!r} is not one of the resource's fields", key=key, **where)
    for field_name, key, message in quality_rules.resource_problems(resource.quality_rules or {}, fields):
        reader.problem(message, key=key, **where, **({"field": field_name} if field_name else {}))
    return resource


def _check_paths(reader: _Reader, spec: CatalogueSpec, folder: Path) -> None:
    root = folder.resolve()
    for dataset in spec.datasets:
        for resource in dataset.resources:
            if not resource.path:
                continue
            for key, path in [("path", resource.path), *(("history", p) for p in resource.history or ())]:
                where = {"dataset": dataset.id, "resource": resource.id, "key": key}
                target = (folder / path).resolve()
                if not target.is_relative_to(root):
                    reader.problem(f"path {path!r} leaves the catalogue folder", **where)
                elif not target.is_file():
                    reader.problem(f"data file {path!r} does not exist", **where)
