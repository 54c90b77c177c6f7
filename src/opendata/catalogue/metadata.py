"""The dataset metadata that standard clients expect beyond the manifest's own fields:
licence title and URL, a contact point, usage totals and each resource's download.

Used by ``/api/v1/datasets/{id}`` and by the CKAN and DCAT outputs (opendata.interop), so
that every door states the same facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from litestar import Request
from sqlalchemy.orm import Session

from opendata.catalogue.distribution import api_root, distribution_info
from opendata.catalogue.offered_formats import offered
from opendata.catalogue.licences import Licence, licence_for, licence_url
from opendata.catalogue.models import Dataset
from opendata.catalogue.schemas import (
    ChecksumOut, ContactPointOut, DatasetOut, DownloadOut, LicenceOut, dataset_out,
)
from opendata.feedback.ratings import summary as rating_summary
from opendata.feedback.schemas import rating_summary_out
from opendata.quality.service import dataset_quality
from opendata.stats.popularity import usage_totals

# A telephone number inside free text: "广州市政务服务便民热线 12345", "020-83338888".
_TELEPHONE = re.compile(r"(?<![\d-])(\+?\d[\d-]{3,18}\d)(?![\d-])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def request_api_root(request: Request) -> str:
    """The absolute URL of the API as this request reached it (host, root path, prefix)."""
    plugin = request.app.state.get("opendata")
    return api_root(str(request.base_url), plugin.path_prefix if plugin else "/")


def licence_out(code: str, root: str) -> LicenceOut:
    licence = licence_for(code)
    return LicenceOut(licence.id, licence.title_zh, licence.title_en, licence_url(licence, root), licence.open)


@dataclass
class LicenceText(LicenceOut):
    summary_zh: str = ""
    summary_en: str = ""


def licence_text(licence: Licence, root: str) -> LicenceText:
    return LicenceText(licence.id, licence.title_zh, licence.title_en, licence_url(licence, root), licence.open,
                       licence.summary_zh, licence.summary_en)


def contact_point(dataset: Dataset) -> ContactPointOut:
    """The dataset's own contact, else its publisher's, with any phone or e-mail in it."""
    text = (dataset.contact or dataset.publisher.contact or "").strip()
    name = text or dataset.publisher.name_zh
    telephone = _TELEPHONE.search(text)
    email = _EMAIL.search(text)
    return ContactPointOut(
        name=name, telephone=telephone.group(1) if telephone else None,
        email=email.group(0) if email else None, url=dataset.publisher.website or None,
    )


def full_dataset_out(session: Session, root: str, dataset: Dataset) -> DatasetOut:
    """``dataset_out`` plus licence details, contact point, usage totals and downloads."""
    out = dataset_out(dataset)
    out.licence_details = licence_out(dataset.licence, root)
    out.contact_point = contact_point(dataset)
    out.quality = dataset_quality(session, dataset)
    out.rating = rating_summary_out(rating_summary(session, dataset.id))
    totals = usage_totals(session, [dataset.id]).get(dataset.id)
    if totals is not None:
        out.views, out.downloads = totals.views, totals.downloads
    for resource, resource_out in zip(dataset.resources, out.resources):
        info = distribution_info(session, root, dataset, resource)
        resource_out.download_url = info.download_url
        resource_out.media_type = info.media_type
        resource_out.byte_size = info.byte_size
        if info.sha256:
            resource_out.checksum = ChecksumOut("sha256", info.sha256)
        if info.download_url:
            resource_out.downloads = [
                DownloadOut(e.name, e.media_type.split(";")[0], f"{info.download_url.rsplit('?', 1)[0]}?format={e.name}")
                for e in offered(session, resource)]
    return out
