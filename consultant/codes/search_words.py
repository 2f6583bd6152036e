"""Ranked search by words over the code search index, at the same cost however many match.

The index lists each release's rows shortest description first, the releases
interleaved (``search_index``). A search reads its matches in that order a
window of ``WINDOW`` at a time, and ranks the window by relevance (SQLite's
bm25, PostgreSQL's ts_rank, both weighing the description over the short
description over inclusion terms): the first pages show the best of the 500
most concise matches, the next window the best of the 500 after them, and so
on. Ranking every match instead costs in
proportion to their number: 100 ms for a word found in 46,000 descriptions.
Matches are counted up to ``MAX_COUNT``, as far as paging goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from consultant.codes.readonly import Reader
from consultant.codes.refs import ReleaseRef
from consultant.codes.search_postgres import PostgresSearch
from consultant.codes.search_scope import Scope
from consultant.codes.search_sqlite import SqliteSearch
from consultant.codes.systems import System

WINDOW = 500
MAX_COUNT = 10_000
START, END = "\x02", "\x03"  # how the databases mark matching words in a term


class Backend(Protocol):
    def count(self, words: Sequence[str], most: int) -> int: ...

    def window(
        self, words: Sequence[str], start: int, size: int, dense: bool
    ) -> list[tuple[Any, ...]]: ...

    def terms(self, words: Sequence[str], keys: Sequence[int]) -> dict[int, str]: ...

    def exists(self, word: str) -> bool: ...

    def similar(self, word: str, most: int) -> list[tuple[str, int]]: ...


@dataclass(frozen=True)
class Row:
    system: System
    code: str
    kind: str
    billable: bool
    description: str
    release: ReleaseRef
    term: str | None  # the inclusion term that matched, when the description did not


@dataclass
class Ranked:
    total: int = 0
    capped: bool = False
    rows: list[Row] = field(default_factory=list)


def backend_for(reader: Reader, scope: Scope) -> Backend:
    return PostgresSearch(reader, scope) if reader.postgres else SqliteSearch(reader, scope)


def best_term(marked: str) -> str:
    """Of an entry's inclusion terms (one a line, matches marked), the one with the most
    matches, unmarked."""
    best = max(marked.split("\n"), key=lambda line: line.count(START))
    return best.replace(START, "").replace(END, "")


def search(reader: Reader, scope: Scope, words: Sequence[str], limit: int, offset: int) -> Ranked:
    """Rows ``offset`` to ``offset + limit`` of the matches of every word in ``scope``."""
    if not scope.releases or not words:
        return Ranked()
    backend = backend_for(reader, scope)
    total = backend.count(words, MAX_COUNT + 1)
    if total == 0 or offset >= total:
        return Ranked(min(total, MAX_COUNT), total > MAX_COUNT)
    first = offset // WINDOW
    ranked: list[tuple[Any, ...]] = []
    for window in range(first, (offset + limit - 1) // WINDOW + 1):
        rows = backend.window(words, window * WINDOW, WINDOW, dense=total > MAX_COUNT)
        ranked += sorted(rows, key=lambda row: (row[6], row[0]))
    start = offset - first * WINDOW
    page = ranked[start : start + limit]
    # Only ICD-10-CM codes have inclusion terms to be found by.
    termed = [row[0] for row in page if scope.system_of(row[1]) == System.ICD10CM]
    terms = backend.terms(words, termed)
    found = [
        Row(
            scope.system_of(release_id),
            code,
            kind,
            bool(billable),
            description,
            scope.release(release_id),
            best_term(terms[key]) if key in terms else None,
        )
        for key, release_id, code, kind, billable, description, _ in page
    ]
    return Ranked(min(total, MAX_COUNT), total > MAX_COUNT, found)
