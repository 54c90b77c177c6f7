"""Download progress: a tqdm bar when tqdm is installed, else a line on stderr that is
rewritten in place; or any callable ``progress(done_bytes, total_bytes_or_None)``."""

from __future__ import annotations

import sys
from typing import Callable, Union

ProgressCallback = Callable[[int, Union[int, None]], None]
Progress = Union[bool, ProgressCallback]


class _Reporter:
    def __init__(self, progress: Progress, total: int | None, label: str) -> None:
        self.done = 0
        self._callback: ProgressCallback | None = progress if callable(progress) else None
        self._bar = None
        self._line = False
        self._total = total
        self._label = label
        if progress is True:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self._line = True
            else:
                self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label)

    def advance(self, size: int) -> None:
        self.done += size
        if self._callback is not None:
            self._callback(self.done, self._total)
        elif self._bar is not None:
            self._bar.update(size)
        elif self._line:
            shown = f"{self.done / self._total:6.1%}" if self._total else f"{self.done:,} B"
            sys.stderr.write(f"\r{self._label}: {shown}")
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._line:
            sys.stderr.write("\n")


def reporter(progress: Progress, total: int | None, label: str) -> _Reporter:
    return _Reporter(progress, total, label)
