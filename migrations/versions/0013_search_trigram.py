"""Typo-tolerant code search, searched inclusion terms and modifiers, and recent searches.

``code_search_fts`` is rebuilt with a row per code entry and per HCPCS Level
II modifier, each holding its descriptions, its ICD-10-CM inclusion terms and
what the filters read, in reading order (each release's shortest descriptions
first, releases interleaved: the rowid in SQLite, ``position`` in PostgreSQL).
``code_search_words`` holds each release's vocabulary behind a trigram index
(SQLite's FTS5 ``trigram`` tokenizer, PostgreSQL's ``pg_trgm``), from which
misspelt words are corrected. Both are filled here for the releases already loaded, as the
importer fills them for each new one (consultant/codes/search_index.py; the
statements are repeated here so this migration keeps doing what it did).
``recent_search`` keeps each user's last searches on the code search page.

Downgrading restores 0006's index of descriptions; the pg_trgm extension stays,
as other database objects may use it.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
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
POSITION = (
    "(row_number() OVER (ORDER BY length(long_description), kind, code) - 1) * 1000000 "
    "/ count(*) OVER () * {shift40} + release_id * {shift20} "
    "+ row_number() OVER (ORDER BY kind, code)"
)
TAGS = (
    "'rel' || release_id || CASE WHEN kind = 'modifier' THEN ' modifier' ELSE '' END "
    "|| CASE WHEN billable THEN '' ELSE ' heading' END "
    "|| CASE WHEN valid_to IS NOT NULL OR valid_from > "
    "(SELECT effective_from FROM code_release WHERE id = :release) THEN ' dated' ELSE '' END"
)
SQLITE_CREATE = [
    "DROP TRIGGER IF EXISTS code_search_release_ad",
    "DROP TABLE IF EXISTS code_search_fts",
    "CREATE VIRTUAL TABLE code_search_fts USING fts5("
    "description, short, terms, tags, release_id UNINDEXED, code UNINDEXED, kind UNINDEXED, "
    "billable UNINDEXED, valid_from UNINDEXED, valid_to UNINDEXED, "
    "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE code_search_words USING fts5("
    "word, release_id UNINDEXED, entries UNINDEXED, tokenize='trigram', detail=none)",
    "CREATE TRIGGER code_search_release_ad AFTER DELETE ON code_release BEGIN "
    "DELETE FROM code_search_fts WHERE release_id = old.id; "
    "DELETE FROM code_search_words WHERE release_id = old.id; END",
]
SQLITE_FILL = [
    "INSERT INTO code_search_fts(rowid, description, short, terms, tags, release_id, code, "
    "kind, billable, valid_from, valid_to) SELECT "
    + POSITION.format(shift40="1099511627776", shift20="1048576")
    + f", long_description, short_description, terms, {TAGS}, release_id, code, kind, "
    "billable, valid_from, valid_to FROM ("
    + ROWS.format(concat="group_concat(text, char(10))", true="1")
    + ") r ORDER BY 1",
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
POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "DROP TABLE IF EXISTS code_search_fts",
    "CREATE TABLE code_search_fts ("
    "position bigint PRIMARY KEY, "
    "release_id integer NOT NULL REFERENCES code_release(id) ON DELETE CASCADE, "
    "code varchar(16) NOT NULL, kind varchar(8) NOT NULL, billable boolean NOT NULL, "
    "valid_from date, valid_to date, description text NOT NULL, terms text, "
    "document tsvector NOT NULL)",
    "CREATE INDEX ix_code_search_fts_document ON code_search_fts USING gin (document)",
    "CREATE TABLE code_search_words ("
    "release_id integer NOT NULL REFERENCES code_release(id) ON DELETE CASCADE, "
    "word text NOT NULL, entries integer NOT NULL)",
    # GiST rather than GIN: it reads the nearest words first (ORDER BY word <-> ... LIMIT),
    # a few milliseconds where GIN's lists of common trigrams take ten times longer.
    "CREATE INDEX ix_code_search_words_trigram ON code_search_words "
    "USING gist (word gist_trgm_ops)",
]
POSTGRES_FILL = [
    "INSERT INTO code_search_fts(position, release_id, code, kind, billable, valid_from, "
    "valid_to, description, terms, document) SELECT "
    + POSITION.format(shift40="1099511627776::bigint", shift20="1048576::bigint")
    + ", release_id, code, kind, billable, valid_from, valid_to, long_description, terms, "
    "setweight(to_tsvector('english', long_description), 'A') || "
    "setweight(to_tsvector('english', coalesce(short_description, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(terms, '')), 'C') FROM ("
    + ROWS.format(concat="string_agg(text, E'\\n' ORDER BY id)", true="true")
    + ") r",
    "INSERT INTO code_search_words(release_id, word, entries) "
    "SELECT :release, word, ndoc FROM ts_stat(format('SELECT to_tsvector(''simple'', "
    "description || '' '' || coalesce(terms, '''')) FROM code_search_fts "
    "WHERE release_id = %s', :release)) WHERE word ~ '^[[:alnum:]]{3,}$' AND word ~ '[[:alpha:]]'",
]
RELEASES = "SELECT release_id FROM code_entry UNION SELECT release_id FROM hcpcs_modifier"
# Migration 0006's index, for the downgrade.
DOCUMENT_0006 = "long_description || ' ' || coalesce(short_description, '')"
POSTGRES_0006 = [
    "DROP TABLE IF EXISTS code_search_words",
    "DROP TABLE IF EXISTS code_search_fts",
    "CREATE TABLE code_search_fts ("
    "release_id integer NOT NULL REFERENCES code_release(id) ON DELETE CASCADE, "
    "code varchar(16) NOT NULL, document tsvector NOT NULL)",
    "CREATE INDEX ix_code_search_fts_document ON code_search_fts USING gin (document)",
    "INSERT INTO code_search_fts(release_id, code, document) "
    f"SELECT release_id, code, to_tsvector('english', {DOCUMENT_0006}) FROM code_entry",
]
SQLITE_0006 = [
    "DROP TRIGGER IF EXISTS code_search_release_ad",
    "DROP TABLE IF EXISTS code_search_words",
    "DROP TABLE IF EXISTS code_search_fts",
    "CREATE VIRTUAL TABLE code_search_fts USING fts5("
    "description, release_id UNINDEXED, code UNINDEXED, "
    "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER code_search_release_ad AFTER DELETE ON code_release BEGIN "
    "DELETE FROM code_search_fts WHERE release_id = old.id; END",
    "INSERT INTO code_search_fts(description, release_id, code) "
    f"SELECT {DOCUMENT_0006}, release_id, code FROM code_entry",
]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for statement in POSTGRES_CREATE if postgres else SQLITE_CREATE:
        op.execute(statement)
    if postgres:
        # Counted statistics first: planned on stale ones, joining each release's terms to
        # its codes can take hours instead of seconds.
        for table in ("code_entry", "code_note", "hcpcs_modifier"):
            op.execute(f"ANALYZE {table}")
    for (release,) in bind.execute(sa.text(RELEASES)).all():
        for statement in POSTGRES_FILL if postgres else SQLITE_FILL:
            bind.execute(sa.text(statement), {"release": release})
    if postgres:
        op.execute("ANALYZE code_search_fts")
        op.execute("ANALYZE code_search_words")
    op.create_table(
        "recent_search",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("sets", sa.String(100), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("searched_at", WHEN, nullable=False),
        sa.UniqueConstraint("user_id", "key", name="uq_recent_search_key"),
    )


def downgrade() -> None:
    op.drop_table("recent_search")
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_0006 if postgres else SQLITE_0006:
        op.execute(statement)
