"""One question's analysis: its codes, modifiers, units, dates, setting, topics and PHI.

The caller gives the new text of a message (quoted replies and the signature
already removed by the mail layer). The subject is read first, as a coder
often puts the codes there ("99213-25 with 11102"). Nothing here reads a
database; where a code's shape is ambiguous, ``known`` (from the caller's
loaded code data) may settle it.
"""

from __future__ import annotations

from datetime import date

from consultant.analysis.codes import find_mentions, unique_codes
from consultant.analysis.dates import service_lines
from consultant.analysis.model import Analysis, FoundCode, Known
from consultant.analysis.modifiers import find_modifiers
from consultant.analysis.phi import find_phi
from consultant.analysis.purpose import CODING, find_purpose
from consultant.analysis.setting import find_setting
from consultant.analysis.topics import find_topics
from consultant.analysis.units import find_units
from consultant.analysis.wording import Wording


def analyze(
    subject: str, text: str, known: Known | None = None, today: date | None = None
) -> Analysis:
    """Everything the facts and the draft need from ``subject`` and ``text``.

    ``today`` gives the year of a date written without one ("seen on 11/15").
    """
    whole = f"{subject}\n\n{text}" if subject else text  # the subject: a sentence of its own
    mentions = find_mentions(whole, known)
    modifiers = find_modifiers(whole, mentions, known)
    units = find_units(whole, mentions)
    wording = Wording.of(whole)
    ties: dict[tuple[str, str], list[str]] = {}
    for index, mention in enumerate(mentions):
        tied = ties.setdefault((mention.system, mention.code), [])
        tied.extend(m for m in modifiers.tied.get(index, ()) if m not in tied)
    counts: dict[str, int] = {}
    for unit in units:
        if unit.code is not None:
            counts.setdefault(unit.code, unit.count)
    codes = tuple(
        FoundCode(system, code, tuple(ties[(system, code)]), counts.get(code))
        for system, code in unique_codes(mentions)
    )
    purpose = find_purpose(whole, bool(codes or modifiers.named), wording)
    if purpose != CODING:  # no code analysis: what looks like a code there is not asked about
        return Analysis(phi_kinds=tuple(find_phi(whole).kinds), purpose=purpose)
    lines = tuple(service_lines(whole, mentions, today))  # each date of service, with its codes
    return Analysis(
        codes=codes,
        modifiers=tuple(modifiers.named),
        units=tuple(units),
        dates_of_service=tuple(dict.fromkeys(line.on for line in lines)),
        lines=lines,
        setting=find_setting(whole, wording),
        topics=find_topics(whole, mentions, modifiers.named, wording, known),
        phi_kinds=tuple(find_phi(whole).kinds),
    )
