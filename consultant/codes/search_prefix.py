"""Codes that start with what was typed (``E11.``, ``2988``), in code order, from each release.

A range on the code lets either database walk its primary key; LIKE then
keeps exactly the codes that start with the prefix (plain letters, digits and
a dot: no wildcard in it). Each release's codes are counted up to MAX_COUNT,
as far as paging goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef
from consultant.codes.search_scope import CODES, Scope
from consultant.codes.search_words import MAX_COUNT
from consultant.codes.systems import System, icd10cm_with_dot

_WHERE = "release_id = ? AND code >= ? AND code < ? AND code LIKE ?"
# Valid on the date: started by then, not terminated, and not a heading.
DATES = (
    " AND (coalesce(effective, added) IS NULL OR coalesce(effective, added) <= ?)"
    " AND (terminated IS NULL OR terminated >= ?)"
)
_VALID = " AND billable = {true}" + DATES
_ROWS = (
    "SELECT code, long_description, billable FROM code_entry WHERE {where} ORDER BY code LIMIT ?"
)
_COUNT = "SELECT count(*) FROM (SELECT 1 FROM code_entry WHERE {where} LIMIT ?) c"
_NEXT = {"9": "A", "Z": None, **{c: chr(ord(c) + 1) for c in "012345678ABCDEFGHIJKLMNOPQRSTUVWXY"}}

Row = tuple[System, str, str, bool, ReleaseRef]  # system, code, description, billable, release


@dataclass
class Found:
    total: int = 0
    capped: bool = False
    rows: list[Row] = field(default_factory=list)


def written(system: System, prefix: str) -> str:
    """How ``prefix`` is written in ``system``: ICD-10-CM codes are stored with their dot."""
    if system == System.ICD10CM:
        return icd10cm_with_dot(prefix) if "." not in prefix else prefix
    return prefix.replace(".", "")


def code_range(prefix: str) -> tuple[str, str]:
    """Bounds that hold every code starting with ``prefix`` in any collation.

    They are taken from the part before a dot, and raised by letter or digit, never
    to punctuation, because some collations ignore punctuation (``S52.`` and ``S52/``
    compare equal there).
    """
    head = prefix.split(".", 1)[0]
    while head:
        following = _NEXT[head[-1]]
        if following is not None:
            return head, head[:-1] + following
        head = head[:-1]
    return "", "\uffff"


def search(reader: Reader, scope: Scope, prefix: str, most: int) -> Found:
    """The first ``most`` codes of each release in ``scope`` starting with ``prefix``, and
    how many there are."""
    found, where, dates = Found(), _WHERE, ()
    if scope.billable:
        where += _VALID.format(true="true" if reader.postgres else "1")
        dates = (scope.on.isoformat(), scope.on.isoformat())
    for system, release in scope.releases.items():
        if CODES not in scope.kinds[release.id]:
            continue
        if "." in prefix and system != System.ICD10CM:
            continue  # only ICD-10-CM codes are written with a dot
        start = written(system, prefix)
        bounds = (release.id, *code_range(start), start + "%", *dates)
        counted = reader.rows(_COUNT.format(where=where), (*bounds, MAX_COUNT + 1))[0][0]
        found.total += counted
        found.capped |= counted > MAX_COUNT
        for code, text, billable in reader.rows(_ROWS.format(where=where), (*bounds, most)):
            found.rows.append((system, code, text, bool(billable), release))
    return found
