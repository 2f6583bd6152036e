"""The word search on SQLite: FTS5 queries over ``code_search_fts`` and ``code_search_words``.

Everything a search filters by is a word of the ``tags`` column (``rel12``,
``modifier``, ``heading``, ``dated``), so counting and reading matches in
rowid order is answered from the index alone, without reading a row's
content. To leave out what is not valid on the date asked, only the rows
tagged ``dated`` (terminated, or starting after their release: a few hundred
HCPCS codes and modifiers) are read, and every row of a release that starts
after that date (the earliest release answers for a date before them all).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from consultant.codes.readonly import Reader
from consultant.codes.search_scope import MODIFIERS, Scope, kinds_held

# Column weights of bm25: description, short description, inclusion terms, tags.
_RANK = "bm25(code_search_fts, 1.0, 0.5, 0.3, 0.0)"
_WHERE = "code_search_fts MATCH ?{excluded}"
_EXCLUDED = " AND rowid NOT IN (SELECT value FROM json_each(?))"
_COUNT = "SELECT count(*) FROM (SELECT 1 FROM code_search_fts WHERE {where} LIMIT ?)"
_WINDOW = (
    f"SELECT rowid, release_id, code, kind, billable, description, {_RANK} "
    "FROM code_search_fts WHERE {where} ORDER BY rowid LIMIT ? OFFSET ?"
)
# Read by the rows' rowid range and picked out here: given a list of rowids as well, SQLite
# drops the range and FTS5 reads every match.
_DESCRIBED = (
    "SELECT rowid FROM code_search_fts WHERE code_search_fts MATCH ? AND rowid BETWEEN ? AND ?"
)
_TERMS = (
    "SELECT rowid, highlight(code_search_fts, 2, char(2), char(3)) FROM code_search_fts "
    "WHERE code_search_fts MATCH ? AND rowid BETWEEN ? AND ?"
)
_ANY = "SELECT 1 FROM code_search_fts WHERE code_search_fts MATCH ? LIMIT 1"
_DATED = (
    "SELECT rowid FROM code_search_fts WHERE code_search_fts MATCH ? AND "
    "((valid_from IS NOT NULL AND valid_from > ?) OR (valid_to IS NOT NULL AND valid_to < ?))"
)
_SIMILAR = (
    "SELECT word, entries FROM code_search_words WHERE code_search_words MATCH ? "
    "AND release_id IN ({marks}) ORDER BY rank LIMIT ?"
)
_SEARCHED = "{description short terms}"
_DESCRIPTIONS = "{description short}"


# PostgreSQL's english stop words (its tsearch_data/english.stop), which to_tsquery drops:
# left out here too, so both databases search the same words, and FTS5 does not merge the
# lists of every description holding "of" or "with" for nothing.
STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what
    which who whom this that these those am is are was were be been being have has had
    having do does did doing a an the and but if or because as until while of at by for
    with about against between into through during before after above below to from up
    down in out on off over under again further then once here there when where why how
    all any both each few more most other some such no nor not only own same so than too
    very s t can will just don should now
    """.split()  # noqa: SIM905
)


def _phrase(word: str) -> str:
    """``word`` quoted as an FTS5 string and matched as a prefix; one letter matches whole
    (as a prefix it would match most of the data)."""
    return f'"{word}"' + ("*" if len(word) > 1 else "")


def _words(words: Sequence[str], columns: str = _SEARCHED) -> str:
    """``words`` in ``columns``, every one (stop words only when there is nothing else)."""
    kept = [w for w in words if w not in STOP_WORDS] or words
    return f"{columns}: (" + " AND ".join(_phrase(w) for w in kept) + ")"


class SqliteSearch:
    """One search's queries; the rows not valid on the date are looked up once."""

    def __init__(self, reader: Reader, scope: Scope) -> None:
        self.reader, self.scope = reader, scope
        self._excluded: list[int] | None = None

    def _tags(self) -> str:
        """The scope as tag words: the releases (and kinds) searched, and no headings."""
        parts = []
        if self.scope.narrowed:
            each = []
            for system, release in self.scope.releases.items():
                kinds = self.scope.kinds[release.id]
                tag = f"rel{release.id}"
                if kinds != kinds_held(system):
                    only = "AND" if kinds == (MODIFIERS,) else "NOT"
                    tag = f"({tag} {only} modifier)"
                each.append(tag)
            parts.append("{tags}: (" + " OR ".join(each) + ")")
        return " AND ".join(parts)

    def _match(self, words: Sequence[str], columns: str = _SEARCHED) -> str:
        query = " AND ".join(p for p in (self._tags(), _words(words, columns)) if p)
        return query + (" NOT {tags}: heading" if self.scope.billable else "")

    def _where(self, words: Sequence[str]) -> tuple[str, tuple[object, ...]]:
        excluded = self.excluded()
        if not excluded:
            return _WHERE.format(excluded=""), (self._match(words),)
        return _WHERE.format(excluded=_EXCLUDED), (self._match(words), json.dumps(excluded))

    def excluded(self) -> list[int]:
        """Rows with dates that make them not valid on the date asked, when that matters."""
        if not self.scope.billable:
            return []
        if self._excluded is None:
            releases = self.scope.releases.values()
            read = [f"rel{r.id}" for r in releases if r.effective_from > self.scope.on]
            read.append("(dated AND (" + " OR ".join(f"rel{r.id}" for r in releases) + "))")
            day = self.scope.on.isoformat()
            match = "{tags}: (" + " OR ".join(read) + ")"
            self._excluded = [rowid for (rowid,) in self.reader.rows(_DATED, (match, day, day))]
        return self._excluded

    def count(self, words: Sequence[str], most: int) -> int:
        where, parameters = self._where(words)
        return int(self.reader.rows(_COUNT.format(where=where), (*parameters, most))[0][0])

    def window(
        self, words: Sequence[str], start: int, size: int, dense: bool
    ) -> list[tuple[Any, ...]]:
        """Matches ``start`` to ``start + size`` in reading order, each with its rank (lower
        is better). FTS5 reads them in rowid order however many match."""
        where, parameters = self._where(words)
        return self.reader.rows(_WINDOW.format(where=where), (*parameters, size, start))

    def terms(self, words: Sequence[str], keys: Sequence[int]) -> dict[int, str]:
        """The inclusion terms, matches marked, of the rows whose descriptions lack a word."""
        if not keys:
            return {}
        span = (min(keys), max(keys))
        described = self.reader.rows(_DESCRIBED, (_words(words, _DESCRIPTIONS), *span))
        rest = set(keys) - {rowid for (rowid,) in described}
        if not rest:
            return {}
        found = self.reader.rows(_TERMS, (_words(words), min(rest), max(rest)))
        return {rowid: terms for rowid, terms in found if rowid in rest and terms}

    def exists(self, word: str) -> bool:
        return bool(self.reader.rows(_ANY, (self._match([word]),)))

    def similar(self, word: str, most: int) -> list[tuple[str, int]]:
        """Words of the releases searched sharing the most three-letter pieces with ``word``."""
        pieces = sorted({word[i : i + 3] for i in range(len(word) - 2)})
        if not pieces:
            return []
        ids = list(self.scope.kinds)
        marks = ", ".join("?" for _ in ids)
        match = " OR ".join(f'"{piece}"' for piece in pieces)
        return self.reader.rows(_SIMILAR.format(marks=marks), (match, *ids, most))
