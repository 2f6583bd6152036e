"""The CMS HCPCS Level II alpha-numeric file: procedure codes and Level II modifiers.

CMS ships it as fixed-width text inside a zip: a disclaimer paragraph, then
one 320-column record per code. A long description that does not fit in
columns 12-91 goes on in continuation records (record id 4 or 8) that carry
only the code, a sequence number and the rest of the text, so they end at
column 91. Procedure codes become ``code_entry`` rows with their Medicare
indicators kept as details; modifiers go to ``hcpcs_modifier``, where the
modifier lookup finds their official text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from consultant.codes.bulk import Row, bulk_insert
from consultant.codes.importing import (
    CODE_ENTRY_COLUMNS,
    MONTHS,
    ImportOptions,
    Loaded,
    Progress,
    ReleaseInfo,
    code_entry_row,
    counted,
    yyyymmdd,
)
from consultant.codes.sources import CodeImportError, SourceFile, open_source

KIND = "hcpcs"
MEMBER = re.compile(r"(?i)ANWEB.*\.txt$")

RECORD_LENGTH = 320
# Columns 294-320 are filler: a line whose trailing blanks were trimmed by an editor still
# holds every field, so only a line ending before the action code counts as truncated.
FIELDS_END = 293
DESCRIPTION_END = 91
# Record ids (column 11): 3 a procedure code, 4 its continuation, 7 a modifier, 8 its continuation.
PROCEDURE, MODIFIER, MODIFIER_MORE = "3", "7", "8"
# Columns 1-11 of any record: code, sequence number, record id.
RECORD = re.compile(r"^[ 0-9A-Z]{5}\d{5}[3478]")
PROCEDURE_CODE = re.compile(r"^[A-Z]\d{4}$")
MODIFIER_CODE = re.compile(r"^   [0-9A-Z]{2}$")
# The disclaimer before the first record is a few lines; a file without a record this
# early is some other file.
PEEK_LINES = 100

YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
MONTH = re.compile(
    r"(?i)(?<![a-z])(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])"
)

MODIFIER_COLUMNS = (
    "release_id",
    "code",
    "short_description",
    "long_description",
    "added",
    "effective",
    "terminated",
    "action_code",
)


def _text(line: str, first: int, last: int) -> str:
    """Columns ``first`` to ``last`` (1-based, inclusive, as the CMS layout counts them)."""
    return line[first - 1 : last].strip()


def _parts(line: str, first: int, last: int, width: int) -> list[str]:
    """A group of fixed-width values in columns ``first``-``last``, blanks dropped."""
    chunk = line[first - 1 : last]
    values = (chunk[i : i + width].strip() for i in range(0, len(chunk), width))
    return [value for value in values if value]


@dataclass
class Record:
    """One code of the file, its continuation records joined onto its description."""

    code: str
    modifier: bool
    line: str
    number: int
    sequence: int
    description: list[str] = field(default_factory=list)

    def date(self, source: str, first: int, what: str) -> str | None:
        """The ``YYYYMMDD`` date at column ``first`` as ISO text; None when blank."""
        value = _text(self.line, first, first + 7)
        if not value:
            return None
        yyyymmdd(value, source, self.number, what)  # refuses a value that is not a date
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"

    @property
    def long_description(self) -> str:
        return " ".join(part for part in self.description if part)


def _first_line(source: str, number: int, line: str) -> Record:
    """A code's first record, checked for its length and the shape of its code."""
    if len(line) < FIELDS_END:
        raise CodeImportError(
            source, f"truncated record: {len(line)} of {RECORD_LENGTH} columns", number
        )
    if len(line) > RECORD_LENGTH:
        raise CodeImportError(
            source, f"record of {len(line)} columns, longer than {RECORD_LENGTH}", number
        )
    modifier = line[10] == MODIFIER
    shape = MODIFIER_CODE if modifier else PROCEDURE_CODE
    if not shape.match(line[:5]):
        what = "Level II modifier" if modifier else "HCPCS procedure code"
        raise CodeImportError(source, f"{line[:5].strip()!r} is not a {what}", number)
    return Record(
        code=line[:5].strip(),
        modifier=modifier,
        line=line.ljust(RECORD_LENGTH),
        number=number,
        sequence=int(line[5:10]),
        description=[_text(line, 12, DESCRIPTION_END)],
    )


def _continue(source: str, number: int, line: str, current: Record | None) -> None:
    """Add a continuation record's text to the code it continues, or refuse it."""
    code = line[:5].strip()
    if len(line) < DESCRIPTION_END:
        raise CodeImportError(
            source,
            f"truncated continuation record: {len(line)} of {DESCRIPTION_END} columns",
            number,
        )
    modifier = line[10] == MODIFIER_MORE
    if current is None or current.code != code or current.modifier != modifier:
        raise CodeImportError(
            source, f"continuation record of {code} without its first line", number
        )
    sequence = int(line[5:10])
    if sequence <= current.sequence:
        raise CodeImportError(
            source,
            f"continuation record of {code} out of order (sequence {sequence:05d} "
            f"after {current.sequence:05d})",
            number,
        )
    current.sequence = sequence
    current.description.append(_text(line, 12, DESCRIPTION_END))


def read_records(source: SourceFile) -> Iterator[Record]:
    """Every code of the file in file order; CodeImportError at the first bad line."""
    current: Record | None = None
    seen: set[tuple[bool, str]] = set()
    for number, line in source.lines():
        if not RECORD.match(line):
            # The disclaimer before the first record, and blank lines anywhere, are not data.
            if current is None or not line.strip():
                continue
            raise CodeImportError(
                source.name,
                "not a HCPCS record (columns 1-11 should hold a code, a sequence number "
                "and a record id)",
                number,
            )
        if line[10] in (PROCEDURE, MODIFIER):
            record = _first_line(source.name, number, line)
            key = (record.modifier, record.code)
            if key in seen:
                raise CodeImportError(source.name, f"{record.code} appears a second time", number)
            seen.add(key)
            if current is not None:
                yield current
            current = record
        else:
            _continue(source.name, number, line, current)
    if current is not None:
        yield current


def _details(record: Record, source: str) -> dict[str, Any]:
    """The Medicare indicators of a procedure code, as the lookup shows them."""
    line = record.line
    units = _text(line, 266, 268)
    return {
        "action_code": _text(line, 293, 293) or None,
        "action_effective_date": record.date(source, 277, "action effective date"),
        "coverage_code": _text(line, 230, 230) or None,
        "betos": _text(line, 257, 259) or None,
        "pricing_indicators": _parts(line, 120, 127, 2),
        "multiple_pricing_indicator": _text(line, 128, 128) or None,
        "type_of_service": _parts(line, 261, 265, 1),
        "cross_references": _parts(line, 205, 229, 5),
        "coverage_issues_manual": _parts(line, 129, 146, 6),
        "medicare_manual": _parts(line, 147, 170, 8),
        "statute": _text(line, 171, 180) or None,
        "lab_certifications": _parts(line, 181, 204, 3),
        "asc_group": _text(line, 231, 232) or None,
        "asc_date": record.date(source, 233, "ASC date"),
        "opps": _text(line, 241, 243) or None,
        "opps_payment_indicator": _text(line, 244, 244) or None,
        "opps_date": record.date(source, 245, "OPPS date"),
        "procedure_note": _text(line, 253, 256) or None,
        "anesthesia_base_units": int(units) if units.isdigit() else None,
    }


def _from_name(names: list[str]) -> tuple[int, int | None] | None:
    """(year, month) of the release from a file name: HCPC2026_APR_ANWEB → (2026, 4).

    The annual file names no month (HCPC2020_ANWEB): (2020, None).
    """
    for name in names:
        year = YEAR.search(name)
        if year:
            month = MONTH.search(name)
            number = MONTHS[month.group(1)[:3].lower()] if month else None
            return int(year.group(1)), number
    return None


class HcpcsImporter:
    """The alpha-numeric file, zipped as CMS distributes it or the ANWEB text file itself."""

    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(
                ", ".join(map(str, paths)),
                "a HCPCS release is one alpha-numeric file (the zip or the ANWEB .txt in it)",
            )
        return [open_source(paths[0], MEMBER)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        source = sources[0]
        self._check_kind(source)
        named = _from_name([source.name, source.path.name])
        year, month = named or (None, None)
        effective = options.effective or (date(year, month or 1, 1) if year else None)
        if effective is None:
            raise CodeImportError(
                source.name,
                "the file name does not say the year (expected e.g. HCPC2026_APR_ANWEB.txt); "
                "pass --effective",
            )
        if options.version:
            version = options.version
        elif year and not month:
            version = str(year)  # the annual file
        else:
            version = f"{effective.year}-{effective.month:02d}"
        return ReleaseInfo(KIND, version, effective)

    @staticmethod
    def _check_kind(source: SourceFile) -> None:
        """Refuse another kind of file before anything is written."""
        for number, line in source.lines():
            if RECORD.match(line):
                return
            if number >= PEEK_LINES:
                break
        raise CodeImportError(
            source.name,
            f"not a HCPCS alpha-numeric file: no record (code, sequence number, record id "
            f"in columns 1-11) in its first {PEEK_LINES} lines",
            1,
        )

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        modifiers: list[Row] = []
        procedures = 0

        def entries() -> Iterator[Row]:
            nonlocal procedures
            for record in read_records(source):
                added = record.date(source.name, 269, "add date")
                terminated = record.date(source.name, 285, "termination date")
                short = _text(record.line, 92, 119) or None
                if record.modifier:
                    modifiers.append(
                        (
                            release_id,
                            record.code,
                            short,
                            record.long_description,
                            added,
                            record.date(source.name, 277, "action effective date"),
                            terminated,
                            _text(record.line, 293, 293) or None,
                        )
                    )
                    continue
                procedures += 1
                # The action effective date is when the last change (a new description, a
                # deletion) took effect, not when the code did: a code is valid from its add
                # date, which the lookup reads when ``effective`` is empty. The action and its
                # date stay together in the details.
                yield code_entry_row(
                    release_id,
                    record.code,
                    True,
                    record.long_description,
                    short_description=short,
                    added=added,
                    terminated=terminated,
                    details=_details(record, source.name),
                )

        bulk_insert(conn, "code_entry", CODE_ENTRY_COLUMNS, counted(entries(), progress))
        bulk_insert(conn, "hcpcs_modifier", MODIFIER_COLUMNS, modifiers)
        return Loaded(
            rows=procedures + len(modifiers),
            details={"procedure_codes": procedures, "modifiers": len(modifiers)},
        )
