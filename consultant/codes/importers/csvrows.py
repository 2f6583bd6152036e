"""Finding the header of a CMS spreadsheet-style file and mapping its columns by name.

CMS moves columns and rewords headers between releases, and puts title and
copyright rows (and sometimes a header split over two rows, or a line break
inside a header cell) above the data. So columns are found by words in their
header, never by position.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from consultant.codes.sources import CodeImportError, SourceFile


def csv_rows(
    source: SourceFile, delimiter: str = ",", encoding: str = "latin-1"
) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells), streamed; quoted cells may span lines."""
    with source.open_binary() as handle:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        start = 1
        try:
            for row in reader:
                yield start, row
                start = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise CodeImportError(source.name, f"unreadable row: {error}", start) from None


def find_header(
    rows: Iterator[tuple[int, list[str]]], marker: str, source: str, within: int = 30
) -> tuple[int, list[str]]:
    """The first row (in the first ``within``) with a cell containing ``marker``."""
    for line, row in rows:
        if any(marker in normalise(cell) for cell in row):
            return line, row
        if line > within:
            break
    raise CodeImportError(
        source, f"no header row with {marker!r} near the top: wrong kind of file?"
    )


def normalise(cell: str) -> str:
    """A header cell in one line, upper case, single spaces."""
    return " ".join(cell.replace("\n", " ").split()).upper()


def find_columns(
    header: Sequence[str],
    wanted: dict[str, tuple[str, ...]],
    source: str,
    line: int,
    optional: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Column index of each wanted field: the first free header cell containing all its words.

    Fields are matched in the order given, so a narrower field listed first
    keeps a broader one from taking its column.
    """
    cells = [normalise(c) for c in header]
    found: dict[str, int] = {}
    for field, words in wanted.items():
        for index, cell in enumerate(cells):
            if index not in found.values() and all(word in cell for word in words):
                found[field] = index
                break
        else:
            if field not in optional:
                raise CodeImportError(
                    source, f"no column for {field} (a header with {' '.join(words)!r})", line
                )
    return found


def data_rows(
    rows: Iterator[tuple[int, list[str]]], columns: dict[str, int], source: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {field: stripped value}) for each non-empty row after the header."""
    width = max(columns.values()) + 1
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            raise CodeImportError(
                source, f"expected at least {width} columns, found {len(row)}", line
            )
        yield line, {field: row[index].strip() for field, index in columns.items()}
