"""GET /sdk/: how to install the light SDK from this portal, and the wheel itself
(built from clients/python by opendata.sdk_wheel)."""

from __future__ import annotations

from html import escape

from litestar import Request, Response, get
from litestar.params import FromPath

from opendata.errors import AppError, not_found
from opendata.sdk_wheel import BuiltWheel, SdkUnavailable, install_command, portal_wheel


def _wheel() -> BuiltWheel:
    try:
        return portal_wheel()
    except SdkUnavailable as exc:
        raise AppError(404, "sdk_unavailable", str(exc)) from None


def _portal_url(request: Request) -> str:
    """The portal's address as this request reached it, with the path prefix: /sdk/ off the end."""
    path = request.url.path.rstrip("/")
    return str(request.base_url).rstrip("/") + path[: -len("/sdk")]


def _page(request: Request, wheel: BuiltWheel) -> str:
    command = escape(install_command(_portal_url(request)))
    link = f"{escape(wheel.filename)}#sha256={wheel.sha256}"
    # A plain page that pip can also read as a --find-links index (the link carries its hash).
    return f"""<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>opendata-client {escape(wheel.version)} — Python SDK</title></head>
<body>
<main>
<h1>Python SDK：opendata-client {escape(wheel.version)}</h1>
<p>安装（只依赖 httpx）：<span lang="en">Install (depends on httpx only):</span></p>
<pre><code>{command}</code></pre>
<p>下载 <span lang="en">Download</span>: <a href="{link}">{escape(wheel.filename)}</a>
(sha256 <code>{wheel.sha256}</code>)</p>
<p>导入名 <code>opendata_client</code>；命令行 <code>opendata-client search|show|rows|download</code>。
<span lang="en">Import name <code>opendata_client</code>; command line
<code>opendata-client search|show|rows|download</code>.</span></p>
<pre><code>from opendata_client import Client

with Client("{escape(str(request.base_url).rstrip('/'))}") as od:
    print([d.id for d in od.search("").items])</code></pre>
<p>可选：<code>pandas</code>、<code>pyarrow</code>、<code>tqdm</code> 已安装时自动使用。
<span lang="en">Optional: pandas, pyarrow and tqdm are used when installed.</span></p>
</main>
</body>
</html>
"""


# Not in the API document: a page for people and a file for pip.
@get(["/sdk", "/sdk/"], summary="How to install the Python SDK from this portal", tags=["sdk"],
     sync_to_thread=False, media_type="text/html", include_in_schema=False)
def sdk_page(request: Request) -> Response[str]:
    wheel = _wheel()
    return Response(_page(request, wheel), media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


@get("/sdk/{filename:str}", summary="The Python SDK's wheel", tags=["sdk"], sync_to_thread=False,
     include_in_schema=False)
def sdk_wheel(request: Request, filename: FromPath[str]) -> Response[bytes]:
    wheel = _wheel()
    if filename != wheel.filename:
        raise not_found("SDK file", filename)
    etag = f'"{wheel.sha256}"'
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers={"ETag": etag})
    return Response(wheel.content, media_type="application/octet-stream", headers={
        "ETag": etag, "Content-Disposition": f'attachment; filename="{wheel.filename}"',
        "Cache-Control": "public, max-age=300",
    })


SDK_HANDLERS = [sdk_page, sdk_wheel]
