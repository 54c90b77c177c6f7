"""Frictionless Data Package v2 of a dataset, with a Table Schema per tabular resource
built from its data dictionary as served (masked fields are strings, dropped fields
absent), pointing at the CSV downloads so that ``frictionless validate <url>`` checks
the served files against the dictionary."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from sqlalchemy.orm import Session

from opendata.catalogue import service
from opendata.catalogue.distribution import distribution_info
from opendata.catalogue.licences import licence_for, licence_url
from opendata.catalogue.masking import MASKING_SECRET, served_fields
from opendata.catalogue.models import Dataset, Resource
from opendata.deps import DbSession
from opendata.interop.links import Links, request_links
from opendata.secrets import instance_secret
from opendata.httpconv.middleware import CORS_OPT

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
FIELD_TYPES = {"string": "string", "integer": "integer", "decimal": "number", "number": "number",
               "boolean": "boolean", "date": "date", "datetime": "datetime"}


# The dictionary's constraints in Table Schema's spelling; a masked field is served as
# other text, so its constraints (a pattern, a length) would not hold and are left out.
_CONSTRAINT_NAMES = {"required": "required", "unique": "unique", "minimum": "minimum", "maximum": "maximum",
                     "enum": "enum", "pattern": "pattern", "min_length": "minLength", "max_length": "maxLength"}


def _constraints(declared: dict[str, Any] | None) -> dict[str, Any]:
    return {_CONSTRAINT_NAMES[k]: v for k, v in (declared or {}).items() if k in _CONSTRAINT_NAMES}


def table_schema(session: Session, resource: Resource) -> dict[str, Any]:
    fields = []
    for served in served_fields(resource.fields, instance_secret(session, MASKING_SECRET)):
        f = served.field
        out: dict[str, Any] = {"name": f.name, "type": FIELD_TYPES[served.served_type], "title": f.title_zh}
        if f.title_en:
            out["title"] = f"{f.title_zh} / {f.title_en}"
        if f.description:
            out["description"] = f.description
        if served.served_type == "boolean":
            out["trueValues"], out["falseValues"] = ["true"], ["false"]
        constraints = _constraints(f.constraints) if served.served_type == f.type else {}
        if f.name == resource.primary_key:
            constraints.update(required=True, unique=True)
        if constraints:
            out["constraints"] = constraints
        fields.append(out)
    schema: dict[str, Any] = {"$schema": SCHEMA_PROFILE, "fields": fields, "missingValues": [""]}
    if resource.primary_key and any(f["name"] == resource.primary_key for f in fields):
        schema["primaryKey"] = [resource.primary_key]
    return schema


def data_package(session: Session, links: Links, dataset: Dataset) -> dict[str, Any]:
    licence = licence_for(dataset.licence)
    resources = []
    for resource in dataset.resources:
        info = distribution_info(session, links.api, dataset, resource)
        if not resource.is_tabular or info.download_url is None:
            continue
        entry: dict[str, Any] = {
            "$schema": RESOURCE_PROFILE, "name": resource.id.replace("-", "_"), "title": resource.title_zh,
            "path": info.download_url, "format": "csv", "mediatype": info.media_type, "encoding": "utf-8",
            "type": "table", "schema": table_schema(session, resource),
        }
        if info.byte_size is not None:
            entry["bytes"], entry["hash"] = info.byte_size, f"sha256:{info.sha256}"
        resources.append(entry)
    return {
        "$schema": PROFILE, "name": dataset.id, "id": links.dcat(dataset.id, "jsonld").rsplit(".", 1)[0],
        "title": dataset.title_zh, "description": dataset.description_zh, "version": dataset.version,
        "homepage": links.landing_page(dataset.id), "keywords": dataset.tag_names,
        "licenses": [{"name": licence.id, "path": licence_url(licence, links.api), "title": licence.title_zh}],
        "sources": [{"title": dataset.source_system or dataset.publisher.name_zh}],
        "contributors": [{"title": dataset.publisher.name_zh, "roles": ["publisher"]}],
        "created": dataset.created_at.replace(tzinfo=None, microsecond=0).isoformat() + "Z",
        "resources": resources,
    }


@get("/dataset/{dataset_id:str}/datapackage.json", summary="Frictionless Data Package v2 of a dataset",
     tags=["frictionless"], opt={CORS_OPT: "open"}, sync_to_thread=True)
def datapackage(request: Request, db_session: DbSession, dataset_id: FromPath[str]) -> Response[dict[str, Any]]:
    dataset = service.get_dataset(db_session, dataset_id)
    body = data_package(db_session, request_links(request), dataset)
    db_session.commit()  # the masking secret may just have been created
    return Response(body, media_type="application/json")


FRICTIONLESS_HANDLERS = [datapackage]
