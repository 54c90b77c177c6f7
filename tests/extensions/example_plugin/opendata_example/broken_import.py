"""A plugin whose import fails (tests: the start-up line names it)."""

import opendata_no_such_module  # noqa: F401


def register(registry):  # noqa: ANN001, ANN201
    pass
