"""CPT descriptors from the operator's own AMA data files.

CPT descriptors belong to the AMA: this project ships none of them, and an
operator with a licence loads their own files. The AMA data files come as one
file per descriptor length (``SHORTU.txt``, ``MEDU.txt``, ``LONGULT.txt``),
each a code and its descriptor per line, after a copyright notice; some
distributions and exports put everything in one file with a header row naming
the columns. Either way the files of one import are merged by code into one
release.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importing import (
    CODE_ENTRY_COLUMNS,
    ImportOptions,
    Loaded,
    Progress,
    ReleaseInfo,
    code_entry_row,
    counted,
)
from consultant.codes.sources import CodeImportError, SourceFile, open_source

KIND = "cpt"
MEMBER = re.compile(r"(?i)\.(txt|tsv)$")
CODE = re.compile(r"^\d{4}[0-9FTU]$")
# Without a tab, the AMA's short and medium files put one space between code and text.
SPACED = re.compile(r"^(\d{4}[0-9FTU]) (.*)$")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# The copyright notice above the first code: a file without a code this early is not CPT.
PREAMBLE_LINES = 50

SHORT, MEDIUM, LONG = "short", "medium", "long"
# Which descriptor a file or a header cell holds, by a word of its name.
ROLE_WORDS = (
    (SHORT, re.compile(r"^SHORT")),
    (MEDIUM, re.compile(r"^MED(U|IUM)?$|^MEDIUM")),
    (LONG, re.compile(r"^LONG|^FULL$")),
)


def _role(name: str) -> str | None:
    """The descriptor length a file name or header cell names: LONGULT.txt → long."""
    words = re.split(r"[^A-Z]+", name.upper())
    for role, pattern in ROLE_WORDS:
        if any(pattern.match(word) for word in words):
            return role
    return None


def _lines(source: SourceFile) -> list[str]:
    """The file's lines: UTF-8 (with or without a byte order mark), else Windows-1252.

    Split on line ends only: ``str.splitlines`` would also split a descriptor at
    characters such as U+0085 or U+2028.
    """
    data = source.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # five byte values are unassigned
    return text.replace("\r\n", "\n").split("\n")


def _header(cells: list[str], fallback: str) -> dict[str, int] | None:
    """Column of the code and of each descriptor, if ``cells`` is a header naming them."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = cell.strip().upper()
        if "code" not in columns and ("CODE" in name or name in ("CPT", "HCPCS")):
            columns["code"] = index
            continue
        role = _role(name) or (fallback if "DESCRIPT" in name else None)
        if role and role not in columns:
            columns[role] = index
    return columns if "code" in columns and len(columns) > 1 else None


def _split(line: str) -> list[str]:
    if "\t" in line:
        return [cell.strip() for cell in line.split("\t")]
    spaced = SPACED.match(line.rstrip())
    return [spaced.group(1), spaced.group(2).strip()] if spaced else [line.strip()]


def _columns(source: str, number: int, cells: list[str], line: str) -> dict[str, int] | None:
    """How the file lays out its columns, judged on its first line that is not preamble."""
    fallback = _role(source) or LONG
    if CODE.match(cells[0].upper()):
        if len(cells) != 2:
            raise CodeImportError(
                source,
                f"a file without a header row holds a code and one descriptor per line, "
                f"found {len(cells)} columns",
                number,
            )
        return {"code": 0, fallback: 1}
    return _header(cells, fallback) if "\t" in line else None


def read_descriptors(source: SourceFile) -> Iterator[tuple[int, str, dict[str, str]]]:
    """(line, code, {descriptor length: text}) for every code of one file."""
    columns: dict[str, int] | None = None
    codes = 0
    for number, line in enumerate(_lines(source), start=1):
        if not line.strip():
            continue
        cells = _split(line)
        if columns is None:
            columns = _columns(source.name, number, cells, line)
            if columns is None and number >= PREAMBLE_LINES:
                break
            if columns is None or not CODE.match(cells[0].upper()):
                continue  # the copyright notice, or the header row
        code = cells[columns["code"]].upper() if len(cells) > columns["code"] else ""
        if not CODE.match(code) or len(cells) <= max(columns.values()):
            raise CodeImportError(
                source.name,
                f"expected a CPT code and {len(columns) - 1} descriptor column(s), "
                f"found {line.strip()[:40]!r}",
                number,
            )
        texts = {role: cells[i] for role, i in columns.items() if role != "code" and cells[i]}
        if not texts:
            raise CodeImportError(source.name, f"{code} has no descriptor", number)
        codes += 1
        yield number, code, texts
    if not codes:
        raise CodeImportError(
            source.name,
            "not a CPT descriptor file: no code<TAB>descriptor line, and no header row "
            f"naming a code column and a descriptor column, in its first {PREAMBLE_LINES} lines",
        )


class CptImporter:
    """One or more AMA descriptor files (short, medium, long) loaded as one CPT release."""

    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if not paths:
            raise CodeImportError("cpt", "name the AMA descriptor file(s) to import")
        sources = [open_source(path, MEMBER) for path in paths]
        roles = [_role(s.name) for s in sources]
        if len(sources) > 1 and (None in roles or len(set(roles)) != len(roles)):
            raise CodeImportError(
                ", ".join(s.name for s in sources),
                "several files must each hold one descriptor length, named by the file "
                "(SHORT..., MED..., LONG...)",
            )
        return sources

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        names = ", ".join(s.name for s in sources)
        years = {int(m.group(1)) for s in sources if (m := YEAR.search(s.name))}
        if len(years) > 1:
            raise CodeImportError(names, f"the file names name different years: {sorted(years)}")
        year = years.pop() if years else None
        effective = options.effective or (date(year, 1, 1) if year else None)
        if effective is None:
            raise CodeImportError(
                names,
                "the file name does not say the year of the CPT edition; "
                "pass --effective (and --version)",
            )
        version = options.version or str(year or effective.year)
        return ReleaseInfo(KIND, version, effective)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        merged: dict[str, dict[str, str]] = {}
        for source in sources:
            for number, code, texts in read_descriptors(source):
                known = merged.setdefault(code, {})
                if known.keys() & texts.keys():
                    raise CodeImportError(source.name, f"{code} appears a second time", number)
                known.update(texts)

        def rows() -> Iterator[tuple[object, ...]]:
            for code, texts in sorted(merged.items()):
                medium = texts.get(MEDIUM)
                yield code_entry_row(
                    release_id,
                    code,
                    True,
                    texts.get(LONG) or medium or texts[SHORT],
                    short_description=texts.get(SHORT) or medium,
                    details={"medium_description": medium},
                )

        bulk_insert(conn, "code_entry", CODE_ENTRY_COLUMNS, counted(rows(), progress))
        return Loaded(rows=len(merged), details={"files": [s.name for s in sources]})
