"""Read uploaded CSV files lazily, whatever their encoding among UTF-8 and GB18030.

Chinese publishers send UTF-8 (with or without the BOM Excel adds) and GBK/GB2312
exports from older tools; GB18030 decodes all of the latter. The encoding is guessed
from a leading sample, and every later byte is still decoded strictly, so a file that
changes encoding halfway fails with the line it failed on instead of importing garbage.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from .columns import Column
from .errors import FormatError
from .headers import RowRecord, match_header
from .limits import DEFAULT_LIMITS, ReadLimits

SAMPLE_SIZE = 64 * 1024
READ_BUFFER_SIZE = 64 * 1024
CANDIDATE_ENCODINGS = ("utf-8", "gb18030")
# Control characters other than tab, line ends, form feed and the DOS end-of-file mark
# do not occur in real text; a share of them above this means the file is binary.
_CONTROL_SHARE_LIMIT = 0.01
_TEXT_CONTROLS = frozenset("\t\n\r\f\x1a")


def _unknown_encoding(file: str | None, reason: str) -> FormatError:
    return FormatError(
        "unknown_encoding",
        f"{reason}; save the file as CSV in UTF-8 (Excel: 'CSV UTF-8') or GBK/GB18030",
        file=file,
    )


def detect_encoding(sample: bytes, *, complete: bool, file: str | None = None) -> str:
    """Return "utf-8-sig", "utf-8" or "gb18030" for a leading sample of a file.

    ``complete`` says the sample is the whole file (so a cut multi-byte character at its
    end is an error rather than the sample boundary).
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _unknown_encoding(file, "the file is UTF-16 (Excel 'Unicode text'), not supported")
    if sample.startswith(b"PK\x03\x04"):
        raise _unknown_encoding(file, "the file is a ZIP archive (an XLSX workbook?), not CSV")
    if b"\x00" in sample:
        raise _unknown_encoding(file, "the file contains NUL bytes: it is binary, not text")
    furthest_failure = 0
    for encoding in CANDIDATE_ENCODINGS:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
        except UnicodeDecodeError as error:
            furthest_failure = max(furthest_failure, error.start)
            continue
        controls = sum(1 for char in text if char < " " and char not in _TEXT_CONTROLS)
        if controls > len(text) * _CONTROL_SHARE_LIMIT:
            raise _unknown_encoding(file, "the file contains control characters: it is binary")
        return encoding
    # Where the encoding that got further stopped: for a GBK file with one stray byte,
    # that is the line to fix.
    error = _unknown_encoding(file, "the file is neither UTF-8 nor GB18030/GBK text")
    error.line = sample[:furthest_failure].count(b"\n") + 1
    raise error


class _ReplayedStream(io.RawIOBase):
    """The bytes of ``sample`` followed by the rest of ``source``.

    Lets us sniff any binary stream (also unseekable uploads) without seeking back.
    """

    def __init__(self, sample: bytes, source: BinaryIO) -> None:
        self._sample = memoryview(sample)
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._sample:
            count = min(len(buffer), len(self._sample))
            buffer[:count] = self._sample[:count]
            self._sample = self._sample[count:]
            return count
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_sample(source: BinaryIO, size: int) -> bytes:
    parts, remaining = [], size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        if not isinstance(part, bytes):
            raise TypeError("read_csv needs a path or a file opened in binary mode")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class CsvTable:
    """An open CSV file: ``encoding`` and ``header`` are known, rows are read on iteration.

    Iterating yields RowRecord(line, values) for every non-blank record and raises
    FormatError for a ragged row ("ragged_row"), broken quoting ("malformed_csv") or a
    byte that does not decode ("invalid_encoding"). Use as a context manager, or iterate
    to the end, to close a file that was opened from a path.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        columns: Sequence[Column] | None = None,
        *,
        allow_extra_columns: bool = False,
        limits: ReadLimits = DEFAULT_LIMITS,
    ) -> None:
        self.limits = limits
        if isinstance(source, (str, os.PathLike)):
            self.file: str | None = os.fspath(source)
            binary: BinaryIO = open(source, "rb")
            self._owned: BinaryIO | None = binary
        else:
            self.file = getattr(source, "name", None)
            if not isinstance(self.file, str):
                self.file = None
            binary, self._owned = source, None
        self.columns = tuple(columns) if columns is not None else None
        self._text: io.TextIOWrapper | None = None
        try:
            sample = _read_sample(binary, SAMPLE_SIZE)
            self.encoding = detect_encoding(
                sample, complete=len(sample) < SAMPLE_SIZE, file=self.file
            )
            buffered = io.BufferedReader(_ReplayedStream(sample, binary), READ_BUFFER_SIZE)
            # newline="" hands line ends to the csv module, which needs them to keep
            # newlines inside quoted cells; errors="strict" is what catches a late bad byte.
            self._text = io.TextIOWrapper(buffered, encoding=self.encoding, errors="strict", newline="")
            self._reader = csv.reader(self._text, strict=True)
            header_record = self._next_record()
            if header_record is None:
                raise FormatError("empty_file", "the file has no header row", file=self.file)
            self.header_line, cells = header_record
            self.header = [cell.strip() for cell in cells]
            if len(self.header) > limits.max_columns:
                raise FormatError("too_many_columns", f"the header has {len(self.header):,} columns; "
                                  f"at most {limits.max_columns:,}", file=self.file, line=self.header_line)
            self._positions = (
                match_header(
                    self.header, self.columns, file=self.file, line=self.header_line,
                    allow_extra_columns=allow_extra_columns,
                )
                if self.columns is not None
                else None
            )
        except BaseException:
            self.close()
            raise

    def _next_record(self) -> tuple[int, list[str]] | None:
        """The next non-blank record and the line it starts on, or None at the end."""
        reader = self._reader
        while True:
            start_line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return None
            except UnicodeDecodeError as error:
                # The text layer decodes ahead in blocks; the bad byte's line is the line
                # after the last one read plus the line ends before it in the failed block.
                bad_line = reader.line_num + 1 + error.object[: error.start].count(b"\n")
                raise FormatError(
                    "invalid_encoding",
                    f"byte {error.object[error.start:error.start + 1]!r} cannot be decoded as "
                    f"{self.encoding}, which the start of the file uses; the file mixes encodings",
                    file=self.file, line=bad_line,
                ) from None
            except csv.Error as error:
                raise FormatError(
                    "malformed_csv", f"broken CSV: {error}", file=self.file, line=reader.line_num
                ) from None
            if any(cells):
                return start_line, cells

    def __iter__(self) -> Iterator[RowRecord]:
        try:
            width = len(self.header)
            positions = self._positions
            rows, max_rows = 0, self.limits.max_rows
            while (record := self._next_record()) is not None:
                line, cells = record
                rows += 1
                if rows > max_rows:
                    raise FormatError("too_many_rows", f"the file has more than {max_rows:,} rows",
                                      file=self.file, line=line)
                if len(cells) != width:
                    raise FormatError(
                        "ragged_row",
                        f"the row has {len(cells)} cells but the header has {width}",
                        file=self.file, line=line,
                    )
                yield RowRecord(line, cells if positions is None else [cells[i] for i in positions])
        finally:
            self.close()

    def close(self) -> None:
        if self._text is not None:
            # Stops at _ReplayedStream: a stream the caller passed in stays open.
            self._text.close()
            self._text = None
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def read_csv(
    source: str | os.PathLike[str] | BinaryIO,
    columns: Sequence[Column] | None = None,
    *,
    allow_extra_columns: bool = False,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> CsvTable:
    """Open a CSV file (path or binary file object), detect its encoding and read its header.

    Iterate the result for the rows. With ``columns``, the header must name each column
    (by field name, Chinese, English or bilingual title) and rows come in column order.
    """
    return CsvTable(source, columns, allow_extra_columns=allow_extra_columns, limits=limits)
