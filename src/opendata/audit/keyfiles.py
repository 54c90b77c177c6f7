"""Key material that lives outside the database (docs/security.md, "The audit's trust model").

Three secrets, each from the environment or else from a file in ``<data dir>/keys/``
created on first use with mode 0600 (the directory 0700):

- the audit HMAC key (``OPENDATA_AUDIT_KEY``, 64 hex digits; file ``audit-hmac.key``),
  which keys the audit chain so a database writer cannot recompute record hashes;
- the Ed25519 key that signs audit checkpoints (file ``audit-checkpoint-ed25519.pem``, or
  ``OPENDATA_AUDIT_SIGNING_KEY_PATH``), whose public half is written next to it (``.pub``)
  for outside verifiers;
- the key-encryption key (``OPENDATA_KEK``, 64 hex digits; file ``kek.key``) that seals the
  token signing keys stored in the database (access/keys.py).

They are deliberately not in the database: the point is that reading or writing the
database alone is not enough to forge an audit trail or mint a token.

``append`` only has a session, so the material is found by the database URL: the plugin and
the CLI register theirs (``configure``); a process that did not, gets the material of
``Settings.from_env()`` (its environment and data dir) on first use.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from opendata.extensions.crypto import Suites, default_suites

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from opendata.settings import Settings

HMAC_KEY_FILE = "audit-hmac.key"
SIGNING_KEY_FILE = "audit-checkpoint-ed25519.pem"
KEK_FILE = "kek.key"
CHECKPOINT_FILE = "audit-checkpoints.jsonl"


def _hex_key(name: str, text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be 64 hex digits (32 bytes)") from None
    if len(key) != 32:
        raise ValueError(f"{name} must be 64 hex digits (32 bytes), not {len(key)} bytes")
    return key


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes, creating it first (mode 0600) if it does not exist.

    Processes starting at once must end up with one key: each writes a private temporary
    file and hard-links it into place, which fails for all but the first (link never
    replaces), and the losers read the winner's complete file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(make())
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes()


def key_id(public_key: Ed25519PublicKey) -> str:
    """RFC 6962 style log id: SHA-256 of the public key (raw bytes), hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(path: Path) -> Ed25519PublicKey:
    loaded = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return loaded


@dataclass
class KeyMaterial:
    """One deployment's secrets and checkpoint settings; keys are read on first use."""

    keys_dir: Path
    audit_key: str | None = field(default=None, repr=False)
    kek_text: str | None = field(default=None, repr=False)
    signing_key_path: Path | None = None
    checkpoint_file: Path | None = None
    witness_dir: Path | None = None
    checkpoint_every_records: int = 1000
    checkpoint_every_seconds: float = 300.0
    # The crypto suites (opendata.extensions.crypto): the selected one hashes new audit
    # records and wraps keys; every known one verifies and unwraps what it made.
    crypto: Suites = field(default_factory=default_suites, repr=False)
    _cache: dict[str, object] = field(default_factory=dict, repr=False)
    _checked: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def from_settings(cls, settings: "Settings", crypto: Suites | None = None) -> "KeyMaterial":
        """``crypto``: the application's suites (default: those ``settings`` selects and enables)."""
        from opendata.extensions.crypto import suites_for

        keys_dir = settings.data_dir / "keys"
        return cls(
            keys_dir=keys_dir, audit_key=settings.audit_key, kek_text=settings.kek,
            signing_key_path=settings.audit_signing_key_path or keys_dir / SIGNING_KEY_FILE,
            checkpoint_file=settings.data_dir / CHECKPOINT_FILE, witness_dir=settings.audit_witness_dir,
            checkpoint_every_records=settings.audit_checkpoint_every_records,
            checkpoint_every_seconds=settings.audit_checkpoint_every_seconds,
            crypto=crypto or suites_for(settings),
        )

    def _once(self, name: str, load: Callable[[], object]) -> object:
        with _material_lock:
            if name not in self._cache:
                self._cache[name] = load()
            return self._cache[name]

    def checked(self, database_url: object) -> bool:
        """Whether this key was already found to match the chain's head in ``database_url``."""
        return _url_key(database_url) in self._checked

    def mark_checked(self, database_url: object) -> None:
        self._checked.add(_url_key(database_url))

    @property
    def hmac_key(self) -> bytes:
        def load() -> bytes:
            if self.audit_key:
                return _hex_key("OPENDATA_AUDIT_KEY", self.audit_key)
            text = read_or_create(self.keys_dir / HMAC_KEY_FILE, lambda: secrets.token_hex(32).encode())
            return _hex_key(str(self.keys_dir / HMAC_KEY_FILE), text.decode("ascii"))
        return self._once("hmac", load)  # type: ignore[return-value]

    @property
    def kek(self) -> bytes:
        def load() -> bytes:
            if self.kek_text:
                return _hex_key("OPENDATA_KEK", self.kek_text)
            text = read_or_create(self.keys_dir / KEK_FILE, lambda: secrets.token_hex(32).encode())
            return _hex_key(str(self.keys_dir / KEK_FILE), text.decode("ascii"))
        return self._once("kek", load)  # type: ignore[return-value]

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        def load() -> Ed25519PrivateKey:
            path = self.signing_key_path or self.keys_dir / SIGNING_KEY_FILE
            pem = read_or_create(path, lambda: Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            key = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
            public = path.with_name(path.name + ".pub")
            if not public.exists():  # for verifiers elsewhere; public, so no 0600
                public.write_bytes(key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
            return key
        return self._once("signing", load)  # type: ignore[return-value]

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()


# Module-level, not a field: Litestar deep-copies application state, and locks cannot be copied.
_material_lock = threading.RLock()
_registry: dict[str, KeyMaterial] = {}
_registry_lock = threading.Lock()


def _url_key(url: object) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=False)  # type: ignore[arg-type]


def configure(database_url: str, material: KeyMaterial) -> KeyMaterial:
    """Use ``material`` for the database at ``database_url`` in this process."""
    with _registry_lock:
        _registry[_url_key(database_url)] = material
    return material


def material_for_url(database_url: object) -> KeyMaterial:
    key = _url_key(database_url)
    with _registry_lock:
        material = _registry.get(key)
        if material is None:
            from opendata.settings import Settings

            material = _registry[key] = KeyMaterial.from_settings(Settings.from_env())
        return material


def material_for(session: "Session") -> KeyMaterial:
    return material_for_url(session.get_bind().url)
