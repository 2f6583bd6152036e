"""Finding codes and modifiers by code or prefix, or by words, ranked and forgiving of typos.

Only the release of each code system in force on the date asked is searched,
so a code appears once, with the description that release gives it. A query
shaped like a code (``E11.``, ``992``) lists the codes starting with it, the
code itself first; a modifier (``25``, ``XS``, ``modifier 59``) comes first
too. Otherwise its words are matched as prefixes in descriptions, in
ICD-10-CM inclusion terms and in HCPCS Level II modifiers, best matches first
(``search_words``); a word found nowhere is replaced by the closest word of
the loaded data (``spelling``), and the result says so. The query never
reaches a search syntax as typed: it is cut into plain words first.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from consultant.codes import search_prefix, search_words, spelling
from consultant.codes.choice import choose
from consultant.codes.modifiers import CPT_MEANINGS
from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef, read_releases
from consultant.codes.search_scope import CODES, MODIFIERS, Scope, kinds_held
from consultant.codes.search_words import MAX_COUNT
from consultant.codes.systems import RELEASE_KIND, System

MAX_QUERY = 200
MAX_WORDS = 8
MAX_WORD = 40
MAX_OFFSET = MAX_COUNT  # no page goes further than matches are counted
# A code or the start of one: letters and digits, one dot at most, at least one digit.
_CODE_PREFIX = re.compile(r"^(?=[^.]*\d)[A-Z0-9]{1,7}(?:\.[A-Z0-9]{0,4})?$")
# A modifier named as one ("modifier 59", "mod XS", "-25"), or two characters alone.
_NAMED_MODIFIER = re.compile(r"^(?:MODIFIER\s+|MOD\s+|-)([A-Z0-9]{2})$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_WORD = re.compile(r"[^\W_]+")
_LEVEL_TWO_MODIFIER = (
    "SELECT long_description FROM hcpcs_modifier WHERE release_id = ? AND code = ?{valid}"
)


class SearchMode:
    CODE = "code"  # by code or its first characters (a modifier of that code first)
    MODIFIER = "modifier"  # a modifier named as one: "modifier 59", "-25"
    WORDS = "words"  # by words of the description
    EMPTY = "empty"  # nothing searchable was typed


class CodeSet(StrEnum):
    """What a search may be limited to: a code system's codes, or the modifiers."""

    ICD10CM = "ICD-10-CM"
    ICD10PCS = "ICD-10-PCS"
    HCPCS = "HCPCS"
    CPT = "CPT"
    MODIFIERS = "modifiers"


@dataclass
class Hit:
    system: str
    code: str
    description: str
    billable: bool
    release: dict[str, Any] | None  # None: our own summary of a CPT modifier
    kind: str = CODES  # or MODIFIERS
    term: str | None = None  # the ICD-10-CM inclusion term it was found by


@dataclass
class Correction:
    typed: str
    used: str


@dataclass
class SearchResult:
    query: str
    on: str
    mode: str
    total: int = 0
    offset: int = 0
    hits: list[Hit] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)  # what was searched
    words: list[str] = field(default_factory=list)  # as searched: corrected; a modifier
    corrections: list[Correction] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)  # the code sets asked for; none: all
    billable: bool = False  # only codes valid on a claim on ``on``
    total_capped: bool = False  # more match than ``total``, which is then MAX_COUNT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def words_of(query: str) -> list[str]:
    """The plain words of ``query`` (letters and digits), lower case, a bounded number."""
    return [w[:MAX_WORD] for w in _WORD.findall(query.lower())][:MAX_WORDS]


def code_prefix(query: str) -> str | None:
    """``query`` as the start of a code (``e11.9``, ``2988``, ``J11``), else None."""
    text = query.strip().upper()
    return text if _CODE_PREFIX.match(text) else None


def modifier_code(query: str) -> tuple[str, bool] | None:
    """The modifier ``query`` may be, and whether it was named as one (``modifier 59``)."""
    text = " ".join(query.split()).upper()
    named = _NAMED_MODIFIER.match(text)
    if named:
        return named[1], True
    return (text, False) if _MODIFIER.match(text) else None


def scope_of(reader: Reader, on: date, sets: frozenset[CodeSet], billable: bool) -> Scope:
    """The releases in force on ``on`` of the sets asked for (all when none), and of each
    whether its codes, its modifiers or both are searched."""
    wanted = sets or frozenset(CodeSet)
    releases: dict[System, ReleaseRef] = {}
    kinds: dict[int, tuple[str, ...]] = {}
    narrowed = False
    for system, kind in RELEASE_KIND.items():
        every = read_releases(reader, kind)
        release = choose(every, on)
        if release is None:
            continue
        chosen = (CODES,) if CodeSet(str(system)) in wanted else ()
        if system == System.HCPCS and CodeSet.MODIFIERS in wanted:
            chosen += (MODIFIERS,)
        narrowed |= len(every) > 1 or chosen != kinds_held(system)
        if chosen:
            releases[system], kinds[release.id] = release, chosen
    return Scope(on, billable, releases, kinds, narrowed)


def search_codes(
    reader: Reader,
    query: str,
    on: date | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    sets: frozenset[CodeSet] = frozenset(),
    billable: bool = False,
) -> SearchResult:
    """Codes and modifiers matching ``query`` in the releases in force on ``on`` (today by
    default), of the code ``sets`` given (all when none), only those valid on a claim
    then if ``billable``."""
    on = on or date.today()
    query = query[:MAX_QUERY]
    offset = max(0, min(offset, MAX_OFFSET))
    scope = scope_of(reader, on, sets, billable)
    result = SearchResult(query, on.isoformat(), SearchMode.EMPTY, offset=offset)
    result.releases = [r.describe() for r in scope.releases.values()]
    result.sets, result.billable = sorted(sets), billable
    named = modifier_code(query)
    exact = _modifiers(reader, scope, named[0] if named else None, sets)
    prefix = code_prefix(query)
    if named and named[1]:
        result.mode, result.words = SearchMode.MODIFIER, [named[0]]
        result.total, result.hits = len(exact), exact[offset : offset + limit]
    elif prefix is not None:
        result.mode = SearchMode.CODE
        _by_prefix(reader, result, scope, prefix, limit, exact)
    elif words := words_of(query):
        result.mode = SearchMode.WORDS
        _by_words(reader, result, scope, words, limit, exact)
    return result


def _modifiers(
    reader: Reader, scope: Scope, code: str | None, sets: frozenset[CodeSet]
) -> list[Hit]:
    """Modifier ``code``, if the query may be one: the HCPCS Level II release's text, and
    our own summary of a CPT modifier (CPT's text is the AMA's)."""
    if code is None or (sets and CodeSet.MODIFIERS not in sets):
        return []
    hits = []
    release = scope.releases.get(System.HCPCS)
    if release is not None and MODIFIERS in scope.kinds.get(release.id, ()):
        valid, dates = "", ()
        if scope.billable:
            valid, dates = search_prefix.DATES, (scope.on.isoformat(), scope.on.isoformat())
        sql = _LEVEL_TWO_MODIFIER.format(valid=valid)
        for (text,) in reader.rows(sql, (release.id, code, *dates)):
            hits.append(Hit(str(System.HCPCS), code, text, True, release.describe(), MODIFIERS))
    if code in CPT_MEANINGS:
        hits.append(Hit(str(System.CPT), code, CPT_MEANINGS[code], True, None, MODIFIERS))
    return hits


def _by_prefix(
    reader: Reader,
    result: SearchResult,
    scope: Scope,
    prefix: str,
    limit: int,
    modifiers: list[Hit],
) -> None:
    """Exact matches first (codes and modifiers), then the rest in code order."""
    found = search_prefix.search(reader, scope, prefix, result.offset + limit)
    hits = modifiers + [
        Hit(str(system), code, text, billable, release.describe())
        for system, code, text, billable, release in found.rows
    ]
    exact = {search_prefix.written(System(h.system), prefix) for h in hits}
    hits.sort(key=lambda h: (h.code not in exact, h.kind != MODIFIERS, h.code, h.system))
    result.hits = hits[result.offset : result.offset + limit]
    result.total = min(len(modifiers) + found.total, MAX_COUNT)
    result.total_capped = found.capped


def _by_words(
    reader: Reader,
    result: SearchResult,
    scope: Scope,
    words: list[str],
    limit: int,
    modifiers: list[Hit],
) -> None:
    """The modifier named first, then the ranked matches; if nothing matches, the words
    found nowhere replaced by their closest spelling in the data."""
    offset = max(0, result.offset - len(modifiers))
    ranked = search_words.search(reader, scope, words, limit, offset)
    if ranked.total == 0 and not modifiers:
        corrected = spelling.correct(reader, scope, words)
        if corrected != words:
            retried = search_words.search(reader, scope, corrected, limit, offset)
            if retried.total:
                result.corrections = [
                    Correction(typed, used)
                    for typed, used in zip(words, corrected, strict=True)
                    if typed != used
                ]
                ranked, words = retried, corrected
    result.words = words
    shown = {(h.system, h.code) for h in modifiers}
    found = [_hit(row) for row in ranked.rows if (row.system, row.code) not in shown]
    head = modifiers[result.offset : result.offset + limit]
    result.hits = head + found[: limit - len(head)]
    result.total = min(len(modifiers) + ranked.total, MAX_COUNT)
    result.total_capped = ranked.capped


def _hit(row: search_words.Row) -> Hit:
    return Hit(
        str(row.system),
        row.code,
        row.description,
        row.billable,
        row.release.describe(),
        row.kind,
        row.term,
    )
