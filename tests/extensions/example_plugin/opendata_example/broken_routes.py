"""A plugin whose register() fails: an API route that is a plain function (not decorated)."""


def rows_by_district():  # noqa: ANN201
    return []


def register(registry):  # noqa: ANN001, ANN201
    registry.add_api_routes(rows_by_district)
