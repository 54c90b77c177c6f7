"""Catalogues as Excel workbooks: export, import, and a lossless round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from opendata.catalogue.excel import read_workbook, write_workbook
from opendata.catalogue.manifest import CatalogueError, dump_manifest, parse_manifest, read_manifest


def test_manifest_to_xlsx_to_manifest_loses_nothing(catalogue_dir: Path, tmp_path: Path) -> None:
    spec = read_manifest(catalogue_dir)
    workbook = write_workbook(spec, tmp_path / "catalogue.xlsx")
    back = read_workbook(workbook, folder=catalogue_dir)
    assert back.datasets == spec.datasets
    assert back.publishers == spec.publishers
    assert (back.id, back.title_zh, back.title_en) == (spec.id, spec.title_zh, spec.title_en)
    assert dump_manifest(back) == dump_manifest(spec)
    reparsed = parse_manifest(dump_manifest(back), folder=catalogue_dir)
    assert reparsed.datasets == spec.datasets


def test_workbook_has_sheets_for_datasets_and_fields(catalogue_dir: Path, tmp_path: Path) -> None:
    path = write_workbook(read_manifest(catalogue_dir), tmp_path / "c.xlsx")
    book = load_workbook(path)
    assert {"catalogue", "publishers", "datasets", "resources", "fields", "说明"} <= set(book.sheetnames)
    fields = list(book["fields"].iter_rows(values_only=True))
    assert fields[0][:3] == ("dataset", "resource", "name")
    assert ("bus-stops", "stops", "stop_id") in [row[:3] for row in fields]


def test_bad_workbook_cells_name_the_sheet_and_row(catalogue_dir: Path, tmp_path: Path) -> None:
    path = write_workbook(read_manifest(catalogue_dir), tmp_path / "c.xlsx")
    book = load_workbook(path)
    sheet = book["fields"]
    sheet.append(["no-such-dataset", "x", "f", "标题", None, "string"])
    header = [c.value for c in book["datasets"][1]]
    book["datasets"].cell(row=2, column=header.index("open_level") + 1, value="half-open")
    book.save(path)
    with pytest.raises(CatalogueError) as caught:
        read_workbook(path, folder=catalogue_dir)
    messages = [str(p) for p in caught.value.problems]
    assert any("[fields]" in m and "not in the resources sheet" in m for m in messages)


def test_not_a_workbook_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "x.xlsx"
    bogus.write_text("hello")
    with pytest.raises(CatalogueError, match="not a readable Excel workbook"):
        read_workbook(bogus)
