"""The one error type of opendata.formats, rich enough for an ingest report."""

from __future__ import annotations

from typing import Any


class FormatError(Exception):
    """A problem with a file or a value, with where it happened.

    ``code`` is stable and machine-readable (e.g. "unknown_encoding", "ragged_row",
    "invalid_value"); ``message`` is for people. ``file``, ``line`` (row number as the
    user sees it), ``column`` and ``value`` are filled in when known so that a caller can
    report "file, row, column, value, reason" without parsing the message.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        value: Any = None,
    ) -> None:
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __str__(self) -> str:
        # Recomputed so that a caller filling in file/line after the fact is reflected.
        return self._describe()

    def as_dict(self) -> dict[str, Any]:
        """The JSON-friendly shape used in error responses and ingest reports."""
        value = self.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": value,
        }


class UnknownFormatError(FormatError):
    """Asked for an export format that the registry does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            "unknown_format",
            f"unknown format {name!r}; choose one of {', '.join(known)}",
            value=name,
        )
