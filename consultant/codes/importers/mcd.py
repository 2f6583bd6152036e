"""The Medicare Coverage Database articles and LCDs downloads (current or all versions).

Each download is one release: its documents' versions with their dates and
status, the contractors that publish them and the states those cover, and,
for articles, the codes of each version by list (procedure codes, covered and
non-covered ICD-10-CM codes, modifiers) and group, with each group's
paragraph as plain text. The release is named by the download and the day of
its newest change (``current_article 2026-09-30``); its first day is that day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Connection, Index

from consultant.codes.bulk import bulk_insert
from consultant.codes.coverage_tables import (
    COVERED,
    HCPC,
    MODIFIER,
    NONCOVERED,
    mcd_code_table,
)
from consultant.codes.importers.mcd_export import (
    Export,
    day,
    export_name,
    identify_export,
    open_export,
    opened,
    plain,
    whole,
)
from consultant.codes.importing import (
    ImportOptions,
    Loaded,
    Progress,
    ReleaseInfo,
    as_json,
    counted,
)
from consultant.codes.sources import CodeImportError, SourceFile
from consultant.codes.states import state_code

Rows = Iterator[tuple[object, ...]]
Insert = Callable[..., None]  # (table, columns, rows, keyed=True): ``_McdImporter.load``
DOCUMENT_COLUMNS = (
    "release_id",
    "document_id",
    "version",
    "display_id",
    "title",
    "status",
    "effective",
    "ending",
    "texts",
)
# An article's lists: (table, its code column, its group column, the group paragraphs' table)
ARTICLE_LISTS = (
    (HCPC, "article_x_hcpc_code", "hcpc_code_id", "hcpc_code_group"),
    (COVERED, "article_x_icd10_covered", "icd10_code_id", "icd10_covered_group"),
    (NONCOVERED, "article_x_icd10_noncovered", "icd10_code_id", "icd10_noncovered_group"),
    (MODIFIER, "article_x_hcpc_modifier", "hcpc_modifier_code_id", "hcpc_modifier_group"),
)
LCD_TEXTS = {
    "indication": "indication",
    "coding_guidelines": "coding_guidelines",
    "documentation": "doc_reqs",
    "utilization": "util_guide",
}


class _McdImporter:
    """What the articles and the LCDs downloads share: contractors, states, versions."""

    kind: str
    document: str  # "article" or "lcd": the table of versions, and the prefix of the others
    prefix: str  # "A" or "L": the display id when the export has none

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(", ".join(map(str, paths)), f"import one {self.kind} download")
        return [open_export(paths[0], self.document)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        return identify_export(sources[0], self.document, self.document, self.kind, options)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        counts: dict[str, int] = {}

        def insert(table: str, columns: tuple[str, ...], rows: Rows, keyed: bool = True) -> None:
            """Load ``rows`` into ``table``, each with the release's id unless the table is
            the release's own (``keyed=False``), counting them per table."""

            def tally(done: int) -> None:
                counts[table] = counts.get(table, 0) + done
                progress(done)

            if keyed:
                rows, columns = ((release_id, *row) for row in rows), ("release_id", *columns)
            bulk_insert(conn, table, columns, counted(rows, tally))

        with opened(sources[0]) as export:
            self._check(export)
            insert(
                "mcd_contractor",
                ("contractor_id", "type_id", "version", "name", "number", "type_name"),
                _contractors(export),
            )
            insert(
                "mcd_jurisdiction",
                ("contractor_id", "type_id", "version", "state", "active", "term"),
                _jurisdictions(export),
            )
            insert("mcd_document", DOCUMENT_COLUMNS[1:], self._documents(export))
            insert(
                "mcd_document_contractor",
                ("document_id", "version", "contractor_id", "type_id", "contractor_version"),
                self._document_contractors(export),
            )
            insert(
                "mcd_link", ("document_id", "version", "lcd_id", "article_id"), self._links(export)
            )
            self._load_lists(export, insert, conn, release_id)
        if not counts.get("mcd_document"):
            raise CodeImportError(sources[0].name, f"{self.document}.csv lists no document")
        details: dict[str, object] = {"export": export_name(sources[0]), "tables": counts}
        if self.document == "article":
            details["codes_table"] = mcd_code_table(release_id).name
        return Loaded(rows=sum(counts.values()), details=details)

    def _check(self, export: Export) -> None:
        export.expect(self.document, self.document)
        export.columns(self.document, f"{self.document}_id", f"{self.document}_version", "title")
        export.columns("state_lookup", "state_id", "state_abbrev")
        export.columns("contractor", "contractor_id", "contractor_type_id", "contractor_version")

    def _dates(self, row: dict[str, str], where: str, line: int) -> tuple[int | None, int | None]:
        raise NotImplementedError

    def _texts(self, row: dict[str, str]) -> dict[str, str]:
        return {}

    def _documents(self, export: Export) -> Rows:
        where = export.where(self.document)
        seen: set[tuple[int, int]] = set()
        for line, row in export.rows(self.document):
            key = (
                whole(row.get(f"{self.document}_id", ""), where, line, "id"),
                whole(row.get(f"{self.document}_version", ""), where, line, "version"),
            )
            if key in seen:
                continue
            seen.add(key)
            effective, ending = self._dates(row, where, line)
            yield (
                *key,
                row.get("display_id") or f"{self.prefix}{key[0]}",
                row.get("title", "").strip(),
                row.get("status", "").strip().upper(),
                effective,
                ending,
                as_json(self._texts(row)),
            )

    def _document_contractors(self, export: Export) -> Rows:
        table = f"{self.document}_x_contractor"
        where = export.where(table)
        for line, row in export.rows(table):
            yield (
                whole(row.get(f"{self.document}_id", ""), where, line, "id"),
                whole(row.get(f"{self.document}_version", ""), where, line, "version"),
                whole(row.get("contractor_id", ""), where, line, "contractor id"),
                whole(row.get("contractor_type_id", ""), where, line, "contractor type"),
                whole(row.get("contractor_version", ""), where, line, "contractor version"),
            )

    def _links(self, export: Export) -> Rows:
        table = f"{self.document}_related_documents"
        where = export.where(table)
        for line, row in export.rows(table, required=False):
            lcd, article = row.get("r_lcd_id", "").strip(), row.get("r_article_id", "").strip()
            if self.document == "lcd":
                lcd = row.get("lcd_id", "")
            else:
                article = row.get("article_id", "")
            if not (lcd.strip() and article.strip()):
                continue  # a link to an NCD or to another document of the same kind
            yield (
                whole(row.get(f"{self.document}_id", ""), where, line, "id"),
                whole(row.get(f"{self.document}_version", ""), where, line, "version"),
                whole(lcd, where, line, "LCD id"),
                whole(article, where, line, "article id"),
            )

    def _load_lists(
        self,
        export: Export,
        insert: Insert,
        conn: Connection,
        release_id: int,
    ) -> None:
        """Articles only: their codes and group paragraphs."""


class ArticleImporter(_McdImporter):
    kind = "mcd-article"
    document = "article"
    prefix = "A"

    def _dates(self, row: dict[str, str], where: str, line: int) -> tuple[int | None, int | None]:
        return (
            day(row.get("article_eff_date", ""), where, line, "article_eff_date"),
            day(row.get("article_end_date", ""), where, line, "article_end_date"),
        )

    def _check(self, export: Export) -> None:
        super()._check(export)
        export.columns("article_x_hcpc_code", "article_id", "hcpc_code_id", "hcpc_code_group")

    def _load_lists(
        self,
        export: Export,
        insert: Insert,
        conn: Connection,
        release_id: int,
    ) -> None:
        codes = mcd_code_table(release_id)
        codes.drop(conn, checkfirst=True)  # a leftover of a release removed by hand
        codes.create(conn)
        for kind, table, code_column, group_column in ARTICLE_LISTS:
            insert(
                codes.name,
                ("document_id", "version", "list", "group_no", "code"),
                _codes(export, table, kind, code_column, group_column),
                keyed=False,
            )
        Index(f"ix_{codes.name}_code", codes.c.code, codes.c.list).create(conn)
        Index(
            f"ix_{codes.name}_document", codes.c.document_id, codes.c.version, codes.c.list
        ).create(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f'ANALYZE "{codes.name}"')
        for kind, table, _, group_column in ARTICLE_LISTS:
            insert(
                "mcd_group",
                ("document_id", "version", "list", "group_no", "paragraph"),
                _groups(export, f"{table}_group", kind, group_column),
            )


class LcdImporter(_McdImporter):
    kind = "mcd-lcd"
    document = "lcd"
    prefix = "L"

    def _dates(self, row: dict[str, str], where: str, line: int) -> tuple[int | None, int | None]:
        effective = row.get("rev_eff_date") or row.get("orig_det_eff_date", "")
        ending = row.get("rev_end_date") or row.get("ent_det_end_date", "")
        return day(effective, where, line, "rev_eff_date"), day(ending, where, line, "rev_end_date")

    def _texts(self, row: dict[str, str]) -> dict[str, str]:
        texts = {name: plain(row.get(column, "")) for name, column in LCD_TEXTS.items()}
        return {name: text for name, text in texts.items() if text}


def _contractors(export: Export) -> Rows:
    where = export.where("contractor")
    types = {
        row.get("contractor_type_id", "").strip(): row.get("description", "").strip()
        for _, row in export.rows("contractor_type_lookup", required=False)
    }
    seen: set[tuple[int, int, int]] = set()
    for line, row in export.rows("contractor"):
        key = (
            whole(row.get("contractor_id", ""), where, line, "contractor id"),
            whole(row.get("contractor_type_id", ""), where, line, "contractor type"),
            whole(row.get("contractor_version", ""), where, line, "contractor version"),
        )
        if key in seen:
            continue
        seen.add(key)
        yield (
            *key,
            row.get("contractor_bus_name", "").strip(),
            row.get("contractor_number", "").strip(),
            types.get(str(key[1]), ""),
        )


def _jurisdictions(export: Export) -> Rows:
    states: dict[str, str] = {}
    lookup = export.where("state_lookup")
    for line, row in export.rows("state_lookup"):
        code = state_code(row.get("state_abbrev", "")) or state_code(row.get("description", ""))
        if code is None:
            raise CodeImportError(lookup, f"{row.get('state_abbrev')!r} is not a state", line)
        states[row.get("state_id", "").strip()] = code
    where = export.where("contractor_jurisdiction")
    for line, row in export.rows("contractor_jurisdiction"):
        state = states.get(row.get("state_id", "").strip())
        if state is None:
            raise CodeImportError(
                where, f"state_id {row.get('state_id')!r} is not in state_lookup.csv", line
            )
        yield (
            whole(row.get("contractor_id", ""), where, line, "contractor id"),
            whole(row.get("contractor_type_id", ""), where, line, "contractor type"),
            whole(row.get("contractor_version", ""), where, line, "contractor version"),
            state,
            day(row.get("active_date", ""), where, line, "active_date"),
            day(row.get("term_date", ""), where, line, "term_date"),
        )


def _codes(export: Export, table: str, kind: str, code_column: str, group_column: str) -> Rows:
    where = export.where(table)
    names = ("article_id", "article_version", group_column, code_column)
    for line, (article, version, group, code) in export.cells(table, names, kind == HCPC):
        try:
            values = (int(article), int(version), kind, int(group or 0), code.strip().upper())
        except ValueError:
            whole(article, where, line, "article_id")
            whole(version, where, line, "article_version")
            whole(group, where, line, group_column)
            raise
        if not values[4] or len(values[4]) > 10:
            raise CodeImportError(where, f"{code_column} {code!r} is not a code", line)
        yield values


def _groups(export: Export, table: str, kind: str, group_column: str) -> Rows:
    where = export.where(table)
    for line, row in export.rows(table, required=False):
        yield (
            whole(row.get("article_id", ""), where, line, "article id"),
            whole(row.get("article_version", ""), where, line, "article version"),
            kind,
            whole(row.get(group_column) or "0", where, line, group_column),
            plain(row.get("paragraph", "")),
        )
