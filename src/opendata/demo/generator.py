"""Deterministic synthetic data for the Guangzhou demo catalogue, at any size.

    generate_rows("bus-stops")                  # the shipped 1,500 rows
    generate_rows("bus-stops", rows=5_000_000)  # lazily, in constant memory
    write_csv("air-quality-daily", "aq.csv")
    regenerate_demo(Path("catalogues/guangzhou-demo"))

Command line::

    python -m opendata.demo.generator                        # rewrite the shipped catalogue
    python -m opendata.demo.generator --dataset bus-stops --rows 1000000 --out stops.csv
    python -m opendata.demo.generator --list

Same seed, same bytes: all randomness comes from ``random.Random`` instances seeded with
(seed, dataset, index) text, never from the global generator, the clock or hash order.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Final

from . import datasets_enterprise as ent
from . import datasets_facilities as fac
from . import datasets_observations as obs
from .manifest import render_manifest
from .population import BASE_ENTERPRISES, BASE_PERSONS, DEFAULT_SEED
from .dataset_specs import DATASET_BY_ID, DATASETS
from .specs import DatasetDef
from .synthetic import synthetic_catalogue

__all__ = [
    "DEFAULT_SEED", "DEMO_DATASETS", "csv_cell", "earlier_release", "field_names", "format_value", "generate_rows",
    "regenerate_demo", "shipped_rows", "synthetic_catalogue", "write_csv", "write_xlsx",
]

Row = dict[str, object]

# Datasets with a fixed shipped size: an endless stream, of which the file is a prefix.
_FIXED: Final[dict[str, tuple[Callable[[int], Iterator[Row]], int]]] = {
    "bus-stops": (fac.bus_stop_rows, 1500),
    "medical-institutions": (fac.medical_institution_rows, 700),
    "schools": (fac.school_rows, 900),
    "air-quality-daily": (obs.air_quality_rows, len(obs.AIR_STATIONS) * 366),
    "public-libraries": (fac.library_rows, 320),
    "public-parking": (fac.parking_rows, 1000),
    "agri-wholesale-prices": (
        obs.agri_price_rows, obs.AGRI_WEEKS * sum(len(p) for _, p in obs.AGRI_MARKETS)),
    "construction-permits": (ent.construction_permit_rows, 480),
}
# Datasets over a population: the shipped file covers the base population.
_POPULATION: Final[dict[str, tuple[Callable[[int, int | None], Iterator[Row]], int]]] = {
    "enterprise-registrations": (ent.registration_rows, BASE_ENTERPRISES),
    "tax-credit-ratings": (ent.tax_credit_rows, BASE_ENTERPRISES),
    "social-insurance-headcounts": (ent.headcount_rows, BASE_ENTERPRISES),
    "administrative-penalties": (ent.penalty_rows, BASE_ENTERPRISES),
    "enterprise-tax-payments": (ent.tax_payment_rows, BASE_ENTERPRISES),
    "personal-social-insurance": (ent.personal_contribution_rows, BASE_PERSONS),
}

DEMO_DATASETS: Final[tuple[str, ...]] = tuple(d.id for d in DATASETS)
"""The ids of the demo datasets that have generated data, in manifest order."""

assert set(DEMO_DATASETS) == set(_FIXED) | set(_POPULATION)

FIXED_TIMESTAMP: Final = datetime(2024, 11, 1, 0, 0, 0)
"""What XLSX files give as created/modified time, so they are byte-for-byte reproducible."""


def _dataset(dataset_id: str) -> DatasetDef:
    try:
        return DATASET_BY_ID[dataset_id]
    except KeyError:
        raise ValueError(
            f"unknown demo dataset {dataset_id!r}; expected one of {', '.join(DEMO_DATASETS)}"
        ) from None


def field_names(dataset_id: str) -> list[str]:
    """The field names of the dataset's table, in order (= the manifest's data dictionary)."""
    return [f.name for f in _dataset(dataset_id).resource.fields]


def generate_rows(
    dataset_id: str, rows: int | None = None, seed: int = DEFAULT_SEED
) -> Iterator[dict[str, object]]:
    """Rows of a demo dataset as dicts of typed Python values, lazily.

    ``rows=None`` gives the shipped rows; any count streams that many in constant memory
    (a larger count continues the shipped rows: more stops, more stations, more
    enterprises over the same population). Equal arguments always give equal rows.
    """
    _dataset(dataset_id)
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
        raise ValueError(f"rows must be a non-negative whole number or None, got {rows!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if dataset_id in _FIXED:
        stream, shipped = _FIXED[dataset_id]
        source = islice(stream(seed), shipped if rows is None else rows)
    else:
        population_stream, base = _POPULATION[dataset_id]
        source = (population_stream(seed, base) if rows is None
                  else islice(population_stream(seed, None), rows))
    return _lazily(source)


def _lazily(source: Iterator[Row]) -> Iterator[Row]:
    yield from source


def shipped_rows(dataset_id: str, seed: int = DEFAULT_SEED) -> int:
    """How many rows ``generate_rows(dataset_id, seed=seed)`` yields."""
    if dataset_id in _FIXED:
        return _FIXED[dataset_id][1]
    return sum(1 for _ in generate_rows(dataset_id, seed=seed))


# --- writing files ----------------------------------------------------------------------------

def format_value(value: object) -> str:
    """How a typed value is written to CSV: ISO dates, true/false, plain decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# How a source system writes a missing value where it is not an empty cell (the manifest
# declares the marker as a missing value of the resource).
_MISSING_WRITTEN: Final[dict[tuple[str, str], str]] = {("air-quality-daily", "so2"): "NA"}


def write_csv(
    dataset_id: str, path: str | os.PathLike[str], rows: int | None = None,
    seed: int = DEFAULT_SEED,
) -> int:
    """Write a dataset as UTF-8 CSV (no BOM, ``\\n`` line ends, header = field names).

    Returns the number of data rows written.
    """
    return _write_rows(dataset_id, path, generate_rows(dataset_id, rows, seed))


def csv_cell(dataset_id: str, name: str, value: object) -> str:
    """What the demo's CSV file of ``dataset_id`` holds for ``value`` in column ``name``."""
    if value is None:
        return _MISSING_WRITTEN.get((dataset_id, name), "")
    return format_value(value)


def _write_rows(dataset_id: str, path: str | os.PathLike[str], source: Iterable[Row]) -> int:
    names = field_names(dataset_id)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in source:
            writer.writerow([csv_cell(dataset_id, name, row[name]) for name in names])
            written += 1
    return written


def write_xlsx(
    dataset_id: str, path: str | os.PathLike[str], rows: int | None = None,
    seed: int = DEFAULT_SEED,
) -> int:
    """Write a dataset as an XLSX workbook (openpyxl write-only), header row = field names.

    The sheet is named after the resource id. The file is reproducible byte for byte:
    fixed document timestamps, fixed ZIP entry times and stored (uncompressed) entries,
    so the bytes do not depend on the clock or on the zlib build. Returns the row count.
    """
    from openpyxl import Workbook

    ds = _dataset(dataset_id)
    names = field_names(dataset_id)
    source = generate_rows(dataset_id, rows, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "opendata demo generator"
    workbook.properties.created = FIXED_TIMESTAMP
    sheet = workbook.create_sheet(title=ds.resource.id)
    sheet.append(names)
    written = 0
    for row in source:
        sheet.append([row[name] for name in names])
        written += 1
    handle, raw_name = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(handle)
    raw = Path(raw_name)
    try:
        workbook.save(raw)
        _reproducible_zip(raw, path)
    finally:
        raw.unlink(missing_ok=True)
    return written


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _reproducible_zip(source: Path, target: Path) -> None:
    """Copy a ZIP with fixed entry metadata and stored entries, streaming large members."""
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if item.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", zin.read(item))
                zout.writestr(info, data)
                continue
            with zin.open(item) as src, zout.open(info, "w", force_zip64=item.file_size > 2**31) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def regenerate_demo(catalogue_dir: Path) -> None:
    """Rewrite ``catalogue.toml`` and every data file of the demo catalogue in ``catalogue_dir``."""
    catalogue_dir = Path(catalogue_dir)
    catalogue_dir.mkdir(parents=True, exist_ok=True)
    for ds in DATASETS:
        target = catalogue_dir / ds.resource.path
        if ds.resource.format == "xlsx":
            write_xlsx(ds.id, target)
        else:
            write_csv(ds.id, target)
        for release, path in enumerate(ds.resource.history, start=1):
            _write_rows(ds.id, catalogue_dir / path, earlier_release(ds.id, release, len(ds.resource.history)))
    (catalogue_dir / "catalogue.toml").write_bytes(render_manifest().encode("utf-8"))


def earlier_release(dataset_id: str, release: int, releases: int, seed: int = DEFAULT_SEED) -> Iterator[Row]:
    """The rows of an earlier release (1 = the oldest) of a dataset with a history: the
    shipped rows as they stood ``releases - release + 1`` snapshots before the current one.

    Going back one snapshot: the lots opened since are not there yet, a few lots closed
    since are still listed, and a few rates and free-space counts differ. Deterministic,
    like the rest; the row store's diff (opendata.versions) then finds exactly these."""
    if dataset_id != "public-parking":
        raise ValueError(f"the demo keeps no earlier releases of {dataset_id!r}")
    back = releases - release + 1
    current = list(generate_rows(dataset_id, seed=seed))
    opened = 12 * back  # the newest lots, not open yet
    rows = current[:len(current) - opened]
    closed = list(generate_rows(dataset_id, rows=len(current) + 5 * back, seed=seed))[len(current):]
    for row in closed:  # lots listed then, closed since (numbers the current file never uses)
        row["parking_id"] = "GZP9" + row["parking_id"][4:]
    rng = random.Random(f"{seed}:{dataset_id}:release:{release}")
    out = []
    for row in rows:
        row = dict(row)
        if rng.random() < 0.03:
            row["first_hour_rate"] = (row["first_hour_rate"] - 1 if row["first_hour_rate"] > 2
                                      else row["first_hour_rate"] + 1)
        if rng.random() < 0.1:  # a lot whose snapshot was taken again: other free spaces
            row["available_spaces"] = rng.randint(0, row["total_spaces"])
            row["updated_at"] = row["updated_at"] - timedelta(days=back)
        out.append(row)
    yield from out + closed


# --- command line -------------------------------------------------------------------------------

def default_catalogue_dir() -> Path:
    """catalogues/guangzhou-demo of the source checkout this module runs from."""
    return Path(__file__).resolve().parents[3] / "catalogues" / "guangzhou-demo"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m opendata.demo.generator",
        description="Regenerate the Guangzhou demo catalogue, or write one demo dataset at any size.",
    )
    parser.add_argument("--dataset", choices=DEMO_DATASETS, help="write only this dataset")
    parser.add_argument("--rows", type=int, help="number of rows (default: the shipped size)")
    parser.add_argument("--out", type=Path, help="output file (default: <dataset>.<format>)")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--catalogue", type=Path, default=None,
                        help="catalogue folder to regenerate (default: catalogues/guangzhou-demo)")
    parser.add_argument("--list", action="store_true", help="list the demo datasets and their sizes")
    args = parser.parse_args(argv)

    if args.list:
        for ds in DATASETS:
            print(f"{ds.id:30} {ds.domain:16} {ds.open_level:14} {shipped_rows(ds.id):>7} "
                  f"{ds.resource.path}")
        return 0
    if args.rows is not None and args.rows < 0:
        parser.error("--rows must not be negative")
    if args.dataset is None:
        if args.rows is not None or args.out is not None or args.seed != DEFAULT_SEED:
            parser.error("--rows, --out and --seed need --dataset (the shipped catalogue uses defaults)")
        folder = args.catalogue or default_catalogue_dir()
        if args.catalogue is None and not folder.parent.is_dir():
            parser.error(f"no source checkout with {folder.parent}; say where with --catalogue DIR")
        regenerate_demo(folder)
        print(f"regenerated {len(DEMO_DATASETS)} datasets in {folder}")
        return 0
    out = args.out or Path(f"{args.dataset}.{args.format}")
    writer = write_xlsx if args.format == "xlsx" else write_csv
    count = writer(args.dataset, out, rows=args.rows, seed=args.seed)
    print(f"wrote {count} rows of {args.dataset} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
