"""PATCH /api/v1/datasets/{id}: metadata edits by the dataset's publisher or an administrator."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, patch
from litestar.params import FromPath, JSONBody

from opendata.access.dataset_edit import edit_dataset
from opendata.access.principals import require_user
from opendata.audit.context import request_info
from opendata.catalogue import service as catalogue
from opendata.catalogue.schemas import DatasetOut, dataset_out
from opendata.deps import DbSession


class DatasetEditController(Controller):
    path = "/api/v1/datasets"
    tags = ["catalogue"]

    @patch("/{dataset_id:str}", summary="Edit a dataset's descriptive metadata (its publisher or an admin)",
           sync_to_thread=True)
    def edit(self, request: Request, db_session: DbSession, dataset_id: FromPath[str],
             data: JSONBody[dict[str, Any]]) -> DatasetOut:
        principal = require_user(request, db_session, action="dataset.edit", roles=("publisher", "admin"),
                                 target=f"dataset:{dataset_id}")
        dataset = catalogue.get_dataset(db_session, dataset_id)
        edit_dataset(db_session, principal, dataset, data, request_info(request))
        db_session.commit()
        return dataset_out(catalogue.get_dataset(db_session, dataset_id))
