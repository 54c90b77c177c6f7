"""Catalogues as Excel workbooks, the form departments maintain them in.

A workbook has one sheet per manifest level (catalogue, publishers, datasets, resources,
fields) whose header row holds the manifest's key names, plus a 说明 (guide) sheet. Import
turns the sheets back into manifest tables and validates them with the very same rules
as a catalogue.toml, so manifest -> xlsx -> manifest loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from opendata.quality import rules as quality_rules

from opendata.catalogue.manifest import (
    CATALOGUE_KEYS,
    DATASET_KEYS,
    FIELD_KEYS,
    PUBLISHER_KEYS,
    RESOURCE_KEYS,
    CatalogueError,
    CatalogueSpec,
    Problem,
    parse_raw,
    spec_to_raw,
)

TAG_SEPARATOR = ";"
SHEETS = {
    "publishers": list(PUBLISHER_KEYS),
    "datasets": list(DATASET_KEYS),
    "resources": ["dataset", *RESOURCE_KEYS],
    "fields": ["dataset", "resource", *FIELD_KEYS],
}
GUIDE = [
    ("catalogue", "目录信息：每行一个键值对 / one key and value per row"),
    ("publishers", "数源部门：每行一个部门 / one publisher department per row"),
    ("datasets", "数据集：每行一个数据集；tags 用英文分号分隔 / one dataset per row; tags separated by ';'"),
    ("resources", "资源：每行一个资源，dataset 列填写数据集 id / one resource per row"),
    ("fields", "数据字典：每行一个字段 / the data dictionary, one field per row"),
    ("open_level", "unconditional 无条件开放 | conditional 有条件开放 | closed 不予开放"),
    ("sensitivity", "L1 公开 | L2 内部 | L3 敏感 | L4 高度敏感"),
    ("mask", "keep_first:N | keep_last:N | keep_first_last:N:M | hash | drop"),
    ("type", "string | integer | decimal | number | boolean | date | datetime"),
    ("missing_values", "缺失值标记，英文分号分隔，如 ;NA;— / missing-value markers separated by ';'"),
    ("constraints", "required | unique | minimum | maximum | enum（分号分隔 / ';'-separated） | pattern | min_length | max_length"),
]


def write_workbook(spec: CatalogueSpec, path: Path) -> Path:
    raw = spec_to_raw(spec)
    workbook = Workbook()
    head = workbook.active
    head.title = "catalogue"
    head.append(["key", "value"])
    for key in CATALOGUE_KEYS:
        if key in raw["catalogue"]:
            head.append([key, _cell(raw["catalogue"][key])])
    rows: dict[str, list[dict[str, Any]]] = {
        "publishers": raw["publishers"],
        "datasets": raw["datasets"],
        "resources": [
            {"dataset": ds["id"], **res} for ds in raw["datasets"] for res in ds["resources"]
        ],
        "fields": [
            {"dataset": ds["id"], "resource": res["id"], **f}
            for ds in raw["datasets"]
            for res in ds["resources"]
            for f in res["fields"]
        ],
    }
    for name, columns in SHEETS.items():
        sheet = workbook.create_sheet(name)
        sheet.append(columns)
        for item in rows[name]:
            sheet.append([_cell(item.get(c)) for c in columns])
    guide = workbook.create_sheet("说明")
    guide.append(["项 / item", "说明 / guide"])
    for row in GUIDE:
        guide.append(list(row))
    for sheet in workbook.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    path = Path(path)
    workbook.save(path)
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        return quality_rules.cell_text(value)  # references and unique keys
    if isinstance(value, list):
        return TAG_SEPARATOR.join(value)
    return value


def read_workbook(path: Path, *, folder: Path | None = None, check_paths: bool = True) -> CatalogueSpec:
    """Read a catalogue workbook; data paths are relative to ``folder`` (default: its own).

    ``check_paths=False`` checks the catalogue's content only, for converting a workbook
    into a manifest before its data files are in place.
    """
    path = Path(path)
    file = str(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise CatalogueError([Problem(file, f"not a readable Excel workbook: {exc}")]) from None
    problems: list[Problem] = []
    try:
        missing = [n for n in ["catalogue", *SHEETS] if n not in workbook.sheetnames]
        if missing:
            raise CatalogueError([Problem(file, f"missing sheet(s): {', '.join(missing)}")])
        head = _key_values(workbook["catalogue"])
        tables = {
            name: list(_dicts(workbook[name], columns, f"{file} [{name}]", problems))
            for name, columns in SHEETS.items()
        }
    finally:
        workbook.close()
    raw = _assemble(head, tables, file, problems)
    if problems:
        raise CatalogueError(problems)
    spec = parse_raw(raw, file=file, folder=(folder or path.parent) if check_paths else None)
    spec.folder = folder or path.parent
    return spec


def _key_values(sheet: Any) -> dict[str, Any]:
    values = {}
    for row in sheet.iter_rows(min_row=2, values_only=True):
        if row and row[0] is not None:
            values[str(row[0]).strip()] = _value(row[1]) if len(row) > 1 else None
    return values


def _dicts(sheet: Any, columns: list[str], file: str, problems: list[Problem]) -> Iterable[dict]:
    rows = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    for h in header:
        if h and h not in columns:
            problems.append(Problem(file, f"unknown column {h!r}", line=1))
    for line, row in enumerate(rows, start=2):
        item = {h: _value(v) for h, v in zip(header, row) if h in columns and v not in (None, "")}
        if item:
            item["_line"] = line
            yield item


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Excel turns versions like "2" and numeric codes into numbers; the manifest keeps text.
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _assemble(
    head: dict[str, Any], tables: dict[str, list[dict[str, Any]]], file: str, problems: list[Problem]
) -> dict[str, Any]:
    """Nest the flat sheets back into manifest tables; orphans are reported, not dropped."""
    datasets = []
    for ds in tables["datasets"]:
        ds.pop("_line")
        if "tags" in ds:
            ds["tags"] = [t.strip() for t in str(ds["tags"]).split(TAG_SEPARATOR) if t.strip()]
        ds["resources"] = []
        datasets.append(ds)
    by_id = {ds.get("id"): ds for ds in datasets}
    resources: dict[tuple[Any, Any], dict[str, Any]] = {}
    for res in tables["resources"]:
        line, owner_id = res.pop("_line"), res.pop("dataset", None)
        owner = by_id.get(owner_id)
        if owner is None:
            problems.append(Problem(f"{file} [resources]", f"dataset {owner_id!r} is not in the datasets sheet", line=line))
            continue
        res["fields"] = []
        owner["resources"].append(res)
        resources[(owner_id, res.get("id"))] = res
    for f in tables["fields"]:
        line, key = f.pop("_line"), (f.pop("dataset", None), f.pop("resource", None))
        owner = resources.get(key)
        if owner is None:
            problems.append(Problem(f"{file} [fields]", f"resource {key[0]}/{key[1]} is not in the resources sheet", line=line))
            continue
        owner["fields"].append(f)
    for p in tables["publishers"]:
        p.pop("_line")
    return {"catalogue": head, "publishers": tables["publishers"], "datasets": datasets}
