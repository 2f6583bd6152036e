"""Security plumbing of the web app: the session secret and the response headers."""

from __future__ import annotations

import os
import secrets

from flask import Response, current_app

from config import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# Behind TLS (secure cookies on), browsers are told to use HTTPS only, for a year,
# subdomains included: no first request in plain HTTP for someone on the network to change.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def secret_key(settings: Settings) -> str:
    """CONSULTANT_SECRET_KEY, or a random key kept in ``var/secret_key`` across restarts."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.var_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def add_security_headers(response: Response) -> Response:
    """No inline script, no framing, no sniffing, no referrer leaking case references.

    The Referer is kept for our own pages: over HTTPS the CSRF check
    (WTF_CSRF_SSL_STRICT) refuses a form post that comes without one, so
    ``no-referrer`` would make every form fail behind TLS.
    """
    # A view may set a stricter policy of its own (a sandboxed mail frame does).
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return response
