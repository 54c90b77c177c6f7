"""The plugin's tests drive a real portal with the core's own test helpers (tests/ at the
repository's root: this first-party plugin lives in the same repository)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
