"""Install a plugin for a test without pip: a ``*.dist-info`` folder with an
``entry_points.txt`` on ``sys.path`` is what importlib.metadata finds."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

EXAMPLE_SOURCE = Path(__file__).parent / "example_plugin"


@contextmanager
def installed_plugins(folder: Path, entry_points: Mapping[str, str], *, source: Path = EXAMPLE_SOURCE,
                      distribution: str = "opendata_example_test") -> Iterator[None]:
    """``entry_points``: plugin name -> "module:attribute", in the group opendata.plugins."""
    info = folder / f"{distribution}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n", encoding="utf-8")
    lines = ["[opendata.plugins]", *(f"{name} = {target}" for name, target in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.path[:0] = [str(folder), str(source)]
    try:
        yield
    finally:
        for entry in (str(folder), str(source)):
            sys.path.remove(entry)
