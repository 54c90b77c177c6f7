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


def _parse_auto_bool(text: str) -> bool | None:
    """``auto`` (or empty): None, decided per request; else a boolean."""
    if text.strip().lower() in {"auto", ""}:
        return None
    return _parse_bool(text)


def _parse_origins(raw: str) -> tuple[str, ...]:
    """``*``, or comma-separated origins (scheme://host[:port], no path); empty: none."""
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not sep or not rest or "/" in rest):
            raise ValueError(f"{origin!r} is not * nor an origin like https://app.example.org")
    return origins


def _parse_timezone(text: str) -> str:
    from opendata.localtime import check_timezone  # zoneinfo is read lazily: no I/O at import

    return check_timezone(text)


def _parse_flush_seconds(text: str) -> float:
    """Seconds from 0 (write each count at once) to 3600; not NaN or infinite."""
    value = float(text)
    if not 0 <= value <= 3600:  # False for NaN too
        raise ValueError(f"{text!r} is not a number of seconds from 0 to 3600")
    return value


def _parse_names(text: str) -> tuple[str, ...]:
    """Comma-separated names (plugins): blanks dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


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
    # Where the portal's days begin (docs/operations.md, "Time zone"): quota days, licence
    # periods and every time a page shows; stored times stay UTC.
    timezone: str = "Asia/Shanghai"
    token_issuer: str | None = None
    token_audience: str = "opendata-api"
    token_lifetime_seconds: int = 900
    # Secure on the session and form cookies (opendata.access.cookies): None ("auto", the
    # default) when the browser reached the portal over https; True or False forces it.
    secure_cookies: bool | None = None
    session_lifetime_seconds: int = 8 * 3600
    # Encrypts token signing keys at rest; kept out of repr() so it never reaches a log.
    signing_key_passphrase: str | None = field(default=None, repr=False)
    # Resource bounds (docs/security.md, "Bounds"): every input a client controls is capped.
    upload_max_bytes: int = 64 * 1024 * 1024
    request_body_max_bytes: int = 8 * 1024 * 1024
    # All JSON and form bodies a process holds at once (uploads stream to disk, not counted);
    # past it a request is 503 busy with Retry-After (opendata.input_guard.BodyBudget).
    bodies_in_flight_max_bytes: int = 128 * 1024 * 1024
    json_max_depth: int = 32
    xlsx_max_uncompressed_bytes: int = 512 * 1024 * 1024
    xlsx_max_shared_strings_bytes: int = 16 * 1024 * 1024
    xlsx_max_sheets: int = 64
    ingest_max_rows: int = 10_000_000
    ingest_max_columns: int = 1024
    ingest_max_cell_chars: int = 32_767
    # Uploads and catalogue loads stage the new rows in short transactions and swap them
    # in at the end (docs/operations.md, "Loading data while serving"). False: the old
    # single long transaction, which on SQLite blocks every other writer (benchmarks only).
    ingest_staged: bool = True
    preview_max_cell_chars: int = 200
    rows_page_max_chars: int = 4_000_000
    query_max_sort_keys: int = 8
    query_max_filters: int = 32
    query_max_in_values: int = 500
    serve_limit_concurrency: int = 1000
    serve_header_timeout_seconds: float = 10.0
    serve_body_timeout_seconds: float = 30.0
    serve_keep_alive_seconds: int = 5
    # Database connections per process and the threads that use them, sized together
    # (docs/operations.md, "Under load"): handler threads never outnumber connections, so
    # no thread holds a worker slot while waiting for a connection. A request that still
    # cannot get one within db_pool_timeout_seconds is answered 503 with Retry-After.
    db_pool_size: int = 20
    db_pool_timeout_seconds: float = 5.0
    # API row query counts are written in batches at most this long after they are taken
    # (and before a report, and at shutdown); 0 writes each at once (opendata.stats.batch).
    usage_flush_seconds: float = 1.0
    # The plugin sizes the event loop's default executor and anyio's thread limiter (both
    # process-wide) to db_pool_size // 2 at start-up. A host application that runs other
    # work in those threads sets this False and sizes them itself (docs/embedding.md).
    manage_handler_threads: bool = True
    # Requests in flight get this long to finish when the server stops (docs/operations.md).
    serve_graceful_shutdown_seconds: float = 1.0
    # Sign-in throttling (docs/security.md, "Sign-in throttling"): per account and per
    # client address, exponential back-off past the free failures, then a lockout.
    signin_free_failures: int = 5
    signin_lockout_failures: int = 10
    signin_address_free_failures: int = 20
    signin_address_lockout_failures: int = 100
    signin_backoff_base_seconds: float = 1.0
    signin_backoff_max_seconds: float = 300.0
    signin_lockout_seconds: int = 900
    signin_failure_window_seconds: int = 3600
    # Strict-Transport-Security: off (0) by default, since the default address is http://.
    hsts_max_age_seconds: int = 0
    hsts_include_subdomains: bool = False
    # Origins whose pages may read open, anonymous data cross-origin (opendata.httpconv):
    # "*" any; else exact origins (https://app.example.org); empty: no CORS at all.
    cors_origins: tuple[str, ...] = ("*",)
    # The audit's keys outside the database (docs/security.md, "The audit's trust model"):
    # 64 hex digits each; unset, they are files in <data dir>/keys/ created on first use (0600).
    audit_key: str | None = field(default=None, repr=False)
    kek: str | None = field(default=None, repr=False)
    # The crypto suite that signs new tokens and certificates, hashes new audit records and
    # wraps stored keys: "default" (ES256, HMAC-SHA256, AES-256-GCM) or one an enabled plugin
    # provides, e.g. "gmcrypto" (docs/security.md, "Crypto suites"). What other known suites
    # made keeps verifying.
    crypto_suite: str = "default"
    audit_signing_key_path: Path | None = None
    audit_witness_dir: Path | None = None
    audit_checkpoint_every_records: int = 1000
    audit_checkpoint_every_seconds: float = 300.0
    # Versions of a table whose rows stay downloadable besides the current one (docs/versions.md).
    versions_kept: int = 3
    # E-mail to the followers of a dataset about its new versions (docs/versions.md,
    # "Following a dataset"): no smtp_host, no mail is sent (the outbox keeps it).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "opendata@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout_seconds: float = 10.0
    mail_poll_seconds: float = 10.0
    mail_retry_seconds: float = 30.0
    mail_max_attempts: int = 8
    # Comments and problem reports one person may post per hour (docs/portal.md, "Ratings and comments").
    comments_per_hour: int = 10
    # Plugins to enable, by entry-point name in the group opendata.plugins (docs/plugins.md);
    # installed but not named here, a plugin does nothing.
    plugins: tuple[str, ...] = ()

    _parsers = {
        "data_dir": Path,
        "database_url": str,
        "base_url": str,
        "api_prefix": str,
        "catalogues": _parse_paths,
        "load_catalogues_on_startup": _parse_bool,
        "ingest_staged": _parse_bool,
        "debug": _parse_bool,
        "search_page_size_max": int,
        "rows_page_size_max": int,
        "xlsx_max_rows_per_sheet": int,
        "catalogue_operator": str,
        "timezone": _parse_timezone,
        "token_issuer": str,
        "token_audience": str,
        "token_lifetime_seconds": int,
        "secure_cookies": _parse_auto_bool,
        "session_lifetime_seconds": int,
        "signing_key_passphrase": str,
        **{name: int for name in (
            "upload_max_bytes", "request_body_max_bytes", "bodies_in_flight_max_bytes", "json_max_depth", "xlsx_max_uncompressed_bytes",
            "xlsx_max_shared_strings_bytes", "xlsx_max_sheets", "ingest_max_rows", "ingest_max_columns",
            "ingest_max_cell_chars", "preview_max_cell_chars", "rows_page_max_chars", "query_max_sort_keys",
            "query_max_filters", "query_max_in_values", "serve_limit_concurrency", "serve_keep_alive_seconds",
            "signin_free_failures", "signin_lockout_failures", "signin_address_free_failures",
            "signin_address_lockout_failures", "signin_lockout_seconds", "signin_failure_window_seconds",
            "hsts_max_age_seconds", "versions_kept", "smtp_port", "mail_max_attempts",
            "comments_per_hour")},
        "smtp_host": str,
        "smtp_from": str,
        "smtp_starttls": _parse_bool,
        "smtp_username": str,
        "smtp_password": str,
        "smtp_timeout_seconds": float,
        "mail_poll_seconds": float,
        "mail_retry_seconds": float,
        "signin_backoff_base_seconds": float,
        "signin_backoff_max_seconds": float,
        "hsts_include_subdomains": _parse_bool,
        "cors_origins": _parse_origins,
        "audit_key": str,
        "kek": str,
        "crypto_suite": str,
        "audit_signing_key_path": Path,
        "audit_witness_dir": Path,
        "audit_checkpoint_every_records": int,
        "audit_checkpoint_every_seconds": float,
        "serve_header_timeout_seconds": float,
        "serve_body_timeout_seconds": float,
        "serve_graceful_shutdown_seconds": float,
        "db_pool_size": int,
        "db_pool_timeout_seconds": float,
        "usage_flush_seconds": _parse_flush_seconds,
        "manage_handler_threads": _parse_bool,
        "plugins": _parse_names,
    }

    def __post_init__(self) -> None:
        _parse_flush_seconds(str(self.usage_flush_seconds))  # a keyword value is checked too
        if isinstance(self.plugins, str):
            object.__setattr__(self, "plugins", _parse_names(self.plugins))
        elif not isinstance(self.plugins, tuple):
            object.__setattr__(self, "plugins", tuple(self.plugins))

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
    def read_limits(self):  # noqa: ANN201 - formats is imported lazily (no I/O at import)
        """The bounds an uploaded data file is read under (opendata.formats.ReadLimits)."""
        from opendata.formats.limits import ReadLimits

        return ReadLimits(
            max_rows=self.ingest_max_rows, max_columns=self.ingest_max_columns,
            max_cell_chars=self.ingest_max_cell_chars, max_uncompressed_bytes=self.xlsx_max_uncompressed_bytes,
            max_shared_strings_bytes=self.xlsx_max_shared_strings_bytes, max_sheets=self.xlsx_max_sheets,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
