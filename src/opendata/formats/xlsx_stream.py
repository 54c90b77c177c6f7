"""An XLSX package written as a zip stream: sheets first, row by row, the rest at the end.

A zip needs neither a seekable output nor its parts in any order: Python's zipfile, given
an output without ``tell``/``seek``, follows each member with a data descriptor (CRC and
sizes after the data) and writes the central directory last. So each sheet's XML is
deflated and handed out while its rows arrive, and the parts that depend on the number
of sheets (workbook, relationships, content types) follow the last sheet. Readers find
every part through the central directory at the end of the file.

Nothing here knows about cell values: the caller hands in finished ``<row>`` XML.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# zlib's default level: files as small as openpyxl's (26% smaller than level 1) for 1.5x
# the time of level 1, still ~4x the bare openpyxl loop's throughput (benchmarks/README.md).
COMPRESS_LEVEL = 6
# A member that outgrows 2 GiB needs Zip64, and Zip64 must be chosen before the member's
# first byte when streaming. Excel refuses Zip64 headers on members that turn out small,
# so members are written without it and a sheet closes before it reaches this size.
MEMBER_LIMIT = zipfile.ZIP64_LIMIT
# Cell styles, by position in styles.xml's cellXfs.
STYLE_BOLD, STYLE_DATE, STYLE_DATETIME = 1, 2, 3
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

SHEET_END = b'</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>'


def xml_text(text: str) -> str:
    """``text`` escaped for XML character data (a carriage return kept as one)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def sheet_start(column_widths: Sequence[int]) -> bytes:
    """A sheet's XML up to ``<sheetData>``: the header row frozen, the column widths."""
    cols = "".join(
        f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
        for index, width in enumerate(column_widths, 1)
    )
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}">'
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/></sheetPr>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
        '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>'
        f'{f"<cols>{cols}</cols>" if cols else ""}<sheetData>'
    ).encode()


class _Sink:
    """The zip's output: collects bytes until they are handed on. No ``tell``: that is
    what makes zipfile stream (data descriptors instead of seeking back)."""

    def __init__(self) -> None:
        self.pending = bytearray()

    def write(self, data: bytes) -> int:
        self.pending += data
        return len(data)

    def flush(self) -> None:
        pass


class XlsxZipStream:
    """Write sheets row by row into a zip and take the output in chunks of ``chunk_size``.

    ``open_sheet``, ``write`` (``<row>`` XML bytes) and ``finish`` each return the chunks
    that became ready; ``discard`` drops everything (an abandoned or failed download).
    """

    def __init__(self, chunk_size: int, compress_level: int = COMPRESS_LEVEL) -> None:
        self.chunk_size = chunk_size
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(
            self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compress_level
        )
        self._member = None
        self.sheet_titles: list[str] = []
        self.sheet_bytes = 0

    def room_in_sheet(self, size: int) -> bool:
        """Whether ``size`` more bytes of rows still fit in the current sheet's member."""
        return self.sheet_bytes + size + len(SHEET_END) <= MEMBER_LIMIT

    def open_sheet(self, title: str, start: bytes) -> list[bytes]:
        self._close_sheet()
        self.sheet_titles.append(title)
        self._member = self._zip.open(f"xl/worksheets/sheet{len(self.sheet_titles)}.xml", "w")
        self.sheet_bytes = 0
        return self.write(start)

    def write(self, data: bytes) -> list[bytes]:
        self._member.write(data)
        self.sheet_bytes += len(data)
        return self._ready() if len(self._sink.pending) >= self.chunk_size else []

    def finish(self) -> list[bytes]:
        """Close the last sheet, write the package parts and the zip directory: every chunk left."""
        self._close_sheet()
        for name, text in package_parts(self.sheet_titles):
            self._zip.writestr(name, text)
        self._zip.close()
        chunks = self._ready()
        if self._sink.pending:
            chunks.append(bytes(self._sink.pending))
            self._sink.pending.clear()
        return chunks

    def discard(self) -> None:
        """Close without handing anything on; safe to call after ``finish``."""
        try:
            if self._member is not None:
                self._member.close()
            self._member = None
            self._zip.close()
        except (ValueError, RuntimeError, OSError):
            pass
        self._sink.pending.clear()

    def _close_sheet(self) -> None:
        if self._member is not None:
            self._member.write(SHEET_END)
            self._member.close()
            self._member = None

    def _ready(self) -> list[bytes]:
        pending, size = self._sink.pending, self.chunk_size
        whole = len(pending) - len(pending) % size
        chunks = [bytes(pending[start:start + size]) for start in range(0, whole, size)]
        del pending[:whole]
        return chunks


def package_parts(sheet_titles: Sequence[str]) -> list[tuple[str, str]]:
    """The parts of the package besides the sheets, for sheets titled ``sheet_titles``."""
    numbers = range(1, len(sheet_titles) + 1)
    sheets = "".join(
        f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
        for n, title in zip(numbers, sheet_titles)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in numbers
    )
    styles_rel = len(sheet_titles) + 1
    content = "application/vnd.openxmlformats-officedocument"
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{content}.spreadsheetml.worksheet+xml"/>'
        for n in numbers
    )
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ("xl/workbook.xml",
         f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><workbookPr/>'
         '<bookViews><workbookView activeTab="0"/></bookViews>'
         f'<sheets>{sheets}</sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'),
        ("xl/_rels/workbook.xml.rels",
         f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_REL_NS}">{sheet_rels}'
         f'<Relationship Id="rId{styles_rel}" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>'),
        ("xl/styles.xml", STYLES),
        ("_rels/.rels",
         f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_REL_NS}">'
         f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
         f'<Relationship Id="rId2" Type="{PACKAGE_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>'
         f'<Relationship Id="rId3" Type="{REL_NS}/extended-properties" Target="docProps/app.xml"/>'
         '</Relationships>'),
        ("docProps/core.xml",
         f'{XML_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
         'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>opendata</dc:creator>'
         f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
         f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'),
        ("docProps/app.xml",
         f'{XML_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
         '<Application>opendata</Application></Properties>'),
        ("[Content_Types].xml",
         f'{XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         f'<Override PartName="/xl/workbook.xml" ContentType="{content}.spreadsheetml.sheet.main+xml"/>'
         f'{sheet_types}'
         f'<Override PartName="/xl/styles.xml" ContentType="{content}.spreadsheetml.styles+xml"/>'
         '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
         f'<Override PartName="/docProps/app.xml" ContentType="{content}.extended-properties+xml"/>'
         '</Types>'),
    ]


# cellXfs: 0 plain, STYLE_BOLD the header, STYLE_DATE and STYLE_DATETIME the dated cells.
STYLES = (
    f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b val="1"/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)
