"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work), without sign-in.

A load balancer or Kubernetes probes these: ``/healthz`` touches nothing, so a
slow database never gets a healthy process restarted; ``/readyz`` checks the
database and the broker and answers 503 while either is missing, so traffic
goes elsewhere until they are back.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from consultant.health import readiness
from consultant.web.context import services

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    return _no_store(jsonify(status="ok"))


@bp.route("/readyz")
def readyz() -> tuple[Response, int]:
    found = readiness(services().db, services().settings.broker_url)
    body = jsonify(status="ready" if found.ready else "not ready", checks=found.checks)
    return _no_store(body), 200 if found.ready else 503


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
