"""The light SDK's wheel (clients/python), built in memory by the portal that serves it
at /sdk/, so that a user installs the client that matches this very portal.

A wheel is a zip of the package's files plus a ``.dist-info`` folder (PEP 427, PEP 376
RECORD, core metadata 2.1); opendata-client is pure Python with no build step, so writing
that zip here is a few milliseconds and needs no build backend on the server. The source
is ``clients/python`` in a checkout, or its copy that the portal's own wheel carries
(``opendata/_sdk``, see pyproject.toml). Entries are written in a fixed order with a
fixed timestamp: the same source always gives the same bytes, hence the same sha256.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE = "opendata_client"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
WHEEL_TAG = "py3-none-any"


class SdkUnavailable(Exception):
    """This installation carries no SDK source to build from."""


@dataclass(frozen=True)
class BuiltWheel:
    filename: str
    version: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def sdk_source_dir() -> Path:
    """clients/python of a checkout, else the copy packaged into the portal's wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_sdk", here.parents[1] / "clients" / "python"):
        if (candidate / "src" / PACKAGE / "__init__.py").is_file() and (candidate / "pyproject.toml").is_file():
            return candidate
    raise SdkUnavailable("the opendata-client source (clients/python) is not part of this installation")


def _version(source: Path) -> str:
    text = (source / "src" / PACKAGE / "version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise SdkUnavailable(f"no __version__ in {source / 'src' / PACKAGE / 'version.py'}")
    return match.group(1)


def _metadata(project: dict, version: str, readme: str) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}",
             f"Summary: {project.get('description', '')}"]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    licence = project.get("license", {})
    if isinstance(licence, dict) and "text" in licence:
        lines.append(f"License: {licence['text']}")
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {r}; extra == \"{extra}\"" for r in requirements]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(source: Path) -> BuiltWheel:
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    version = _version(source)
    distribution = project["name"].replace("-", "_")
    info = f"{distribution}-{version}.dist-info"
    files: list[tuple[str, bytes]] = [
        (path.relative_to(source / "src").as_posix(), path.read_bytes())
        for path in sorted((source / "src" / PACKAGE).rglob("*.py"))
    ]
    readme = (source / "README.md").read_text(encoding="utf-8") if (source / "README.md").is_file() else ""
    files.append((f"{info}/METADATA", _metadata(project, version, readme).encode("utf-8")))
    files.append((f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: opendata.sdk_wheel\n"
                                   f"Root-Is-Purelib: true\nTag: {WHEEL_TAG}\n".encode()))
    scripts = project.get("scripts", {})
    if scripts:
        entry_points = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
        files.append((f"{info}/entry_points.txt", entry_points.encode()))
    record = "\n".join(_record_line(name, data) for name, data in files) + f"\n{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return BuiltWheel(f"{distribution}-{version}-{WHEEL_TAG}.whl", version, buffer.getvalue())


@lru_cache(maxsize=1)
def portal_wheel() -> BuiltWheel:
    """The wheel this portal serves, built once per process."""
    return build_wheel(sdk_source_dir())


def install_command(portal_url: str) -> str:
    """The pip command that installs this portal's SDK, for pages and snippets that tell a
    user how (``portal_url``: the portal's public address, with its path prefix if any)."""
    return f"pip install {portal_url.rstrip('/')}/sdk/{portal_wheel().filename}"


def install_comment(portal_url: str) -> str:
    """The install command as a Python comment, the first line of the portal's SDK snippets
    (a comment, so that the snippet still runs as copied)."""
    try:
        return f"# {install_command(portal_url)}"
    except SdkUnavailable:
        return "# pip install opendata-client: see docs/sdk.md of opendata"
