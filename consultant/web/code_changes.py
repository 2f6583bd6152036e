"""What changed: the codes added, deleted and revised between two releases of a code set,
as a page (a plain GET form: code set, and the two releases) and as a CSV download."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from consultant.codes import changes
from consultant.codes.changes_csv import csv_lines, file_name
from consultant.codes.refs import KIND_LABELS
from consultant.codes.systems import RELEASE_KIND
from consultant.web.auth import EVERYONE, roles_required
from consultant.web.context import services

bp = Blueprint("code_changes", __name__)
SHOWN = 500  # rows of each kind of change on the page; the CSV has them all
BOM = "\ufeff"  # how Excel knows a CSV file is UTF-8


def _kind() -> str:
    """The code set asked for; by default the first one with two releases to compare."""
    asked = request.args.get("kind", "")
    if asked in changes.KINDS:
        return asked
    reader = services().lookup.reader
    return next((k for k in changes.KINDS if len(changes.releases(reader, k)) > 1), "icd10cm")


def _asked(kind: str) -> tuple[str | None, str | None]:
    """The two releases asked for, unless the code set was changed since the form was shown
    (its release lists were another set's)."""
    if request.args.get("shown", kind) != kind:
        return None, None
    return request.args.get("from") or None, request.args.get("to") or None


def _compare(kind: str) -> tuple[changes.Changes | None, str | None]:
    reader = services().lookup.reader
    try:
        return changes.compare(reader, *changes.pair(reader, kind, *_asked(kind))), None
    except changes.NotComparable as refused:
        return None, str(refused)


@bp.route("/codes/changes")
@roles_required(*EVERYONE)
def index() -> str:
    kind = _kind()
    found, message = _compare(kind)
    context: dict[str, Any] = {
        "kind": kind,
        "system": next(s.value for s, k in RELEASE_KIND.items() if k == kind),
        "kinds": [(k, KIND_LABELS.get(k, k)) for k in changes.KINDS],
        "releases": changes.releases(services().lookup.reader, kind),
        "changes": found,
        "message": message,
        "shown": SHOWN,
    }
    return render_template("code_changes.html", **context)


@bp.route("/codes/changes.csv")
@roles_required(*EVERYONE)
def download() -> Response:
    """The changes as CSV; when there is nothing to compare, the page that says why."""
    kind = _kind()
    found, _ = _compare(kind)
    if found is None:
        return redirect(url_for("code_changes.index", **request.args))
    lines = [BOM, *csv_lines(found)]
    return Response(
        lines,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{file_name(found)}"'},
    )
