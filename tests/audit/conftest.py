"""Audit tests share the access tests' catalogue, fixtures and cheap password hashing."""

from tests.access.conftest import catalogue_dir, cheap_password_hashing, licensed  # noqa: F401
