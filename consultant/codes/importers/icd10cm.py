"""ICD-10-CM: the CDC tabular XML or the CDC/CMS order file, told apart by their content.

The tabular is the richer source (hierarchy, instructional notes, 7th
characters); the order file has flags and short titles only. Either loads a
release of kind ``icd10cm``. With no file named, the embedded default is the
April 2026 tabular that ships inside the ``simple-icd-10-cm`` package, so a
fresh installation answers ICD-10-CM questions without a download.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from importlib import metadata
from pathlib import Path

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.icd10cm_tabular import TabularCode, TabularNote, TabularReader
from consultant.codes.importers.order_file import (
    ORDER_NAME,
    looks_like_order_file,
    read_order_file,
)
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
from consultant.codes.systems import icd10cm_with_dot

KIND = "icd10cm"
PACKAGE = "simple-icd-10-cm"
MEMBER = re.compile(rf"tabular[^/]*\.xml$|{ORDER_NAME}", re.IGNORECASE)
NOTE_COLUMNS = ("release_id", "code", "kind", "text")
PROGRESS_EVERY = 10_000
HEAD_BYTES = 4096

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_DATED = re.compile(rf"(?i)({'|'.join(MONTHS)})[-_ ]?(?:(\d{{1,2}})[-_ ])?(20\d\d)(?!\d)")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_XML_VERSION = re.compile(rb"<version>\s*(20\d\d)\s*</version>")


def default_tabular() -> Path:
    """The tabular XML shipped inside the installed ``simple-icd-10-cm`` package.

    Found through the package's installed-file record, not by importing it:
    importing ``simple_icd_10_cm`` parses the whole tabular into a tree
    (seconds, and some 200 MB) before we would read a byte of it ourselves.
    """
    try:
        files = metadata.files(PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise CodeImportError(
            PACKAGE, "the package is not installed: name an ICD-10-CM file"
        ) from None
    found = [Path(str(f.locate())) for f in files if re.search(r"tabular[^/]*\.xml$", str(f))]
    if len(found) != 1 or not found[0].is_file():
        raise CodeImportError(
            PACKAGE, f"expected one tabular XML file in the package, found {len(found)}"
        )
    return found[0]


def _fiscal_year(year: int) -> tuple[str, date]:
    """A fiscal-year release: FY2026 takes effect on 1 October 2025."""
    return f"FY{year}", date(year - 1, 10, 1)


def version_from_name(name: str) -> tuple[str, date] | None:
    """Version and effective date a file name states: April 2026 → 2026-04; 2026 → FY2026."""
    dated = _DATED.search(name)
    if dated:
        month, day, year = MONTHS[dated[1].lower()], int(dated[2] or 1), int(dated[3])
        return f"{year}-{month:02d}", date(year, month, day)
    year = _YEAR.search(name)
    return _fiscal_year(int(year[1])) if year else None


def _head(source: SourceFile) -> bytes:
    with source.open_binary() as handle:
        return handle.read(HEAD_BYTES).removeprefix(b"\xef\xbb\xbf").lstrip()


def is_tabular(source: SourceFile) -> bool:
    """Whether ``source`` is the tabular XML (else the order file), or a one-line error."""
    head = _head(source)
    if head.startswith(b"<"):
        return True
    if looks_like_order_file(head.decode("latin-1")):
        return False
    raise CodeImportError(
        source.name,
        "neither the ICD-10-CM tabular XML nor the ICD-10-CM order file "
        "(expected '<?xml' or lines like '00001 A00     0 Cholera ...')",
    )


class Icd10CmImporter:
    kind = KIND

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(
                ", ".join(p.name for p in paths) or KIND,
                "give one ICD-10-CM file: the tabular XML or the order file",
            )
        return [open_source(paths[0], MEMBER)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        source = sources[0]
        tabular = is_tabular(source)
        named = version_from_name(source.name)
        if named is None and tabular:
            stated = _XML_VERSION.search(_head(source))
            named = _fiscal_year(int(stated[1])) if stated else None
        effective = options.effective or (named[1] if named else None)
        if effective is None:
            raise CodeImportError(
                source.name,
                "neither the file name nor the file says which release this is: "
                "give --effective YYYY-MM-DD (and --version)",
            )
        version = options.version or (named[0] if named else effective.isoformat()[:7])
        return ReleaseInfo(KIND, version, effective)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        source = sources[0]
        if not is_tabular(source):
            return self._load_order_file(conn, release_id, source, progress)
        reader = TabularReader(source)
        notes: list[tuple[int, str, str, str]] = []
        counts = {"codes": 0, "billable": 0}

        def entries() -> Iterator[tuple[object, ...]]:
            """Code rows for COPY; notes are kept aside (a connection runs one COPY at a time)."""
            for item in reader.items():
                if isinstance(item, TabularNote):
                    notes.append((release_id, item.code, item.kind, item.text))
                    continue
                counts["codes"] += 1
                counts["billable"] += item.billable
                yield _entry_row(release_id, item)

        bulk_insert(
            conn, "code_entry", CODE_ENTRY_COLUMNS, counted(entries(), progress, PROGRESS_EVERY)
        )
        bulk_insert(conn, "code_note", NOTE_COLUMNS, notes)
        progress(len(notes))
        return Loaded(
            counts["codes"] + len(notes),
            {"format": "tabular", **counts, "notes": len(notes), "xml_version": reader.version},
        )

    def _load_order_file(
        self, conn: Connection, release_id: int, source: SourceFile, progress: Progress
    ) -> Loaded:
        counts = {"codes": 0, "billable": 0}

        def rows() -> Iterator[tuple[object, ...]]:
            headers: list[str] = []  # the chain of headers above the current line
            for line in read_order_file(source):
                code = icd10cm_with_dot(line.code)
                while headers and not code.startswith(headers[-1]):
                    headers.pop()
                counts["codes"] += 1
                counts["billable"] += line.billable
                yield code_entry_row(
                    release_id,
                    code,
                    line.billable,
                    line.long,
                    parent=headers[-1] if headers else None,
                    short_description=line.short,
                )
                if not line.billable:
                    headers.append(code)

        bulk_insert(
            conn, "code_entry", CODE_ENTRY_COLUMNS, counted(rows(), progress, PROGRESS_EVERY)
        )
        return Loaded(counts["codes"], {"format": "order", **counts})


def _entry_row(release_id: int, item: TabularCode) -> tuple[object, ...]:
    return code_entry_row(
        release_id,
        item.code,
        item.billable,
        item.description,
        parent=item.parent,
        details=item.details,
    )
