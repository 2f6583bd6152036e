"""Serving the review app with waitress, trusting a reverse proxy only when told to."""

from __future__ import annotations

from waitress import serve

from consultant.services import Services
from consultant.web import create_app

PROXY_HEADERS = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"}


def serve_app(services: Services, host: str, port: int) -> None:
    """Serve until interrupted; behind CONSULTANT_TRUSTED_PROXY, honour its X-Forwarded-*."""
    proxy = services.settings.trusted_proxy
    options: dict[str, object] = {"threads": 8}
    if proxy:
        # The proxy terminates TLS: its X-Forwarded-Proto tells Flask the request was
        # HTTPS, so Secure cookies and the CSRF referrer check work as they should.
        options |= {
            "trusted_proxy": proxy,
            "trusted_proxy_headers": PROXY_HEADERS,
            "clear_untrusted_proxy_headers": True,
        }
    serve(create_app(services), host=host, port=port, **options)
