"""Hand-written XLSX workbooks of the kind an attacker uploads (zip bombs and the like).

Written with zipfile rather than openpyxl, so each part is exactly what the test wants:
a shared-string table of millions of entries (a 220 KB file that unpacked to 0.8 GB in
openpyxl), one huge shared string referenced from every row, a cell in column XFD, a
row numbered 999,999,999, many sheets, a lying <dimension>.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row(names: list[str]) -> str:
    cells = "".join(_inline(f"{chr(65 + i)}1", name) for i, name in enumerate(names))
    return f'<row r="1">{cells}</row>'


def sheet_xml(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN}>{dim}<sheetData>{rows}</sheetData></worksheet>'


def write_workbook(path: Path, sheets: list[str], shared: str | None = None) -> Path:
    count = len(sheets)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
                        for i in range(1, count + 1))
    if shared is not None:
        overrides += ('<Override PartName="/xl/sharedStrings.xml" ContentType='
                      '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>")
    root_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
                 f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    workbook = (f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN} xmlns:r="{RELS}"><sheets>'
                + "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, count + 1))
                + "</sheets></workbook>")
    links = "".join(f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                    for i in range(1, count + 1))
    if shared is not None:
        links += f'<Relationship Id="rId{count + 1}" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    workbook_rels = f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">{links}</Relationships>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", root_rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for i, sheet in enumerate(sheets, 1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", sheet)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
    return path


def shared_strings(strings: int, text: str = "ab") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN} count="{strings}" uniqueCount="{strings}">'
            + f"<si><t>{text}</t></si>" * strings + "</sst>")


def shared_strings_bomb(path: Path, header: list[str], strings: int = 5_000_000) -> Path:
    """A workbook whose shared-string table unpacks to ~19 bytes x ``strings``."""
    row = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    return write_workbook(path, [sheet_xml(header_row(header) + row)], shared_strings(strings))


def huge_cell(path: Path, header: list[str], chars: int, rows: int) -> Path:
    """One shared string of ``chars`` characters, referenced from the second column of every row."""
    body = "".join(f'<row r="{i}">{_inline(f"A{i}", f"S{i}")}<c r="B{i}" t="s"><v>0</v></c></row>'
                   for i in range(2, rows + 2))
    return write_workbook(path, [sheet_xml(header_row(header) + body)], shared_strings(1, "x" * chars))


def far_column(path: Path, header: list[str], rows: int = 10) -> Path:
    body = "".join(f'<row r="{i}"><c r="XFD{i}"><v>1</v></c></row>' for i in range(2, rows + 2))
    return write_workbook(path, [sheet_xml(header_row(header) + body)])


def far_row(path: Path, header: list[str], row_number: int = 999_999_999) -> Path:
    body = f'<row r="{row_number}">{_inline(f"A{row_number}", "late")}</row>'
    return write_workbook(path, [sheet_xml(header_row(header) + body)])


def many_sheets(path: Path, header: list[str], sheets: int) -> Path:
    return write_workbook(path, [sheet_xml(header_row(header))] * sheets)


def declared_dimension(path: Path, header: list[str], dimension: str) -> Path:
    return write_workbook(path, [sheet_xml(header_row(header), dimension)])
