"""Changed copies of the constructed Medicare Coverage Database exports, for importer tests.

A copy is written the way CMS writes the downloads (an outer zip around an
inner ``*_csv.zip``, every cell quoted, CRLF, latin-1), with one table changed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

Table = list[list[str]]
Change = Callable[[str, Table], Table]


def tables(export: Path) -> tuple[str, dict[str, Table]]:
    """The inner zip's name and each table (header first) of an export."""
    with zipfile.ZipFile(export) as outer:
        (inner_name,) = [n for n in outer.namelist() if n.endswith("_csv.zip")]
        inner = zipfile.ZipFile(io.BytesIO(outer.read(inner_name)))
    read = {
        Path(name).stem: list(csv.reader(io.StringIO(inner.read(name).decode("latin-1"))))
        for name in inner.namelist()
    }
    return inner_name, read


def write_export(
    target: Path, inner_name: str, tables: dict[str, Table], flat: bool = False
) -> Path:
    """Write ``tables`` as an export (or, ``flat``, as the inner zip alone)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            text = io.StringIO()
            csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
            archive.writestr(f"{name}.csv", text.getvalue().encode("latin-1"))
    if flat:
        target.write_bytes(inner.getvalue())
        return target
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "constructed copy for tests\r\n")
        archive.writestr(inner_name, inner.getvalue())
    return target


def changed(export: Path, target: Path, table: str, change: Callable[[Table], Table]) -> Path:
    """A copy of ``export`` at ``target`` with ``table`` passed through ``change``."""
    inner_name, read = tables(export)
    read[table] = change(read[table])
    return write_export(target, inner_name, read)


def set_cell(table: Table, where: dict[str, str], column: str, value: str) -> Table:
    """``table`` with ``column`` set to ``value`` in the rows matching ``where``."""
    header = table[0]
    out = [header]
    for row in table[1:]:
        cells = dict(zip(header, row, strict=True))
        if all(cells[k] == v for k, v in where.items()):
            row = [value if h == column else c for h, c in zip(header, row, strict=True)]
        out.append(row)
    return out
