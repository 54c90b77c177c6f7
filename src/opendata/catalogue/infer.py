"""Proposing a data dictionary from data files (``opendata catalogue infer``).

One streaming pass per file: the encoding is detected as at ingest, every column keeps
the types its values still fit, the missing-value words it met and whether it can still
be a key. Key candidates are first screened in memory on the leading rows, then
confirmed in SQLite's temporary database (field_rules.DuplicateFinder), so memory stays
flat. The result is a manifest for the publisher to edit, never a decision: names of
Chinese headers are placeholders, and a column of codes such as 0101 stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Callable

from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.field_rules import DuplicateFinder
from opendata.formats import FormatError, converter_for, read_csv, read_xlsx
from opendata.formats.limits import DEFAULT_LIMITS, ReadLimits

# Words that exports write for "no value" (R, pandas, SPSS, Excel, Chinese systems).
KNOWN_MARKERS = ("NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "None", "-", "--", "—", "无", "空")
TRIED_TYPES = ("integer", "decimal", "number", "date", "datetime", "boolean")
SCREEN_ROWS = 10_000
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]")
_FRACTION = re.compile(r"\.([0-9]*)$")

Progress = Callable[[str, int, int], None]


@dataclass
class ColumnStats:
    header: str
    types: set[str] = field(default_factory=lambda: set(TRIED_TYPES))
    values: int = 0
    missing: int = 0
    markers: set[str] = field(default_factory=set)
    max_fraction: int = 0
    key_candidate: bool = True
    screen: set[Any] | None = field(default_factory=set)

    def see(self, value: Any) -> Any:
        """Account for one cell; returns its key text if it may still be a key, else None."""
        text = value.strip() if isinstance(value, str) else value
        if text is None or text == "":
            self.missing += 1
            self.key_candidate = False
            return None
        if isinstance(text, str) and text in KNOWN_MARKERS:
            self.missing += 1
            self.markers.add(text)
            self.key_candidate = False
            return None
        self.values += 1
        if isinstance(text, str):
            if _LEADING_ZERO.match(text) or len(text.lstrip("+-")) > 15:
                # codes (0101, 440106199001011234) are text, whatever digits they hold
                self.types -= {"integer", "decimal", "number"}
            found = _FRACTION.search(text)
            if found:
                self.max_fraction = max(self.max_fraction, len(found.group(1)))
        for kind in list(self.types):
            try:
                converter_for(kind)(text)
            except ValueError:
                self.types.discard(kind)
        if not self.key_candidate:
            return None
        key = text if isinstance(text, str) else str(text)
        if self.screen is not None:
            if key in self.screen:
                self.key_candidate = False
                self.screen = None
                return None
            self.screen.add(key)
            if len(self.screen) >= SCREEN_ROWS:
                self.screen = None  # from here on the spool decides
        return key

    @property
    def type(self) -> str:
        if self.values == 0:
            return "string"
        for kind in ("integer", "decimal", "date", "datetime", "boolean"):
            if kind in self.types:
                if kind == "decimal" and self.max_fraction > 4:
                    return "number"
                return kind
        return "number" if "number" in self.types else "string"


@dataclass
class FileProposal:
    path: str
    format: str
    encoding: str | None
    rows: int
    columns: list[ColumnStats]
    names: list[str]
    titles: list[tuple[str, str | None]]
    key_candidates: list[str]

    @property
    def markers(self) -> list[str]:
        seen = set().union(*(c.markers for c in self.columns)) if self.columns else set()
        return [m for m in KNOWN_MARKERS if m in seen]

    def resource(self, resource_id: str, path: str | None = None) -> dict[str, Any]:
        fields = []
        for stats, name, (title_zh, title_en) in zip(self.columns, self.names, self.titles):
            item: dict[str, Any] = {"name": name, "title_zh": title_zh}
            if title_en:
                item["title_en"] = title_en
            item["type"] = stats.type
            if stats.values and not stats.missing:
                item["required"] = True
            fields.append(item)
        table: dict[str, Any] = {"id": resource_id, "title_zh": Path(self.path).stem, "format": self.format,
                                 "path": path or Path(self.path).name}
        if self.key_candidates:
            table["primary_key"] = self.key_candidates[0]
        if self.markers:
            table["missing_values"] = ["", *self.markers]
        table["fields"] = fields
        return table

    def summary(self) -> dict[str, Any]:
        return {"file": Path(self.path).name, "format": self.format, "encoding": self.encoding, "rows": self.rows,
                "primary_key_candidates": self.key_candidates, "missing_values_seen": self.markers}


def _ascii_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    name = re.sub(r"_+", "_", name)
    if name and not name[0].isalpha():
        name = f"f_{name}"
    return name[:63].rstrip("_")


def names_and_titles(header: list[str]) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Field names and (title_zh, title_en) from a header: "中文 / English" gives both,
    an ASCII header names the field, a Chinese one gets a placeholder name (field_N)."""
    names, titles, used = [], [], set()
    for position, cell in enumerate(header, start=1):
        text = cell.strip() or f"column {position}"
        zh, en = (part.strip() for part in text.split(" / ", 1)) if " / " in text else (text, None)
        if en is not None and zh.isascii() and not en.isascii():
            zh, en = en, zh  # "English / 中文"
        if en is None and text.isascii():
            en = text
        name = _ascii_name(en) if en else ""
        if not name or not vocab.FIELD_NAME.match(name) or name in vocab.RESERVED_FIELD_NAMES:
            name = f"field_{position}" if not name or not vocab.FIELD_NAME.match(name) else f"{name}_field"
        base, n = name, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        names.append(name)
        titles.append((zh, en if en != zh else None))
    return names, titles


class _Tracked:
    """A binary file whose read position drives a progress bar."""

    def __init__(self, handle: BinaryIO, progress: Callable[[int], None]) -> None:
        self._handle, self._progress = handle, progress
        self.name = getattr(handle, "name", None)

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._progress(self._handle.tell())
        return data


def infer_file(path: Path, *, fmt: str | None = None, limits: ReadLimits = DEFAULT_LIMITS,
               progress: Progress | None = None, label: str | None = None) -> FileProposal:
    """Read one CSV or XLSX file to its end and propose its data dictionary; FormatError
    if it cannot be read at all."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "xlsx"):
        raise FormatError("unsupported_file", f"{path.name}: infer reads .csv and .xlsx files", file=str(path))
    label = label or path.name
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if fmt == "csv":
            tracked = _Tracked(handle, lambda done: progress(label, done, size) if progress else None)
            table: Any = read_csv(tracked, limits=limits)  # type: ignore[arg-type]
        else:
            table = read_xlsx(handle, limits=limits)
        header = list(table.header)
        columns = [ColumnStats(h) for h in header]
        finder = DuplicateFinder([str(i) for i in range(len(header))])
        rows = 0
        try:
            for record in table:
                rows += 1
                for index, (stats, value) in enumerate(zip(columns, record.values)):
                    key = stats.see(value)
                    if key is not None:
                        finder.add(index, key, record.line)
            duplicated = finder.duplicated_columns()
        finally:
            finder.close()
            table.close()
    if progress:
        progress(label, size, size)
    names, titles = names_and_titles(header)
    candidates = [names[i] for i, c in enumerate(columns) if c.key_candidate and c.values and i not in duplicated
                  and c.type in ("string", "integer")]
    # An identifier-looking column first: id, code, 编号, 代码.
    candidates.sort(key=lambda n: 0 if re.search(r"(^|_)(id|code|no)($|_)", n) else 1)
    return FileProposal(str(path), fmt, getattr(table, "encoding", None), rows, columns, names, titles, candidates)


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug if slug and vocab.SLUG.match(slug) else fallback


def propose_manifest(proposals: list[FileProposal], paths: list[str] | None = None) -> dict[str, Any]:
    """A whole manifest around the files' resources; the TODO values are the publisher's."""
    resources, used = [], set()
    for n, proposal in enumerate(proposals, start=1):
        resource_id = _slug(Path(proposal.path).stem, f"table-{n}")
        while resource_id in used:
            resource_id = f"{resource_id}-{n}"
        used.add(resource_id)
        resources.append(proposal.resource(resource_id, paths[n - 1] if paths else None))
    return {
        "catalogue": {"id": "my-catalogue", "title_zh": "TODO 目录名称"},
        "publishers": [{"id": "my-department", "name_zh": "TODO 数源部门名称"}],
        "datasets": [{
            "id": resources[0]["id"] if resources else "my-dataset", "title_zh": "TODO 数据集名称",
            "description_zh": "TODO 数据集描述", "domain": "TODO", "publisher": "my-department",
            "open_level": "unconditional", "update_frequency": "irregular", "licence": "TODO",
            "version": "1.0.0", "resources": resources,
        }],
    }


def manifest_toml(proposals: list[FileProposal], paths: list[str] | None = None) -> str:
    import tomli_w

    lines = ["# Proposed by `opendata catalogue infer`: check every value, replace the TODOs,",
             "# then run `opendata catalogue validate`."]
    for proposal in proposals:
        info = proposal.summary()
        lines.append(f"# {info['file']}: {info['rows']:,} rows, {info['format']}"
                     + (f", encoding {info['encoding']}" if info["encoding"] else "")
                     + f"; primary key candidates: {', '.join(info['primary_key_candidates']) or 'none'}"
                     + f"; missing-value markers seen: {', '.join(info['missing_values_seen']) or 'none'}")
    return "\n".join(lines) + "\n\n" + tomli_w.dumps(propose_manifest(proposals, paths))
