"""``/metrics``: the deployment's Prometheus metrics, for a scraper holding the metrics token.

Off (404) until ``CONSULTANT_METRICS_TOKEN`` is set; then a scrape sends it as
``Authorization: Bearer <token>`` (Prometheus: ``authorization.credentials``)
and anything else is refused. The figures are counts only
(``consultant.metrics``), read from the database and broker at each scrape.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from werkzeug.wrappers import Response

from consultant.metrics import registry_for
from consultant.web.context import services

bp = Blueprint("metrics", __name__)
REALM = 'Bearer realm="metrics"'


@bp.route("/metrics")
def metrics() -> Response:
    token = services().settings.metrics_token
    if token is None:
        abort(404)
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
        return Response(
            "a metrics token is needed: Authorization: Bearer <CONSULTANT_METRICS_TOKEN>\n",
            401,
            {"WWW-Authenticate": REALM, "Content-Type": "text/plain; charset=utf-8"},
        )
    body = generate_latest(_registry())
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def _registry() -> CollectorRegistry:
    registry = current_app.extensions.get("consultant_metrics")
    if registry is None:
        registry = current_app.extensions["consultant_metrics"] = registry_for(
            services().db, services().settings
        )
    return registry
