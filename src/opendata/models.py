"""Imports every domain's tables so that Base.metadata knows the whole schema."""

from opendata.catalogue import models as catalogue_models  # noqa: F401
