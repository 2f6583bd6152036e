"""Finding codes by code or prefix, or by words of their descriptions, ranked.

Only the release of each code system in force on the date asked is searched,
so a code appears once, with the description that release gives it. Words
are matched as prefixes (``diab fract`` finds "diabetes" and "fracture") and
ranked by relevance: PostgreSQL's ``ts_rank`` over the stored, GIN-indexed
English tsvectors, SQLite's FTS5 ``bm25`` (see ``search_index``). The query
never reaches either search syntax as typed: it is cut into plain words first.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.choice import choose
from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef, read_releases
from consultant.codes.systems import RELEASE_KIND, System, icd10cm_with_dot

MAX_QUERY = 200
MAX_WORDS = 8
MAX_WORD = 40
MAX_OFFSET = 10_000
# A code or the start of one: letters and digits, one dot at most, at least one digit.
_CODE_PREFIX = re.compile(r"^(?=[^.]*\d)[A-Z0-9]{1,7}(?:\.[A-Z0-9]{0,4})?$")
_WORD = re.compile(r"[^\W_]+")
# Ranked in the index alone, then only the page's rows are joined to their entries.
# PostgreSQL's rank is divided by the description's length (normalisation 2), as bm25
# weighs it: "Fracture of head of radius" before a long 7th-character variant.
_PG_WORDS = (
    "SELECT f.release_id, f.code, e.long_description, e.billable FROM ("
    "SELECT release_id, code, ts_rank(document, q, 2) AS score "
    "FROM code_search_fts, to_tsquery('english', ?) q "
    "WHERE release_id IN ({marks}) AND document @@ q ORDER BY score DESC, code LIMIT ? OFFSET ?"
    ") f JOIN code_entry e ON e.release_id = f.release_id AND e.code = f.code "
    "ORDER BY f.score DESC, f.code"
)
_PG_WORDS_COUNT = (
    "SELECT count(*) FROM code_search_fts, to_tsquery('english', ?) q "
    "WHERE release_id IN ({marks}) AND document @@ q"
)
_SQLITE_WORDS = (
    "SELECT f.release_id, f.code, e.long_description, e.billable FROM ("
    "SELECT release_id, code, bm25(code_search_fts) AS score FROM code_search_fts "
    "WHERE code_search_fts MATCH ? AND release_id IN ({marks}) ORDER BY score, code "
    "LIMIT ? OFFSET ?"
    ") f JOIN code_entry e ON e.release_id = f.release_id AND e.code = f.code "
    "ORDER BY f.score, f.code"
)
_SQLITE_WORDS_COUNT = (
    "SELECT count(*) FROM code_search_fts WHERE code_search_fts MATCH ? AND release_id IN ({marks})"
)
# A range on the code lets either database walk its index; LIKE then keeps exactly the
# codes that start with the prefix (plain letters, digits and a dot: no wildcard in it).
_PREFIX_WHERE = "release_id = ? AND code >= ? AND code < ? AND code LIKE ?"
_PREFIX = (
    "SELECT release_id, code, long_description, billable FROM code_entry "
    f"WHERE {_PREFIX_WHERE} ORDER BY code LIMIT ?"
)
_PREFIX_COUNT = f"SELECT count(*) FROM code_entry WHERE {_PREFIX_WHERE}"
_NEXT = {"9": "A", "Z": None, **{c: chr(ord(c) + 1) for c in "012345678ABCDEFGHIJKLMNOPQRSTUVWXY"}}


class SearchMode:
    CODE = "code"  # by code or its first characters
    WORDS = "words"  # by words of the description
    EMPTY = "empty"  # nothing searchable was typed


@dataclass
class Hit:
    system: str
    code: str
    description: str
    billable: bool
    release: dict[str, Any]


@dataclass
class SearchResult:
    query: str
    on: str
    mode: str
    total: int = 0
    offset: int = 0
    hits: list[Hit] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)  # what was searched
    words: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def words_of(query: str) -> list[str]:
    """The plain words of ``query`` (letters and digits), lower case, a bounded number."""
    return [w[:MAX_WORD] for w in _WORD.findall(query.lower())][:MAX_WORDS]


def code_prefix(query: str) -> str | None:
    """``query`` as the start of a code (``e11.9``, ``2988``, ``J11``), else None."""
    text = query.strip().upper()
    return text if _CODE_PREFIX.match(text) else None


def _in_force(reader: Reader, on: date) -> dict[System, ReleaseRef]:
    found = {}
    for system, kind in RELEASE_KIND.items():
        release = choose(read_releases(reader, kind), on)
        if release is not None:
            found[system] = release
    return found


def search_codes(
    reader: Reader, query: str, on: date | None = None, limit: int = 50, offset: int = 0
) -> SearchResult:
    """Codes matching ``query`` in the releases in force on ``on`` (today by default)."""
    on = on or date.today()
    query = query[:MAX_QUERY]
    offset = max(0, min(offset, MAX_OFFSET))
    releases = _in_force(reader, on)
    result = SearchResult(query, on.isoformat(), SearchMode.EMPTY, offset=offset)
    result.releases = [r.describe() for r in releases.values()]
    prefix = code_prefix(query)
    if prefix is not None:
        result.mode = SearchMode.CODE
        _by_prefix(reader, result, releases, prefix, limit)
    elif words := words_of(query):
        result.mode, result.words = SearchMode.WORDS, words
        _by_words(reader, result, releases, words, limit)
    return result


def _prefix_for(system: System, prefix: str) -> str:
    """How ``prefix`` is written in ``system``: ICD-10-CM codes are stored with their dot."""
    if system == System.ICD10CM:
        return icd10cm_with_dot(prefix) if "." not in prefix else prefix
    return prefix.replace(".", "")


def _code_range(prefix: str) -> tuple[str, str]:
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


def _by_prefix(
    reader: Reader,
    result: SearchResult,
    releases: dict[System, ReleaseRef],
    prefix: str,
    limit: int,
) -> None:
    """Exact matches first, then the rest in code order, across systems."""
    hits: list[Hit] = []
    for system, release in releases.items():
        if "." in prefix and system != System.ICD10CM:
            continue  # only ICD-10-CM codes are written with a dot
        written = _prefix_for(system, prefix)
        where = (release.id, *_code_range(written), written + "%")
        result.total += reader.rows(_PREFIX_COUNT, where)[0][0]
        for _, code, description, billable in reader.rows(_PREFIX, (*where, result.offset + limit)):
            hits.append(Hit(str(system), code, description, bool(billable), release.describe()))
    exact = {_prefix_for(System(h.system), prefix) for h in hits}
    hits.sort(key=lambda h: (h.code not in exact, h.code, h.system))
    result.hits = hits[result.offset : result.offset + limit]


def _by_words(
    reader: Reader,
    result: SearchResult,
    releases: dict[System, ReleaseRef],
    words: list[str],
    limit: int,
) -> None:
    if not releases:
        return
    systems = {r.id: s for s, r in releases.items()}
    marks = ", ".join("?" for _ in releases)
    ids = tuple(systems)
    # A word of one letter is matched whole: as a prefix it would match most of the data.
    if reader.postgres:
        match = " & ".join(w + (":*" if len(w) > 1 else "") for w in words)
        found, count = _PG_WORDS, _PG_WORDS_COUNT
    else:
        match = " AND ".join(f'"{w}"' + ("*" if len(w) > 1 else "") for w in words)
        found, count = _SQLITE_WORDS, _SQLITE_WORDS_COUNT
    result.total = reader.rows(count.format(marks=marks), (match, *ids))[0][0]
    rows = reader.rows(found.format(marks=marks), (match, *ids, limit, result.offset))
    result.hits = [
        Hit(str(systems[rid]), code, text, bool(billable), releases[systems[rid]].describe())
        for rid, code, text, billable in rows
    ]
