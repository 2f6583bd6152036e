"""What changed between two releases, as CSV that is safe to open in a spreadsheet.

People open these files in Excel, which runs a cell starting with ``=``,
``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula;
such a cell is written with a leading apostrophe, the mark spreadsheets read
as "this is text".
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from io import StringIO

from consultant.codes.changes import Change, Changes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: yes/no, dates, words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def header(changes: Changes) -> list[str]:
    flag = [changes.flag, f"previous {changes.flag}"] if changes.flag else []
    return [
        "change",
        "code",
        "description",
        "previous description",
        "short description",
        "previous short description",
        *flag,
        "terminated",
        "previous terminated",
        "what changed",
    ]


def _row(changes: Changes, change: Change) -> list[str]:
    flag = [cell(change.flag), cell(change.previous_flag)] if changes.flag else []
    return (
        [
            cell(v)
            for v in (
                change.change,
                change.code,
                change.description,
                change.previous_description,
                change.short_description,
                change.previous_short_description,
            )
        ]
        + flag
        + [
            cell(change.terminated),
            cell(change.previous_terminated),
            cell("; ".join(change.fields)),
        ]
    )


def csv_lines(changes: Changes) -> Iterator[str]:
    """The file a line at a time (CRLF, as spreadsheets expect), the header first."""
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in [header(changes), *(_row(changes, c) for c in changes.rows())]:
        writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def file_name(changes: Changes) -> str:
    """``icd10cm-changes-FY2025-to-FY2026.csv``: the kind and both versions, path-safe."""
    versions = [
        "".join(c if c.isalnum() or c in "-." else "_" for c in r["version"])
        for r in (changes.earlier, changes.later)
    ]
    return f"{changes.kind}-changes-{versions[0]}-to-{versions[1]}.csv"
