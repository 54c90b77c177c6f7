"""opendata: an embeddable public-data open platform and its ready-made portal.

The public API is ``create_app``, ``OpenDataPlugin`` and ``Settings``. Importing this
package does no I/O: nothing connects or reads a file until an app starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["OpenDataPlugin", "Settings", "__version__", "create_app"]

if TYPE_CHECKING:
    from opendata.app import create_app
    from opendata.plugin import OpenDataPlugin
    from opendata.settings import Settings


def __getattr__(name: str) -> Any:
    # Imported on first use so that `import opendata` stays cheap for the CLI and the SDK.
    if name == "create_app":
        from opendata.app import create_app

        return create_app
    if name == "OpenDataPlugin":
        from opendata.plugin import OpenDataPlugin

        return OpenDataPlugin
    if name == "Settings":
        from opendata.settings import Settings

        return Settings
    raise AttributeError(name)
