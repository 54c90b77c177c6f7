"""A resource's earlier releases, replayed as versions when it is first loaded.

A department that moves a dataset to the portal brings its past releases too: the
manifest lists them (``history = ["history/2024-q1.csv", ...]``, oldest first) and the
first load of that resource loads each in turn before the current ``path``, so the
portal starts with the dataset's versions, diffs and history (opendata.versions) instead
of one version that hides every earlier change. Once a resource is loaded its history is
never replayed again: later releases arrive as ordinary reloads and uploads.

Each replay is one ordinary catalogue load of a copy of the manifest in which the
resources still to be introduced read an earlier file; files that did not change since
the previous load are skipped by the loader, so a resource with a shorter history just
keeps its oldest file until its own releases begin.
"""

from __future__ import annotations

import hashlib
from copy import deepcopy

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from opendata.catalogue.manifest import CatalogueSpec
from opendata.catalogue.models import Resource


def releases_to_replay(engine: Engine, spec: CatalogueSpec) -> list[CatalogueSpec]:
    """The catalogues to load, in order, before ``spec`` itself (none once loaded).

    Every file of the resources to replay (their history and their current file) is
    checked first: a bad cell in any of them raises CatalogueError before any release is
    loaded, so bad input leaves nothing written (each release commits on its own)."""
    listed = {(d.id, r.id): r.history for d in spec.datasets for r in d.resources
              if r.history and r.is_tabular and r.path}
    if not listed:
        return []
    with Session(engine) as session:
        loaded = {tuple(row) for row in session.execute(select(Resource.dataset_id, Resource.id))}
    pending = {key: files for key, files in listed.items() if key not in loaded}
    if pending:
        from opendata.catalogue.ingest import check_data_files

        check_data_files(spec, only=pending)
    depth = max((len(files) for files in pending.values()), default=0)
    releases = []
    for step in range(depth):
        release = deepcopy(spec)
        for dataset in release.datasets:
            for resource in dataset.resources:
                files = pending.get((dataset.id, resource.id))
                if files:
                    # aligned on the current file: the last listed is the one just before it
                    resource.path = files[max(0, step - (depth - len(files)))]
        # never taken for the real manifest: the current load writes that digest
        release.digest = hashlib.sha256(f"history {step + 1}/{depth} of {spec.digest}".encode()).hexdigest()
        releases.append(release)
    return releases
