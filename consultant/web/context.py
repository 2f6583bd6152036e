"""Access to the services the app was created with, from inside a request."""

from __future__ import annotations

from flask import current_app

from consultant.services import Services


def services() -> Services:
    return current_app.extensions["consultant"]
