"""The data dictionary's rules for cell values: missing-value markers and constraints.

Declared in a manifest (checked by ``canonical_constraints`` so a bad rule is reported
with its key), stored with each field as JSON, and applied at every ingest by
``RowRules``: markers turn into NULL before a cell is typed, constraints are checked on
the typed value, and ``unique`` and primary-key columns are spooled into SQLite's
temporary database, which finds duplicates on disk, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence

from opendata.formats import FormatError, converter_for

DEFAULT_MISSING = ("",)
MAX_MARKERS = 32
MAX_ENUM = 1000
MAX_PATTERN = 500
ORDERED_TYPES = ("integer", "decimal", "number", "date", "datetime")
CONSTRAINT_KEYS = ("required", "unique", "minimum", "maximum", "enum", "pattern", "min_length", "max_length")
MAX_DUPLICATES_REPORTED = 20
LINES_PER_DUPLICATE = 5


# --- declarations (manifest side) ---------------------------------------------------


def split_list(value: Any) -> list[Any]:
    """A TOML array, or the ';'-separated text an Excel cell holds for one."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";")]
    if isinstance(value, list):
        return value
    raise ValueError("must be a list (or text separated by ';')")


def markers(value: Any) -> list[str]:
    items = split_list(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError("missing-value markers must be text, e.g. [\"\", \"NA\", \"-\"]")
    clean = [item.strip() for item in items]
    if len(clean) > MAX_MARKERS:
        raise ValueError(f"at most {MAX_MARKERS} missing-value markers")
    if len(set(clean)) != len(clean):
        raise ValueError("lists a missing-value marker twice")
    if any(len(item) > 63 for item in clean):
        raise ValueError("a missing-value marker is at most 63 characters")
    return clean


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"{value!r} must be true or false")


def count(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{value!r} must be a whole number ≥ 0")


def pattern(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a regular expression as text")
    if len(value) > MAX_PATTERN:
        raise ValueError(f"a pattern is at most {MAX_PATTERN} characters")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return value


def scalar(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str, date)):
        return value
    raise ValueError(f"{value!r} must be a number, a date or text")


def enum(value: Any) -> list[Any]:
    items = split_list(value)
    if not items:
        raise ValueError("must list at least one allowed value")
    if len(items) > MAX_ENUM:
        raise ValueError(f"at most {MAX_ENUM} allowed values")
    return [scalar(item) for item in items]


def _manifest_value(typed: Any, field_type: str) -> Any:
    """A typed bound as TOML writes it back (Decimal has no TOML form)."""
    if isinstance(typed, Decimal):
        as_float = float(typed)
        return int(typed) if typed == typed.to_integral_value() else (
            as_float if Decimal(repr(as_float)) == typed else str(typed))
    return typed


def _typed(value: Any, field_type: str, key: str) -> Any:
    try:
        typed = converter_for(field_type)(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc} (the field is {field_type})") from None
    if typed is None:
        raise ValueError(f"{key} must not be empty")
    return typed


def canonical_constraints(field_type: str, declared: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The declared constraints with bounds and enum values in the field's type, and the
    (key, reason) problems of those that do not fit the type or each other."""
    clean = dict(declared)
    problems: list[tuple[str, str]] = []
    for key in ("minimum", "maximum"):
        if key in clean:
            if field_type not in ORDERED_TYPES:
                problems.append((key, f"{key} applies to {', '.join(ORDERED_TYPES)} fields, not {field_type}"))
                del clean[key]
                continue
            try:
                clean[key] = _manifest_value(_typed(clean[key], field_type, key), field_type)
            except ValueError as exc:
                problems.append((key, str(exc)))
                del clean[key]
    for key in ("pattern", "min_length", "max_length"):
        if key in clean and field_type != "string":
            problems.append((key, f"{key} applies to string fields, not {field_type}"))
            del clean[key]
    if "enum" in clean:
        try:
            clean["enum"] = [_manifest_value(_typed(v, field_type, "enum"), field_type) for v in clean["enum"]]
        except ValueError as exc:
            problems.append(("enum", str(exc)))
            del clean["enum"]
    low, high = clean.get("minimum"), clean.get("maximum")
    if low is not None and high is not None and _typed(low, field_type, "minimum") > _typed(high, field_type, "maximum"):
        problems.append(("maximum", f"maximum {high!r} is below minimum {low!r}"))
    if clean.get("min_length", 0) > clean.get("max_length", float("inf")):
        problems.append(("max_length", "max_length is below min_length"))
    return clean, problems


def json_safe(constraints: dict[str, Any] | None) -> dict[str, Any] | None:
    """Constraints as stored in the fields table (dates as ISO text)."""
    if not constraints:
        return None

    def safe(value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if isinstance(value, list):
            return [safe(v) for v in value]
        return value

    return {key: safe(constraints[key]) for key in CONSTRAINT_KEYS if key in constraints}


# --- application (ingest side) ------------------------------------------------------


def _key_text(value: Any) -> str:
    """One text per distinct value, as the database compares them (1.0 == 1.00)."""
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass
class _ColumnRules:
    index: int
    name: str
    required: str | None  # why a value is required: "required" or "primary key"
    low: Any = None
    high: Any = None
    allowed: frozenset[Any] | None = None
    regex: re.Pattern[str] | None = None
    min_length: int | None = None
    max_length: int | None = None


class DuplicateFinder:
    """Values of unique columns spooled into a temporary SQLite file; duplicates are
    found there with an index, never in memory."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        # "" is SQLite's private temporary database: pages beyond the cache spill to a file
        # that SQLite unlinks as it opens it, so even a killed process leaves nothing behind.
        self.db = sqlite3.connect("")
        self.db.execute("PRAGMA cache_size=-8192")  # KiB: memory stays flat, the rest is on disk
        self.db.execute("PRAGMA temp_store=FILE")
        self.db.execute("CREATE TABLE k (col INTEGER, value TEXT, line INTEGER)")
        self.pending: list[tuple[int, str, int]] = []

    def add(self, col: int, value: Any, line: int) -> None:
        self.pending.append((col, _key_text(value), line))
        if len(self.pending) >= 5000:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO k VALUES (?, ?, ?)", self.pending)
        self.pending.clear()

    def duplicated_columns(self) -> set[int]:
        self._flush()
        return {col for (col,) in self.db.execute(
            "SELECT DISTINCT col FROM (SELECT col FROM k GROUP BY col, value HAVING count(*) > 1)")}

    def duplicates(self, file: str | None, why: dict[int, str]) -> tuple[list[FormatError], int]:
        self._flush()
        db = self.db
        db.execute("CREATE INDEX k_value ON k (col, value, line)")
        total = db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM k GROUP BY col, value HAVING count(*) > 1)").fetchone()[0]
        errors = []
        for col, value, times in db.execute(
            "SELECT col, value, count(*) FROM k GROUP BY col, value HAVING count(*) > 1 "
            "ORDER BY min(line) LIMIT ?", (MAX_DUPLICATES_REPORTED,)
        ).fetchall():
            lines = [row[0] for row in db.execute(
                "SELECT line FROM k WHERE col = ? AND value = ? ORDER BY line LIMIT ?",
                (col, value, LINES_PER_DUPLICATE))]
            shown = ", ".join(map(str, lines)) + (f" and {times - len(lines)} more" if times > len(lines) else "")
            errors.append(FormatError(
                "duplicate_key", f"{why[col]} {self.names[col]!r} must be unique; "
                f"{value!r} is on {times} rows: lines {shown}",
                file=file, line=lines[1], column=self.names[col], value=value))
        return errors, total

    def close(self) -> None:
        self.db.close()


def effective_markers(field: Any, resource_markers: Iterable[str] | None) -> frozenset[str]:
    own = getattr(field, "missing_values", None)
    chosen = own if own is not None else resource_markers
    return frozenset(chosen if chosen is not None else DEFAULT_MISSING) | {""}


class RowRules:
    """Markers, constraints and uniqueness for the fields of one resource.

    ``fields`` are Field rows or FieldSpecs: anything with name, type, missing_values
    and constraints (the JSON-safe dict).
    """

    def __init__(self, fields: Sequence[Any], resource_markers: Iterable[str] | None = None,
                 primary_key: str | None = None) -> None:
        resource_markers = list(resource_markers) if resource_markers is not None else None
        self.markers = [
            (i, found) for i, f in enumerate(fields)
            if (found := effective_markers(f, resource_markers)) != frozenset(DEFAULT_MISSING)
        ]
        self.columns: list[_ColumnRules] = []
        unique: list[int] = []
        self.why_unique: dict[int, str] = {}
        for index, f in enumerate(fields):
            declared = getattr(f, "constraints", None) or {}
            is_key = f.name == primary_key
            if is_key or declared.get("unique"):
                self.why_unique[len(unique)] = "primary key" if is_key else "field"
                unique.append(index)
            rules = _compile(index, f, declared, is_key)
            if rules is not None:
                self.columns.append(rules)
        self.unique = unique
        self.finder = DuplicateFinder([fields[i].name for i in unique]) if unique else None

    def clean(self, values: list[Any]) -> list[Any]:
        """The cells with missing-value markers replaced by None."""
        for index, found in self.markers:
            value = values[index]
            if isinstance(value, str) and value.strip() in found:
                values[index] = None
        return values

    def check(self, typed: Sequence[Any], line: int, file: str | None) -> list[FormatError]:
        errors = []
        for rules in self.columns:
            problem = _violation(rules, typed[rules.index])
            if problem:
                code, message = problem
                value = typed[rules.index]
                errors.append(FormatError(code, message, file=file, line=line, column=rules.name,
                                          value=None if value is None else str(value)[:200]))
        if not errors and self.finder is not None:
            for position, index in enumerate(self.unique):
                if typed[index] is not None:
                    self.finder.add(position, typed[index], line)
        return errors

    def finish(self, file: str | None) -> tuple[list[FormatError], int]:
        if self.finder is None:
            return [], 0
        try:
            return self.finder.duplicates(file, self.why_unique)
        finally:
            self.close()

    def close(self) -> None:
        if self.finder is not None:
            self.finder.close()
            self.finder = None


def _compile(index: int, f: Any, declared: dict[str, Any], is_key: bool) -> _ColumnRules | None:
    required = "primary key" if is_key else ("required" if declared.get("required") else None)
    convert = converter_for(f.type)
    rules = _ColumnRules(index, f.name, required)
    if "minimum" in declared:
        rules.low = convert(declared["minimum"])
    if "maximum" in declared:
        rules.high = convert(declared["maximum"])
    if "enum" in declared:
        rules.allowed = frozenset(convert(v) for v in declared["enum"])
    if "pattern" in declared:
        rules.regex = re.compile(declared["pattern"])
    rules.min_length = declared.get("min_length")
    rules.max_length = declared.get("max_length")
    active = (rules.required, rules.low, rules.high, rules.allowed, rules.regex, rules.min_length, rules.max_length)
    return rules if any(x is not None for x in active) else None


def _violation(rules: _ColumnRules, value: Any) -> tuple[str, str] | None:
    if value is None:
        if rules.required == "primary key":
            return "required_value", "the primary key needs a value in every row"
        if rules.required:
            return "required_value", "the field is required; the cell is empty or a missing-value marker"
        return None
    if rules.low is not None and value < rules.low:
        return "constraint_failed", f"below the minimum {rules.low}"
    if rules.high is not None and value > rules.high:
        return "constraint_failed", f"above the maximum {rules.high}"
    if rules.allowed is not None and value not in rules.allowed:
        shown = ", ".join(sorted(map(str, rules.allowed))[:10])
        return "constraint_failed", f"not one of the allowed values ({shown})"
    if rules.regex is not None and not rules.regex.fullmatch(value):
        return "constraint_failed", f"does not match the pattern {rules.regex.pattern!r}"
    if rules.min_length is not None and len(value) < rules.min_length:
        return "constraint_failed", f"shorter than {rules.min_length} characters"
    if rules.max_length is not None and len(value) > rules.max_length:
        return "constraint_failed", f"longer than {rules.max_length} characters"
    return None
