"""What a code page shows beside the official data, for whoever is looking at it.

Everyone: the practice's plain-language description and their own star and
note. Experts also: the plain description's form and versions, the guidance
notes on the code and the cases that name it. A member's page is built
without the experts' part at all, so nothing of it can leak through the
template.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from consultant import my_codes
from consultant.cases import guidance, plain_language
from consultant.web.auth import REVIEWERS
from consultant.web.context import services


def is_expert() -> bool:
    return current_user.role in REVIEWERS


def code_extras(system: str, code: str) -> dict[str, Any]:
    """The template values of the code page's own parts for ``system`` ``code``."""
    expert = is_expert()
    with services().db.read_session() as session:
        latest = plain_language.latest(session, system, code)
        extras: dict[str, Any] = {
            "expert": expert,
            "plain": latest if latest and latest.text else None,
            "mine": my_codes.get(session, current_user.id, system, code),
            "note_max": my_codes.MAX_NOTE,
        }
        if expert:
            extras["plain_version"] = latest.version if latest else 0
            extras["plain_max"] = plain_language.MAX_TEXT
            extras["guidance_notes"] = [
                guidance.as_dict(n) for n in guidance.notes_on_code(session, code)
            ]
    return extras
