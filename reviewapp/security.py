"""HTTP-level protections on every response: security headers (CSP without inline script, no framing, nosniff,
referrer and permissions policies, HSTS in production over HTTPS) and HEAD answered wherever GET is."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send

from reviewapp.settings import Settings

# No inline script anywhere (behaviour is declared with data-* attributes and lives in static/app.js); htmx runs
# with allowEval and script tags off (templates/base.html), so it needs no 'unsafe-eval' either.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
HSTS = "max-age=31536000; includeSubDomains"

_BASE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def is_https(scope: Scope, settings: Settings) -> bool:
    if scope.get("scheme") == "https":
        return True
    if settings.trust_proxy_headers:
        for key, value in scope.get("headers", []):
            if key == b"x-forwarded-proto":
                return value.decode("latin-1").split(",")[0].strip().lower() == "https"
    return False


class ReviewApp(Litestar):
    """The Litestar application with the protections that must hold before routing: HEAD is served by the GET
    handler with the body dropped (Litestar answers 405 to HEAD on GET routes), and every response, error pages
    and static files included, carries the security headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        settings: Settings = self.state.settings
        extra = _BASE_HEADERS
        if settings.is_production and is_https(scope, settings):
            extra = [*extra, (b"strict-transport-security", HSTS.encode())]
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}  # type: ignore[assignment]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.extend(item for item in extra if item[0] not in present)
                message = {**message, "headers": headers}  # type: ignore[assignment]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}  # type: ignore[assignment]
            await send(message)

        await super().__call__(scope, receive, send_with_headers)
