"""The API reference at ``/docs`` (Swagger UI, vendored) and the getting-started guide.

Swagger UI's assets are packaged in ``static/swagger-ui`` (from the npm package swagger-ui-dist,
see its ``VENDORED.md``), gzipped to keep the package small; they are sent as they are to the
browsers that accept gzip (all of them) and inflated for any other client. The page and its
assets are served with a Content-Security-Policy that allows this origin only: nothing is loaded
from a CDN, so the reference works offline and behind a firewall.

The guide is ``docs/getting-started.md`` of the repository (the wheel carries a copy inside this
package), rendered to HTML once per process.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from pathlib import Path

from aiohttp import web
from markdown_it import MarkdownIt

from service.api.routing import Router

router = Router()
SWAGGER_UI_VERSION = "5.36.0"  # static/swagger-ui/VENDORED.md
STATIC = "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# name -> (packaged file, content type); only these are served
ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js.gz", "application/javascript"),
    "swagger-ui.css": ("swagger-ui/swagger-ui.css.gz", "text/css"),
    "favicon-32x32.png": ("swagger-ui/favicon-32x32.png", "image/png"),
    "docs.js": ("docs.js", "application/javascript"),
    "docs.css": ("docs.css", "text/css"),
}
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}


def _read(name: str) -> bytes:
    return resources.files("service.api").joinpath(STATIC, name).read_bytes()


@cache
def _asset(name: str) -> tuple[bytes, str]:
    filename, content_type = ASSETS[name]
    return _read(filename), content_type


@router.route(
    "GET",
    "/docs",
    name="docs",
    summary="API reference (Swagger UI)",
    tags=["ops"],
    content_type="text/html",
)
async def docs(request: web.Request) -> web.Response:
    return web.Response(
        body=_read("docs.html"), content_type="text/html", charset="utf-8", headers=_HEADERS
    )


@router.route(
    "GET",
    "/docs/assets/{name}",
    name="docs_asset",
    summary="A file of the API reference page",
    tags=["ops"],
    documented=False,
)
async def docs_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    body, content_type = _asset(name)
    headers = {**_HEADERS, "Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"}
    if ASSETS[name][0].endswith(".gz"):
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            body = gzip.decompress(body)
    return web.Response(body=body, content_type=content_type, headers=headers)


def guide_path() -> Path:
    """The repository's ``docs/getting-started.md``, or the copy packaged in a wheel."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[2] / "docs" / "getting-started.md",
        here.parent / STATIC / "getting-started.md",
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("docs/getting-started.md is not packaged")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Getting started · omnistock</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="assets/favicon-32x32.png">
<link rel="stylesheet" href="assets/docs.css">
</head>
<body class="guide">
<nav class="topbar"><a class="brand" href="../docs">omnistock API</a>
<a href="../docs">Reference</a><a href="getting-started" aria-current="page">Getting started</a>
<a href="../openapi.json">openapi.json</a></nav>
<main class="markdown">
{body}
</main>
</body>
</html>
"""


@cache
def guide_html() -> str:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return _PAGE.replace("{body}", md.render(guide_path().read_text("utf-8")))


@router.route(
    "GET",
    "/docs/getting-started",
    name="docs_getting_started",
    summary="Getting started guide: the storefront's first calls",
    tags=["ops"],
    content_type="text/html",
)
async def getting_started(request: web.Request) -> web.Response:
    return web.Response(
        text=guide_html(), content_type="text/html", charset="utf-8", headers=_HEADERS
    )
