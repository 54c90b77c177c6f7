"""Every demo dataset, in catalogue order."""

from __future__ import annotations

from typing import Final

from .specs import DatasetDef
from .specs_licensed import LICENSED_DATASETS
from .specs_open import OPEN_DATASETS

DATASETS: Final[tuple[DatasetDef, ...]] = OPEN_DATASETS + LICENSED_DATASETS
DATASET_BY_ID: Final = {d.id: d for d in DATASETS}
