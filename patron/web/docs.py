"""API docs (/docs: Swagger UI, /redoc: ReDoc) served from local assets, without any CDN.

Swagger UI 5 (static/vendor/swagger-ui) and ReDoc 2 (static/vendor/redoc) are vendored from the
npm registry with their licences (see each README.txt): the swagger-ui-bundle package ships
Swagger UI 4, which cannot read the OpenAPI 3.1 that FastAPI writes. Neither page has an inline
script, so they run under the page policy: scripts, styles and fetches from 'self' only.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

SWAGGER_PREFIX = "/static/vendor/swagger-ui"
SWAGGER_JS = f"{SWAGGER_PREFIX}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{SWAGGER_PREFIX}/swagger-ui.css"
SWAGGER_ICON = f"{SWAGGER_PREFIX}/favicon-32x32.png"
SWAGGER_INIT = "/static/docs/swagger-init.js"
REDOC_JS = "/static/vendor/redoc/redoc.standalone.js"


def swagger_html(title: str, openapi_url: str) -> str:
    """The Swagger UI page: local stylesheet and scripts, the spec URL in a data attribute."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Swagger UI</title>
<link rel="stylesheet" href="{SWAGGER_CSS}"><link rel="icon" href="{SWAGGER_ICON}">
</head><body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{SWAGGER_JS}"></script><script src="{SWAGGER_INIT}"></script>
</body></html>"""


def redoc_html(title: str, openapi_url: str) -> str:
    """The ReDoc page: the standalone bundle starts itself on the <redoc spec-url> element."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - ReDoc</title><link rel="icon" href="{SWAGGER_ICON}">
</head><body>
<redoc spec-url="{escape(openapi_url)}"></redoc>
<script src="{REDOC_JS}"></script>
</body></html>"""


def install(app: FastAPI) -> None:
    """Add /docs and /redoc (assets under /static).

    The app must be built with docs_url=None and redoc_url=None: FastAPI's own pages load
    their scripts from a CDN.
    """
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs() -> HTMLResponse:
        """Swagger UI."""
        return HTMLResponse(swagger_html(app.title, openapi_url))

    async def redoc() -> HTMLResponse:
        """ReDoc."""
        return HTMLResponse(redoc_html(app.title, openapi_url))

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
