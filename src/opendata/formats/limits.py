"""Bounds on what an uploaded data file may contain, checked while it is read.

A publisher's file is untrusted input: a 200 KB workbook can declare millions of shared
strings or a 5 MB cell referenced from every row. Every reader takes a ``ReadLimits`` and
refuses, with the file, row and column, whatever goes beyond it; memory then stays bounded
by the limits, never by what the file claims.
"""

from __future__ import annotations

from dataclasses import dataclass

# The bounds of the SQL integer types the row store and the ids use, on every backend.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class ReadLimits:
    """Defaults are Excel's own limits where Excel has one (32,767 characters per cell)."""

    max_rows: int = 10_000_000
    max_columns: int = 1024
    max_cell_chars: int = 32_767
    # XLSX only: the zip directory is checked before openpyxl reads anything.
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    # openpyxl holds the whole shared-string table in memory (about 3x its XML size).
    max_shared_strings_bytes: int = 16 * 1024 * 1024
    # Styles and the workbook part are parsed whole as well.
    max_part_bytes: int = 16 * 1024 * 1024
    max_sheets: int = 64
    max_members: int = 10_000


DEFAULT_LIMITS = ReadLimits()


def shortened(text: str, limit: int = 60) -> str:
    """A value as quoted in an error message: never the whole of a huge cell."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
