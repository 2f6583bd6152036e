"""Loading many rows fast, inside the caller's transaction: executemany or COPY.

The ORM would spend minutes on a quarter of PTP edits; the driver's own bulk
paths take seconds. Rows are consumed lazily, so a file is streamed from disk
to the database without being held in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

Row = Sequence[object]


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Insert ``rows`` into ``table`` in the transaction ``conn`` is in.

    SQLite: one prepared INSERT run by ``executemany``. PostgreSQL: ``COPY FROM
    STDIN``, the fastest way in, fed row by row by psycopg.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
    finally:
        cursor.close()
