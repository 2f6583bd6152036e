"""What a code's status is, in one careful sentence, from what the loaded data says.

The data can only say what it holds: a code missing from a loaded release is
"not listed" there, never "invalid", because the file may be an excerpt, the
wrong edition, or not in force on the date; and with no release loaded at all
nothing is said about the code but that.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from consultant.codes.entries import CodeResult, Status
from consultant.codes.systems import System

# Said to members too: no operator command in it (the Not loaded list gives those to experts).
CPT_LICENCE = "CPT descriptors are licensed by the AMA, and the operator loads their own file"


def _named(system: str, release: dict[str, Any] | None) -> str:
    release = release or {}
    return f"{system} {release.get('version')} (effective {release.get('effective')})"


def starts_after(release: dict[str, Any] | None, on: date) -> bool:
    """True when ``release`` begins after ``on``: the nearest loaded, not the one in force."""
    return release is not None and release["effective"] > on.isoformat()


def status_sentence(result: CodeResult, on: date, in_force: dict[str, Any] | None) -> str:
    """The status of ``result`` as of ``on``, saying no more than the data does.

    ``in_force`` is the release of the code's system that answers for ``on``.
    """
    code, day = result.code, on.isoformat()
    if result.status == Status.NO_DATA:
        why = f" ({CPT_LICENCE})" if result.system == System.CPT else ""
        return (
            f"No {result.system} release is loaded{why}, so nothing here says whether {code} "
            f"is a {result.system} code on {day} or what it describes."
        )
    current = _named(result.system, in_force)
    caveat = ""
    if starts_after(in_force, on):
        caveat = (
            f" That release starts after {day}: it is the nearest loaded, not the one in force."
        )
    if result.status == Status.ACTIVE:
        kind = "billable" if result.system == System.ICD10CM else "valid"
        return f"{kind.capitalize()} on {day}, as listed in {current}.{caveat}"
    if result.status == Status.HEADER:
        return (
            f"A heading on {day} in {current}: not valid on a claim by itself; "
            f"a code with more characters is (its children are listed below).{caveat}"
        )
    if result.status == Status.TERMINATED:
        return f"Listed in {current} with a termination date of {result.terminated}."
    if result.release and in_force and result.release["id"] != in_force["id"]:
        when = "first" if result.status == Status.NOT_YET_EFFECTIVE else "last"
        return (
            f"Not listed in {current}, the release that answers for {day}; {when} listed in "
            f"{_named(result.system, result.release)}.{caveat}"
        )
    if result.status == Status.NOT_YET_EFFECTIVE:
        return f"Not yet in force on {day}: {result.message}, per {current}."
    return (
        f"Not in the loaded releases: {current} does not list {code}, and no other loaded "
        f"{result.system} release does. The loaded files are all this page knows: the "
        f"official code set has the last word.{caveat}"
    )
