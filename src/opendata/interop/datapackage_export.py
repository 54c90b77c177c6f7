"""``opendata catalogue export --datapackage DIR``: the Data Packages of open datasets on disk.

Each unconditionally open dataset becomes ``DIR/<dataset id>/datapackage.json`` beside
its CSV files (``<resource>.csv``): the same package ``/dataset/{id}/datapackage.json``
serves, with each resource's ``path`` the local file, and ``bytes``/``hash`` of it. The
files are the anonymous CSV download's bytes (masks applied, dropped fields absent).
Licensed and closed datasets are never written: their rows need a licence.

All packages are written into a temporary folder inside DIR first and moved into place
at the end, so a failure leaves DIR as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from opendata.catalogue.distribution import anonymous_csv
from opendata.catalogue.models import Dataset
from opendata.errors import AppError
from opendata.interop.frictionless import data_package
from opendata.interop.links import Links


def _open_datasets(session: Session, ids: tuple[str, ...]) -> list[Dataset]:
    if not ids:
        found = session.scalars(select(Dataset).where(Dataset.open_level == "unconditional")
                                .order_by(Dataset.id)).all()
        return list(found)
    datasets = []
    for dataset_id in ids:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            raise AppError(404, "not_found", f"no dataset {dataset_id!r}")
        if dataset.open_level != "unconditional":
            raise AppError(403, "licence_required",
                           f"{dataset_id!r} is {dataset.open_level}: only unconditionally open data is exported")
        datasets.append(dataset)
    return datasets


def _write_package(session: Session, links: Links, dataset: Dataset, folder: Path) -> int:
    """Write one package into ``folder``; the number of data files."""
    folder.mkdir()
    package = data_package(session, links, dataset)
    by_name = {r.id.replace("-", "_"): r for r in dataset.resources}
    for entry in package["resources"]:
        resource = by_name[entry["name"]]
        target = folder / f"{resource.id}.csv"
        digest, size = hashlib.sha256(), 0
        with target.open("wb") as out:
            for chunk in anonymous_csv(session, resource):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        entry["path"], entry["bytes"], entry["hash"] = target.name, size, f"sha256:{digest.hexdigest()}"
    text = json.dumps(package, ensure_ascii=False, indent=2, default=str)
    (folder / "datapackage.json").write_text(text + "\n", encoding="utf-8")
    return len(package["resources"])


def export_data_packages(session: Session, out_dir: Path, base_url: str,
                         dataset_ids: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    """Write the packages of ``dataset_ids`` (default: every open dataset) under ``out_dir``.

    ``base_url`` is the portal's public address, used for the package's links (homepage,
    licence). Returns (dataset id, data files) per package. Existing packages of the same
    datasets are replaced; other entries of ``out_dir`` are left alone.
    """
    datasets = _open_datasets(session, dataset_ids)
    root = base_url.rstrip("/")
    links = Links(api=root, site=root)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".export-") as staging:
        for dataset in datasets:
            written.append((dataset.id, _write_package(session, links, dataset, Path(staging) / dataset.id)))
        for dataset_id, _ in written:
            final = out_dir / dataset_id
            if final.exists():
                shutil.rmtree(final)
            (Path(staging) / dataset_id).rename(final)
    return written
