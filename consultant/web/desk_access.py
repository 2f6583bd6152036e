"""Keeps each desk's cases to its team in the web app and the API (``cases.desk_scope``).

A case on a desk the signed-in reviewer does not work answers 404, as a case
that does not exist would: its reference says nothing about it.
"""

from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user

from consultant.cases.desk_scope import may_see, visible_desks
from consultant.web.context import services


def viewer() -> tuple[str, str] | None:
    """(email, role) of whoever asks: the API token's owner or the signed-in user."""
    owner = g.get("api_owner")
    if owner is not None:
        return owner.email, owner.role
    if current_user.is_authenticated:
        return current_user.email, current_user.role
    return None


def desks_for_viewer() -> frozenset[str] | None:
    """The desks whose cases the asker sees (None: all of them)."""
    who = viewer()
    if who is None:
        return frozenset()
    return visible_desks(services().settings, *who)


def guard_case() -> None:
    """A blueprint's ``before_request``: 404 for a ``<reference>`` on a desk the asker does not see.

    Runs before the route's own sign-in check, so an anonymous request is
    left to that check.
    """
    reference = (request.view_args or {}).get("reference")
    who = viewer()
    if not reference or who is None or len(services().settings.desks) == 1:
        return
    with services().db.read_session() as session:
        if not may_see(session, services().settings, reference, *who):
            abort(404)
