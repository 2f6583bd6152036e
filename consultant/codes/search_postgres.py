"""The word search on PostgreSQL: weighted tsvectors with a GIN index, and pg_trgm.

A window of matches in reading order (``position``) is read one of two ways,
chosen by how many match, because the planner cannot know: a few thousand
are found through the GIN index and sorted; beyond that, walking the
``position`` index and testing each row finds a window sooner, since most
rows match. ``ts_match_vq`` is ``@@`` as a function, which no index serves:
it keeps the planner on the ``position`` index for the dense case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consultant.codes.readonly import Reader
from consultant.codes.search_scope import Scope

_QUERY = "to_tsquery('english', ?)"
_FILTER = "(f.release_id, f.kind) IN ({pairs})"
_VALID = (
    " AND f.billable AND (f.valid_from IS NULL OR f.valid_from <= ?) "
    "AND (f.valid_to IS NULL OR f.valid_to >= ?)"
)
_COUNT = (
    f"SELECT count(*) FROM (SELECT 1 FROM code_search_fts f, {_QUERY} q "
    "WHERE f.document @@ q AND {filters} LIMIT ?) c"
)
_WINDOW = (
    "SELECT w.position, w.release_id, w.code, w.kind, w.billable, w.description, "
    f"-ts_rank(w.document, q, 2) FROM (SELECT f.* FROM code_search_fts f, {_QUERY} q "
    "WHERE {match} AND {filters} ORDER BY {order} LIMIT ? OFFSET ?) w, "
    f"{_QUERY} q"
)
# Terms marked where they match, for the rows whose descriptions lack a word.
_TERMS = (
    "SELECT f.position, ts_headline('english', f.terms, q, "
    "'HighlightAll=true, StartSel=\x02, StopSel=\x03') "
    f"FROM code_search_fts f, {_QUERY} q, {_QUERY} d "
    "WHERE f.position IN ({marks}) AND f.terms IS NOT NULL AND NOT f.document @@ d"
)
# A word PostgreSQL drops (a stop word such as "with") is no misspelling.
_ANY = (
    "SELECT numnode(q) = 0 OR EXISTS (SELECT 1 FROM code_search_fts f "
    "WHERE f.document @@ q AND {filters}) FROM " + _QUERY + " q"
)
# Nearest first by trigram distance, read from the GiST index in that order.
_SIMILAR = (
    "SELECT word, entries FROM code_search_words WHERE release_id IN ({marks}) "
    "ORDER BY word <-> ? LIMIT ?"
)


def tsquery(words: Sequence[str], weights: str = "") -> str:
    """``words`` as a to_tsquery text: every one, each a prefix (one letter matches whole),
    in the columns of ``weights`` only when given (A description, B short, C terms)."""
    return " & ".join(
        f"{w}:*{weights}" if len(w) > 1 else (f"{w}:{weights}" if weights else w) for w in words
    )


class PostgresSearch:
    """One search's queries over the index, with the scope's filters."""

    def __init__(self, reader: Reader, scope: Scope) -> None:
        self.reader, self.scope = reader, scope

    def _rows(self, sql: str, parameters: tuple[object, ...]) -> list[tuple[Any, ...]]:
        # Planned for the words given each time: a plan kept for any words (what PostgreSQL
        # may settle on for a prepared query) reads the whole table for a rare word.
        return self.reader.rows(sql, parameters, planned_each_time=True)

    def _filters(self) -> tuple[str, tuple[object, ...]]:
        pairs = [(i, kind) for i, kinds in self.scope.kinds.items() for kind in kinds]
        sql = _FILTER.format(pairs=", ".join("(?, ?)" for _ in pairs))
        parameters: tuple[object, ...] = tuple(value for pair in pairs for value in pair)
        if self.scope.billable:
            day = self.scope.on.isoformat()
            sql, parameters = sql + _VALID, (*parameters, day, day)
        return sql, parameters

    def count(self, words: Sequence[str], most: int) -> int:
        filters, parameters = self._filters()
        sql = _COUNT.format(filters=filters)
        return int(self._rows(sql, (tsquery(words), *parameters, most))[0][0])

    def window(
        self, words: Sequence[str], start: int, size: int, dense: bool
    ) -> list[tuple[Any, ...]]:
        """Matches ``start`` to ``start + size`` in reading order, each with its rank (lower
        is better)."""
        filters, parameters = self._filters()
        if dense:
            match, order = "ts_match_vq(f.document, q)", "f.position"
        else:
            match, order = "f.document @@ q", "f.position + 0"  # + 0: not the position index
        sql = _WINDOW.format(match=match, filters=filters, order=order)
        text = tsquery(words)
        return self._rows(sql, (text, *parameters, size, start, text))

    def terms(self, words: Sequence[str], keys: Sequence[int]) -> dict[int, str]:
        if not keys:
            return {}
        sql = _TERMS.format(marks=", ".join("?" for _ in keys))
        found = self._rows(sql, (tsquery(words), tsquery(words, "AB"), *keys))
        return dict(found)

    def exists(self, word: str) -> bool:
        filters, parameters = self._filters()
        sql = _ANY.format(filters=filters)
        return bool(self._rows(sql, (*parameters, tsquery([word])))[0][0])

    def similar(self, word: str, most: int) -> list[tuple[str, int]]:
        """Words of the releases searched nearest ``word`` by trigrams (pg_trgm)."""
        ids = list(self.scope.kinds)
        sql = _SIMILAR.format(marks=", ".join("?" for _ in ids))
        return self._rows(sql, (*ids, word, most))
