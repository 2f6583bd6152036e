"""Dates of service a question states, told apart from birth dates and claim dates.

The facts are looked up "as of the date of service", so a wrong date gives a
wrong edit or a deleted code. A date counts when the text says it is the
service date ("DOS 09/30/2026", "date of service is 10/01/2026"), or when the
service happened "on" it ("seen on March 3, 2026", "billed 99204 on
09/30/2026"). It does not count when it is a date of birth (that is PHI, see
``phi``), or when "on" follows what was done to the claim ("submitted ... on",
"denied on", "valid through").

Each date is also tied to the line it describes (``service_lines``): the codes
named in its sentence, and whether it is a procedure's date or a visit's, so
that each line's facts are looked up as of its own date and a global period is
counted from the procedure's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from consultant.analysis.model import Line
from consultant.analysis.phi import DOB_LABEL
from consultant.analysis.wording import lower_keeping_offsets

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# 09/30/2026, 9-30-26, 30.09.2026 read as month first, 2026-09-30. Each pattern starts with a
# digit or a month's first letter, so the search skips quickly to where a date may start.
_NUMERIC = re.compile(
    r"(?P<a>\d\d{0,3})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})(?![\w/])"
)
# 10/02 without a year: the year comes from the other dates written, else from today.
_MONTH_DAY = re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\w/])")
# March 3, 2026; mar. 3rd 2026 (in the lower-cased text).
_MONTH_FIRST = re.compile(
    rf"(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b"
)
# 3 March 2026.
_DAY_FIRST = re.compile(rf"(?P<day>\d\d?)\s+(?P<month>{_MONTH})\.?,?\s+(?P<year>\d{{4}})\b")

_SAID_SERVICE = re.compile(
    r"(?i:\b(?:dos|dates? of service|service dates?|date of (?:the )?(?:visit|encounter|surgery)"
    r"|(?:visit|encounter|surgery) date))\W{0,3}(?:(?:is|was|were|of|on)\s+)*\Z"
)
_SAID_BIRTH = re.compile(rf"(?i:\b{DOB_LABEL})\W{{0,3}}(?:(?:is|was)\s+)*\Z")
_ON = re.compile(r"(?i:\bon(?: or about)?)\s+\Z")
# What was done to a claim rather than to the patient: "submitted a claim ... on 02/02/2024".
_CLAIM_VERB = re.compile(
    r"(?i:\b(?:submitted|resubmitted|filed|sent|mailed|faxed|received|denied|paid|rejected|"
    r"appealed|processed|posted|called|spoke|emailed|approved|effective|expire[sd]?|valid)\b)"
)
# Where a sentence ends; a single newline does not end one (mail is wrapped at 72 columns).
_SENTENCE_ENDS = (". ", "? ", "! ", "; ", ".\n", "?\n", "!\n", "\n\n")
# A date right after a date of service continues a range: "DOS 10/01/2026-10/03/2026".
_RANGE = re.compile(r"\s*(?:-|\u2013|to|through|thru)\s*\Z", re.I)
_REACH = 40
# A date does not start inside a word, a number or a path.
_JOINED = re.compile(r"[\w/.]")
_SENTENCE_REACH = 200


def _numeric(match: re.Match[str]) -> date | None:
    first, second, third = (match.group(g) for g in "abc")
    if len(first) == 4 and len(third) <= 2:
        return _valid(int(first), int(second), int(third))
    if len(first) <= 2 and len(third) in (2, 4):
        return _valid(int(third) + (2000 if len(third) == 2 else 0), int(first), int(second))
    return None


def _named(match: re.Match[str]) -> date | None:
    return _valid(int(match["year"]), _MONTHS[match["month"]], int(match["day"]))


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates(text: str, today: date | None = None) -> list[tuple[int, int, date]]:
    """(start, end, date) of every date written in ``text``, in order."""
    lowered = lower_keeping_offsets(text)
    found = [(m.start(), m.end(), _numeric(m)) for m in _NUMERIC.finditer(text)]
    found += [(m.start(), m.end(), _named(m)) for m in _MONTH_FIRST.finditer(lowered)]
    found += [(m.start(), m.end(), _named(m)) for m in _DAY_FIRST.finditer(lowered)]
    full = [f for f in found if f[2] is not None]
    taken = [(start, end) for start, end, _ in full]
    found += [
        (m.start(), m.end(), _without_year(m, full, today))
        for m in _MONTH_DAY.finditer(text)
        if not any(start <= m.start() < end for start, end in taken)
    ]
    return sorted(
        (start, end, when)
        for start, end, when in found
        if when is not None and (start == 0 or not _JOINED.match(text, start - 1))
    )


def _without_year(
    match: re.Match[str], full: list[tuple[int, int, date | None]], today: date | None
) -> date | None:
    """10/02 as a date: in the year of the nearest date written in full, else the latest
    such date on or before ``today`` (a question asks about services already given)."""
    month, day = int(match["a"]), int(match["b"])
    if full:
        nearest = min(full, key=lambda f: abs(f[0] - match.start()))[2]
        assert nearest is not None
        return _valid(nearest.year, month, day)
    today = today or date.today()
    when = _valid(today.year, month, day)
    if when is not None and when > today:
        when = _valid(today.year - 1, month, day)
    return when


def _sentence_start(text: str, position: int) -> int:
    start = max(0, position - _SENTENCE_REACH)
    for end in _SENTENCE_ENDS:
        found = text.rfind(end, start, position)
        if found >= 0:
            start = found + len(end)
    return start


def _is_service(text: str, start: int, previous_end: int | None) -> bool:
    window = max(0, start - _REACH)
    if _SAID_BIRTH.search(text, window, start):
        return False
    if _SAID_SERVICE.search(text, window, start):
        return True
    if previous_end is not None and _RANGE.fullmatch(text, previous_end, start):
        return True
    if not _ON.search(text, window, start):
        return False
    return not _CLAIM_VERB.search(text, _sentence_start(text, start), start)


def _service_dates(text: str, today: date | None) -> list[tuple[int, int, date]]:
    found = []
    previous_end: int | None = None
    for start, end, when in _dates(text, today):
        if _is_service(text, start, previous_end):
            previous_end = end
            found.append((start, end, when))
    return found


def dates_of_service(text: str, today: date | None = None) -> list[date]:
    """Each date of service stated in ``text``, once, in order (``analyze`` takes them from
    ``service_lines``, which finds the same dates)."""
    found: list[date] = []
    for _, _, when in _service_dates(text, today):
        if when not in found:
            found.append(when)
    return found


class _Placed(Protocol):
    code: str
    start: int


_PROCEDURE_WORDS = re.compile(
    r"(?i:\b(?:surgery|surgical|procedure|operation|operated|operative|repair(?:ed)?|"
    r"excision|arthroscopy|fracture care|performed|post-?op|op)\b)"
)
_VISIT_WORDS = re.compile(
    r"(?i:\b(?:visit|seen|sees|office|follow-?up|e/m|e&m|evaluation|encounter|consult(?:ation)?|"
    r"came (?:back|in)|returns?|returned)\b)"
)


def _role(text: str, start: int, sentence: int) -> str | None:
    """The word nearest before the date (within its sentence) says whose date it is."""
    words = [(m.end(), "procedure") for m in _PROCEDURE_WORDS.finditer(text, sentence, start)] + [
        (m.end(), "visit") for m in _VISIT_WORDS.finditer(text, sentence, start)
    ]
    return max(words)[1] if words else None


def service_lines(text: str, mentions: Sequence[_Placed], today: date | None = None) -> list[Line]:
    """Each date of service with the codes it describes, in order.

    A date takes the codes written before it in its sentence, back to the date
    before it ("27447 on 10/02/2026 and 99213 on 11/15/2026"); when none are, the
    codes right after it, joined by words like "for" or "with" ("seen on 11/15/2026
    for 99213"; not "on 10/02: can we bill 99214?", which asks about another line).
    """
    dated = _service_dates(text, today)
    lines = []
    for index, (start, end, when) in enumerate(dated):
        sentence = _sentence_start(text, start)
        if index and dated[index - 1][1] > sentence:
            sentence = dated[index - 1][1]
        codes = _codes_between(mentions, sentence, start) or _codes_after(text, mentions, end)
        lines.append(Line(when, _role(text, start, sentence), codes))
    return lines


# What may stand between a date and the codes after it that belong to its line.
_JOINING = re.compile(
    r"[\s,:(\-\u2013]*(?:(?:for|with|billed|as|an?|the|cpt|code|codes|and|e/m|visit)\b"
    r"[\s,:(\-\u2013]*)*",
    re.I,
)


def _codes_after(text: str, mentions: Sequence[_Placed], end: int) -> tuple[str, ...]:
    codes: list[str] = []
    for mention in sorted((m for m in mentions if m.start >= end), key=lambda m: m.start):
        if not _JOINING.fullmatch(text, end, mention.start):
            break
        codes.append(mention.code)
        end = mention.start + len(mention.code)
    return tuple(dict.fromkeys(codes))


def _codes_between(mentions: Sequence[_Placed], start: int, stop: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.code for m in mentions if start <= m.start < stop))
