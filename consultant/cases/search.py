"""Full-text search over cases: one service for the queue page, the CLI and the API.

What a person types is read the way web search boxes read it (PostgreSQL's
``websearch_to_tsquery``): words must all be there, ``"a phrase"`` in order,
``-word`` must not be, ``a OR b`` either. PostgreSQL parses it itself and
ranks with ``ts_rank`` over the stored vectors of ``case_search_fts``; for
SQLite's FTS5 the words are rebuilt here as quoted strings, so nothing typed
(``"``, ``*``, ``-``, ``NEAR``, ``:``, brackets) is ever read as FTS5 syntax,
and ranked with ``bm25``. Codes are words like any other: ``20956``, ``E11.9``
and ``99213-25`` find the cases whose text names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table
from sqlalchemy.orm import Session

MAX_QUERY_CHARS = 200
FTS_TABLE = "case_search_fts"
# A quoted phrase, or a run of characters that are neither space nor quote.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """A word or phrase of the query; ``exclude`` for ``-word``."""

    text: str
    exclude: bool = False


@dataclass
class Terms:
    """The query as groups of alternatives (``a OR b``), all of which must match."""

    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.groups


def _searchable(text: str) -> bool:
    """True when a term has a letter or digit: others tokenise to nothing."""
    return any(c.isalnum() for c in text)


def parse(query: str) -> Terms:
    """The words and phrases of ``query``, as web search boxes read them."""
    terms = Terms()
    join_next = False
    for match in _TOKEN.finditer(query[:MAX_QUERY_CHARS]):
        minus, phrase, word = match.groups()
        if word is not None:
            if word == "OR" and terms.groups:
                join_next = True
                continue
            exclude, text = word.startswith("-") and len(word) > 1, word
            text = text[1:] if exclude else text
        else:
            exclude, text = bool(minus), phrase
        text = " ".join(text.split())
        if not _searchable(text):
            continue
        if exclude:
            terms.excluded.append(Term(text, exclude=True))
        elif join_next:
            terms.groups[-1].append(Term(text))
        else:
            terms.groups.append([Term(text)])
        join_next = False
    return terms


def _fts5_string(text: str) -> str:
    """``text`` as an FTS5 string: in double quotes, inner quotes doubled; never syntax."""
    return '"' + text.replace('"', '""') + '"'


def fts5_query(query: str) -> str | None:
    """The FTS5 MATCH expression for ``query``, or None when it has nothing to look for.

    A query of only excluded words looks for nothing: FTS5 cannot say "every
    document without this word".
    """
    terms = parse(query)
    if terms.empty:
        return None
    groups = [
        "(" + " OR ".join(_fts5_string(t.text) for t in group) + ")" for group in terms.groups
    ]
    expression = " AND ".join(groups)
    for term in terms.excluded:
        expression = f"({expression}) NOT {_fts5_string(term.text)}"
    return expression


def has_terms(query: str) -> bool:
    """True when ``query`` names anything to look for (else the search is not applied)."""
    return not parse(query).empty


def matches(session: Session, query: str) -> Select[tuple[int, float]] | None:
    """``SELECT case_id, rank`` of the cases matching ``query`` (higher rank: better).

    None when the query has nothing to look for. The caller joins it to
    ``case`` by ``case_id`` and filters, sorts and pages as it likes.
    """
    if not has_terms(query):
        return None
    if session.get_bind().dialect.name == "postgresql":
        return _postgres(query[:MAX_QUERY_CHARS])
    expression = fts5_query(query)
    assert expression is not None  # has_terms
    return _sqlite(expression)


def _postgres(query: str) -> Select[tuple[int, float]]:
    fts = table(FTS_TABLE, column("case_id"), column("document"))
    tsquery: ColumnElement[object] = func.websearch_to_tsquery(literal_column("'english'"), query)
    return select(
        fts.c.case_id.label("case_id"),
        func.ts_rank(fts.c.document, tsquery).label("rank"),
    ).where(fts.c.document.op("@@")(tsquery))


def _sqlite(expression: str) -> Select[tuple[int, float]]:
    fts = table(FTS_TABLE, column("rowid"))
    whole = literal_column(FTS_TABLE)
    # bm25 is lower for better matches; negated so that higher is better on both databases.
    return select(
        fts.c.rowid.label("case_id"),
        (-func.bm25(whole)).label("rank"),
    ).where(whole.op("MATCH")(expression))
