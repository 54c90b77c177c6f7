"""Parameter types shared by every handler: integers that fit the columns they query.

Python integers have no bound, the database's do: an id of 2^63 made SQLite raise
OverflowError and 2^31 made PostgreSQL refuse an INTEGER, both as 500s. A handler that
takes a number from the query string declares one of these types, and Litestar answers
400 ``invalid_parameter`` (audited by opendata.input_guard) before the handler runs.
Integer *path* parameters are all ids and are range-checked by the input guard itself.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

from opendata.formats.limits import INT32_MAX

# Ids are INTEGER (32-bit) on PostgreSQL: the narrower backend decides.
QueryId = Annotated[int, QueryParameter(ge=1, le=INT32_MAX)]
OptionalQueryId = Annotated[int | None, QueryParameter(ge=1, le=INT32_MAX)]
