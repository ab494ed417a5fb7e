"""Security headers on every response: CSP, framing, referrer and MIME sniffing.

Pages load only local assets. Scripts: 'self' only (no inline script; the builder's JSON data
block is not executed). Styles need 'unsafe-inline': pygal's inline SVG charts carry a <style>
element, and heat-map cells (RFM grid, cohorts) shade themselves with a computed style attribute.
The API docs (/docs, /redoc) load Swagger UI and ReDoc from local files too (patron.web.docs).
"""

from __future__ import annotations

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# ReDoc runs its search index in a Web Worker it starts from a blob: URL (same-origin by
# construction); nothing else differs from the page policy, and no other origin is allowed.
DOCS_CSP = PAGE_CSP + "; worker-src 'self' blob:"
DOCS_PATHS = ("/docs", "/redoc")


def headers_for(path: str) -> dict[str, str]:
    """The security headers of a response to this path."""
    docs = any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)
    return {
        "Content-Security-Policy": DOCS_CSP if docs else PAGE_CSP,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response it passes on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        """Add the headers to the response start message."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = [(k.lower().encode(), v.encode()) for k, v in headers_for(scope["path"]).items()]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)
