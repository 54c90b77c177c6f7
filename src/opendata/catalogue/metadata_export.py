"""The catalogue's metadata in bulk: one row per dataset, as CSV or XLSX (目录元数据下载).

Users of data.gov.uk and data.sh.gov.cn download the whole catalogue (or a facet's share
of it) to sort and filter it in a spreadsheet. The rows are read in keyset batches on a
session of their own that lives as long as the download, so memory stays flat however
large the catalogue; the columns are the public metadata every other door shows (nothing
of a dataset's rows, whatever its open level).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from opendata.catalogue import search
from opendata.catalogue import vocabulary as vocab
from opendata.catalogue.licences import licence_for
from opendata.catalogue.models import Dataset
from opendata.db import Database
from opendata.formats import Column
from opendata.stats.popularity import UsageTotals, usage_totals

BATCH = 500
LIST_SEPARATOR = "; "

COLUMNS: tuple[Column, ...] = (
    Column("id", "数据集编号", "Dataset id", "string"),
    Column("title_zh", "名称", "Title (Chinese)", "string"),
    Column("title_en", "英文名称", "Title (English)", "string"),
    Column("publisher", "提供部门", "Publisher", "string"),
    Column("domain", "数据领域", "Domain", "string"),
    Column("open_level", "开放等级", "Open level", "string"),
    Column("update_frequency", "更新频率", "Update frequency", "string"),
    Column("licence", "开放协议", "Licence", "string"),
    Column("tags", "标签", "Tags", "string"),
    Column("formats", "资源格式", "Formats", "string"),
    Column("resources", "资源数", "Resources", "integer"),
    Column("rows", "数据量（行）", "Rows", "integer"),
    Column("issued", "发布日期", "Issued", "date"),
    Column("modified", "更新日期", "Modified", "date"),
    Column("version", "版本", "Version", "string"),
    Column("spatial_coverage", "空间范围", "Spatial coverage", "string"),
    Column("source_system", "来源系统", "Source system", "string"),
    Column("update_mechanism", "更新机制", "Update mechanism", "string"),
    Column("quality_standard", "质量标准", "Quality standard", "string"),
    Column("views", "浏览量", "Views", "integer"),
    Column("downloads", "下载量", "Downloads", "integer"),
    Column("landing_page", "页面地址", "Landing page", "string"),
    Column("api_url", "接口地址", "API URL", "string"),
)


def _zh(term: vocab.Term | None, code: str | None) -> str | None:
    return term.zh if term else code


def _row(dataset: Dataset, usage: UsageTotals, site: str, api: str) -> Sequence[Any]:
    licence = licence_for(dataset.licence)
    rows = [r.row_count for r in dataset.resources if r.row_count is not None]
    return (
        dataset.id, dataset.title_zh, dataset.title_en, dataset.publisher.name_zh,
        _zh(vocab.DOMAIN_BY_CODE.get(dataset.domain), dataset.domain),
        _zh(vocab.OPEN_LEVEL_BY_CODE.get(dataset.open_level), dataset.open_level),
        _zh(vocab.FREQUENCY_BY_CODE.get(dataset.update_frequency), dataset.update_frequency),
        licence.title_zh, LIST_SEPARATOR.join(dataset.tag_names),
        LIST_SEPARATOR.join(dict.fromkeys(r.format for r in dataset.resources)),
        len(dataset.resources), sum(rows) if rows else None,
        dataset.issued, dataset.modified, dataset.version, dataset.spatial_coverage,
        dataset.source_system, dataset.update_mechanism, dataset.quality_standard,
        usage.views, usage.downloads, f"{site}/datasets/{dataset.id}", f"{api}/api/v1/datasets/{dataset.id}",
    )


def metadata_rows(database: Database, query: search.SearchQuery, site: str, api: str) -> Iterator[Sequence[Any]]:
    """Every dataset matching the query's facet filters, in id order, batch by batch."""
    where = search.filter_conditions(query)
    after = ""
    while True:
        with database.session() as session:
            batch = list(session.scalars(
                select(Dataset).where(Dataset.id > after, *where).order_by(Dataset.id).limit(BATCH)
                .options(selectinload(Dataset.publisher), selectinload(Dataset.tags),
                         selectinload(Dataset.resources))))
            usage = usage_totals(session, [d.id for d in batch])
            rows = [_row(d, usage.get(d.id, UsageTotals()), site, api) for d in batch]
        yield from rows
        if len(batch) < BATCH:
            return
        after = batch[-1].id
