"""python -m opendata.portal.screenshots: a demo portal of its own, seeded, photographed.

A module of its own: Playwright's sync API cannot start while test_browser.py's browser
(a module fixture) is still running in the same thread.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opendata.portal import screenshots


@pytest.mark.slow
@pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(), reason=f"{screenshots.CHROMIUM} is not installed")
def test_screenshots_command_builds_its_own_demo_portal(tmp_path: Path) -> None:
    assert screenshots.main(["--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in written] == sorted(f"{shot.name}.png" for shot in screenshots.SHOTS)
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 20_000
