"""Names of the dependencies the plugin provides, for handler signatures."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from opendata.db import Database
from opendata.settings import Settings

DbSession: TypeAlias = NamedDependency[Session]
AppSettings: TypeAlias = NamedDependency[Settings]
AppDatabase: TypeAlias = NamedDependency[Database]
