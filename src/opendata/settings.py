"""Settings for a portal or an embedding host.

Values come from keyword arguments first, then ``OPENDATA_*`` environment variables, then
defaults. Creating a Settings object touches no file and opens no connection.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "OPENDATA_"


def shipped_catalogues_dir() -> Path:
    """Where the catalogues shipped with opendata live (wheel or source checkout)."""
    packaged = Path(__file__).parent / "_catalogues"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "catalogues"


def demo_catalogue_path() -> Path:
    return shipped_catalogues_dir() / "guangzhou-demo"


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _parse_paths(text: str) -> tuple[Path, ...]:
    return tuple(Path(part) for part in text.split(os.pathsep) if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a portal process needs to know; immutable once built."""

    data_dir: Path = Path("opendata-data")
    database_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    api_prefix: str = ""
    catalogues: tuple[Path, ...] = field(default_factory=lambda: (demo_catalogue_path(),))
    load_catalogues_on_startup: bool = True
    debug: bool = False
    search_page_size_max: int = 100
    rows_page_size_max: int = 1000
    xlsx_max_rows_per_sheet: int = 1_048_576
    # Who runs the catalogue: the publisher of the DCAT catalogue and of its data services.
    catalogue_operator: str = "广州市政务服务和数据管理局"
    token_issuer: str | None = None
    token_audience: str = "opendata-api"
    token_lifetime_seconds: int = 900
    secure_cookies: bool = True
    session_lifetime_seconds: int = 8 * 3600
    # Encrypts token signing keys at rest; kept out of repr() so it never reaches a log.
    signing_key_passphrase: str | None = field(default=None, repr=False)

    _parsers = {
        "data_dir": Path,
        "database_url": str,
        "base_url": str,
        "api_prefix": str,
        "catalogues": _parse_paths,
        "load_catalogues_on_startup": _parse_bool,
        "debug": _parse_bool,
        "search_page_size_max": int,
        "rows_page_size_max": int,
        "xlsx_max_rows_per_sheet": int,
        "catalogue_operator": str,
        "token_issuer": str,
        "token_audience": str,
        "token_lifetime_seconds": int,
        "secure_cookies": _parse_bool,
        "session_lifetime_seconds": int,
        "signing_key_passphrase": str,
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from ``OPENDATA_*`` variables, with keyword overrides winning."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, parse in cls._parsers.items():
            raw = environ.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                raise ValueError(f"{ENV_PREFIX}{name.upper()}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opendata.db').resolve()}"

    @property
    def issuer(self) -> str:
        return self.token_issuer or self.base_url.rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
