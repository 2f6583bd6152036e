"""What the forms on a code page post besides their own fields: which code, and where back.

The code comes from the address and its system from the form; both are
checked and the code written as its page writes it (``E119`` is ``E11.9``),
so every star, note and description is kept under the one name its page
looks up.
"""

from __future__ import annotations

from datetime import date

from flask import abort, request, url_for

from consultant.codes.systems import System, candidates
from consultant.web.codes import CODE


def code_of(text: str) -> tuple[str, str]:
    """(system, code) of the form's ``system`` and ``text`` from the address; 404 when the
    characters are no code of that system."""
    system = request.form.get("system", "")
    if not CODE.match(text) or system not in {s.value for s in System}:
        abort(404, description="That is not a code of a code system this site knows.")
    found = [code for s, code in candidates(text) if s == system]
    if not found:
        abort(404, description=f"{text} is not a {system} code.")
    return system, found[0]


def page_of(system: str, code: str) -> str:
    """The code's page as of the date the form was on (``on``, when it is a date)."""
    on = request.form.get("on", "")
    try:
        day = date.fromisoformat(on).isoformat()
    except ValueError:
        day = None
    return url_for("codes.show", code=code, system=system, on=day)
