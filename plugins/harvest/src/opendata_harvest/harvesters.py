"""The ckan and dcat readers as the core's named extension point
(``opendata.extensions.harvest.Harvester``), registered as ``registry.harvesters["ckan"]``
and ``["dcat"]``: any code of the application may read a remote catalogue through them
(``opendata harvest`` itself runs the readers directly, for the listing's completeness
that withdrawing needs). ``metadata`` carries catalogue.toml's dataset keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from opendata.extensions.harvest import RemoteDataset as CoreRemoteDataset

from opendata_harvest import mapping
from opendata_harvest.fetch import Fetcher, host_of
from opendata_harvest.models import HarvestSource
from opendata_harvest.remote import RemoteDataset


def _when(text: str | None) -> datetime | None:
    """A listing's change token as a time: CKAN's metadata_modified, DCAT's dct:modified."""
    raw = (text or "").split("#", 1)[0].strip()
    if not raw:
        return None
    try:
        found = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


class _Harvester:
    kind = ""

    def datasets(self, source_url: str, *, since: datetime | None = None,
                 options: Mapping[str, Any] | None = None) -> Iterator[CoreRemoteDataset]:
        """Options: ``domain`` (default economy), ``licence``, ``max_datasets``, ``client``
        (an httpx.Client); raises FetchError naming the source when it cannot be read."""
        from opendata_harvest.service import make_reader

        opts = dict(options or {})
        source = HarvestSource(name="remote", type=self.kind, url=source_url, catalogue_id="harvest-remote",
                               domain=opts.get("domain", "economy"), open_level="unconditional",
                               licence=opts.get("licence"), id_prefix="", publisher_id=None,
                               max_datasets=int(opts.get("max_datasets", 10_000)), data_hosts=[])
        fetcher = Fetcher({host_of(source_url)}, opts.get("client"))
        try:
            reader = make_reader(source, fetcher)
            for item in reader.listing().items:
                modified = _when(item.version)
                if since is not None and modified is not None and modified <= since:
                    continue
                yield self._describe(source, reader.detail(item), modified)
        finally:
            fetcher.close()

    def _describe(self, source: HarvestSource, record: RemoteDataset, modified: datetime | None) -> CoreRemoteDataset:
        publisher = mapping.publisher_table(source, record, None)
        metadata = mapping.dataset_table(source, record, mapping.local_dataset_id(source, record), publisher["id"])
        used: set[str] = set()
        resources = tuple({**mapping.resource_table(r, mapping.resource_id_of(r, used), mapping.link_format(r)),
                           "url": r.url, "remote_format": r.format} for r in record.resources)
        return CoreRemoteDataset(record.remote_id, modified, metadata, resources,
                                 {"publisher": publisher, "landing_page": record.landing_page})


class CkanHarvester(_Harvester):
    kind = "ckan"


class DcatHarvester(_Harvester):
    kind = "dcat"
