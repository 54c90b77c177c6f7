"""HTTP validators and links of a dataset's metadata (``/api/v1/datasets/{id}``).

The document holds live usage counters (``views``, ``downloads``): every GET counts a
view, so its bytes change on each request and a validator over them would never match a
client's copy. The ETag is therefore weak (``W/``): it covers every byte of the document
except those two counters, and changes whenever anything else does (a catalogue reload,
a reingest, a new licence URL). Last-Modified is the latest of the dataset's update and
its resources' ingestion.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from litestar.serialization import encode_json

from opendata.catalogue.models import Dataset
from opendata.catalogue.schemas import DatasetOut
from opendata.httpconv.conditional import Validators, link_header, weak_etag

DCAT_JSONLD = "application/ld+json"
DATAPACKAGE = "application/vnd.datapackage+json"


def last_modified(dataset: Dataset) -> datetime:
    moments = [dataset.updated_at] + [r.ingested_at for r in dataset.resources if r.ingested_at]
    return max(m for m in moments if m is not None)


def metadata_validators(dataset: Dataset, out: DatasetOut) -> Validators:
    stable = encode_json(replace(out, views=0, downloads=0))
    return Validators(weak_etag(stable.decode("utf-8")), last_modified(dataset))


def describedby(root: str, dataset: Dataset) -> str:
    """Link header: the dataset's DCAT-AP document and, for tabular data, its Data Package."""
    links = [(f"{root}/dataset/{dataset.id}.jsonld", "describedby", DCAT_JSONLD)]
    if any(r.is_tabular for r in dataset.resources):
        links.append((f"{root}/dataset/{dataset.id}/datapackage.json", "describedby", DATAPACKAGE))
    return link_header(links)
