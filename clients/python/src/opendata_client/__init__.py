"""opendata-client: a light client for opendata portals (httpx only).

    from opendata_client import Client

    with Client("http://127.0.0.1:8000") as od:
        for hit in od.search("公交").items:
            print(hit.id, hit.title_zh)
        rows = od.fetch_rows("bus-stops", "stops", district="天河区", max_rows=500)
        frame = rows.to_pandas()              # with pandas installed
        od.download("bus-stops", "stops", "csv", "stops.csv", bom=True, progress=True)

See README.md (and docs/sdk.md of the portal) for licensed data and the command line.
"""

from opendata_client.aio import AsyncClient
from opendata_client.client import Client
from opendata_client.errors import MissingDependency, OpenDataError, PortalUnreachable, QuotaExceeded
from opendata_client.models import (Comment, CommentPage, Dataset, DatasetSummary, Facet, Field, Label, Publisher,
                                    Rating, Reply, Resource, Rows, RowsPage, SearchResult, Version)
from opendata_client.retry import NO_RETRY, RetryPolicy
from opendata_client.version import __version__

__all__ = [
    "AsyncClient", "Client", "Comment", "CommentPage", "Dataset", "DatasetSummary", "Facet", "Field", "Label", "MissingDependency",
    "NO_RETRY", "OpenDataError", "PortalUnreachable", "Publisher", "QuotaExceeded", "Rating", "Reply", "Resource",
    "RetryPolicy", "Rows", "RowsPage", "SearchResult", "Version", "__version__",
]
