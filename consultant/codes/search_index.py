"""The code search index, filled a release at a time as it is imported.

``code_search_fts`` (migration 0013) holds one row per code entry and per
HCPCS Level II modifier: its long and short descriptions, its ICD-10-CM
inclusion terms (one a line), and what filters read (release, kind,
billable, the dates it is valid between). SQLite keeps it in an FTS5 table,
PostgreSQL in a table of weighted English tsvectors with a GIN index.

Each row's ``position`` (SQLite's rowid) orders each release's rows shortest
description first, the releases interleaved (a row's place is its rank in its
own release, so the long ICD-10-PCS titles are not all read after the short
ICD-10-CM ones): a search reads its matches in that order and ranks a window
of them, so a word found in 40,000 descriptions costs no more than one found
in 40 (see ``search_words``). ``code_search_words`` holds the
release's vocabulary with a trigram index (FTS5 ``trigram``, ``pg_trgm``),
from which a misspelt word is corrected.

Filling the index with INSERT ... SELECT after the release's rows are in
costs a fraction of per-row triggers. The rows go with their release: a
foreign key in PostgreSQL, a trigger on ``code_release`` in SQLite.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# A row's place in the reading order: how far down its release it comes by the length of
# its description (in millionths, so releases of every size interleave), then the release
# and a number within it, so that it is unique in the whole table.
POSITION = (
    "(row_number() OVER (ORDER BY length(long_description), kind, code) - 1) * 1000000 "
    "/ count(*) OVER () * {shift40} + release_id * {shift20} "
    "+ row_number() OVER (ORDER BY kind, code)"
)
# The rows of one release, codes and modifiers alike, with what the filters read. The
# vocabulary leaves out the short descriptions: their abbreviations are no spelling to
# correct a word to.
ROWS = (
    "SELECT e.release_id, e.code, 'code' AS kind, e.billable, "
    "coalesce(e.effective, e.added) AS valid_from, e.terminated AS valid_to, "
    "e.long_description, e.short_description, t.terms "
    "FROM code_entry e LEFT JOIN ("
    "SELECT code, {concat} AS terms FROM (SELECT code, text, id FROM code_note "
    "WHERE release_id = :release AND kind = 'inclusion_term' ORDER BY code, id) n GROUP BY code"
    ") t ON t.code = e.code WHERE e.release_id = :release "
    "UNION ALL "
    "SELECT release_id, code, 'modifier', {true}, coalesce(effective, added), terminated, "
    "long_description, short_description, NULL FROM hcpcs_modifier WHERE release_id = :release"
)
_SQLITE_ROWS = ROWS.format(concat="group_concat(text, char(10))", true="1")
_POSTGRES_ROWS = ROWS.format(concat="string_agg(text, E'\\n' ORDER BY id)", true="true")
_SQLITE_POSITION = POSITION.format(shift40="1099511627776", shift20="1048576")
_POSTGRES_POSITION = POSITION.format(shift40="1099511627776::bigint", shift20="1048576::bigint")
# Filters read as words of the ``tags`` column, so that SQLite answers from the index alone;
# none is on most rows (a code is what is not ``modifier``), since bm25 counts the rows of
# each word of a query. ``dated``: terminated, or starting after its release does: only
# those can be invalid on a date their release is in force.
_TAGS = (
    "'rel' || release_id || CASE WHEN kind = 'modifier' THEN ' modifier' ELSE '' END "
    "|| CASE WHEN billable THEN '' ELSE ' heading' END "
    "|| CASE WHEN valid_to IS NOT NULL OR valid_from > "
    "(SELECT effective_from FROM code_release WHERE id = :release) THEN ' dated' ELSE '' END"
)
_SQLITE = [
    "INSERT INTO code_search_fts(rowid, description, short, terms, tags, release_id, code, "
    "kind, billable, valid_from, valid_to) "
    f"SELECT {_SQLITE_POSITION}, long_description, short_description, terms, {_TAGS}, "
    f"release_id, code, kind, billable, valid_from, valid_to FROM ({_SQLITE_ROWS}) r "
    # In rowid order: FTS5 writes its index out each time a rowid goes down.
    "ORDER BY 1",
    # The release's words, through a scratch FTS5 table without stemming and its vocabulary.
    "CREATE VIRTUAL TABLE temp.code_search_scratch USING fts5(text, "
    "tokenize='unicode61 remove_diacritics 2', detail=none)",
    "INSERT INTO temp.code_search_scratch(text) SELECT description || ' ' || "
    "coalesce(terms, '') FROM code_search_fts WHERE release_id = :release",
    "CREATE VIRTUAL TABLE temp.code_search_scratch_vocab "
    "USING fts5vocab('temp', 'code_search_scratch', 'row')",
    "INSERT INTO code_search_words(word, release_id, entries) "
    "SELECT term, :release, doc FROM temp.code_search_scratch_vocab "
    "WHERE length(term) >= 3 AND term GLOB '*[a-z]*'",
    "DROP TABLE temp.code_search_scratch_vocab",
    "DROP TABLE temp.code_search_scratch",
]
_DOCUMENT = (
    "setweight(to_tsvector('english', long_description), 'A') || "
    "setweight(to_tsvector('english', coalesce(short_description, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(terms, '')), 'C')"
)
_POSTGRES = [
    "INSERT INTO code_search_fts(position, release_id, code, kind, billable, valid_from, "
    "valid_to, description, terms, document) "
    f"SELECT {_POSTGRES_POSITION}, release_id, code, kind, billable, valid_from, valid_to, "
    f"long_description, terms, {_DOCUMENT} FROM ({_POSTGRES_ROWS}) r",
    # ts_stat reads the words of a query given as text: the release id is an integer.
    "INSERT INTO code_search_words(release_id, word, entries) "
    "SELECT :release, word, ndoc FROM ts_stat(format('SELECT to_tsvector(''simple'', "
    "description || '' '' || coalesce(terms, '''')) FROM code_search_fts "
    "WHERE release_id = %s', :release)) WHERE word ~ '^[[:alnum:]]{3,}$' AND word ~ '[[:alpha:]]'",
]


_ANY = (
    "SELECT EXISTS (SELECT 1 FROM code_entry WHERE release_id = :release) "
    "OR EXISTS (SELECT 1 FROM hcpcs_modifier WHERE release_id = :release)"
)


def index_release(conn: Connection, release_id: int) -> None:
    """Add the codes, modifiers and words of ``release_id`` to the search index, in
    ``conn``'s transaction."""
    if not conn.execute(text(_ANY), {"release": release_id}).scalar():
        return  # a release of edits, fees or coverage: no codes to search
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # Statistics that count the rows just loaded: planned on the old ones, joining a
        # release's terms to its codes can take hours instead of seconds. They also serve
        # the search by code, which reads code_entry itself.
        _analyze(conn, "code_entry", "code_note", "hcpcs_modifier")
    for statement in _POSTGRES if postgres else _SQLITE:
        conn.execute(text(statement), {"release": release_id})
    if postgres:
        _analyze(conn, "code_search_fts", "code_search_words")  # from the first search on


def _analyze(conn: Connection, *tables: str) -> None:
    for table in tables:
        conn.execute(text(f"ANALYZE {table}"))
