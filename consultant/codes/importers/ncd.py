"""The National Coverage Determinations download: the NCD tracking table (``ncd_trkg``),
each NCD version with its manual section, title, dates and indications as plain text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection

from consultant.codes.bulk import bulk_insert
from consultant.codes.importers.mcd_export import (
    day,
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
    counted,
)
from consultant.codes.sources import CodeImportError, SourceFile

TABLE = "ncd_trkg"
COLUMNS = ("ncd_id", "ncd_vrsn_num", "ncd_mnl_sect", "ncd_mnl_sect_title")


class NcdImporter:
    kind = "ncd"

    def open(self, paths: list[Path]) -> list[SourceFile]:
        if len(paths) != 1:
            raise CodeImportError(", ".join(map(str, paths)), "import one NCD download")
        return [open_export(paths[0], TABLE)]

    def identify(self, sources: list[SourceFile], options: ImportOptions) -> ReleaseInfo:
        return identify_export(sources[0], TABLE, "NCD", self.kind, options)

    def load(
        self, conn: Connection, release_id: int, sources: list[SourceFile], progress: Progress
    ) -> Loaded:
        count = 0
        with opened(sources[0]) as export:
            export.expect(TABLE, "NCD")
            export.columns(TABLE, *COLUMNS)
            where = export.where(TABLE)

            def rows() -> Iterator[tuple[object, ...]]:
                nonlocal count
                seen: set[tuple[int, int]] = set()
                for line, row in export.rows(TABLE):
                    key = (
                        whole(row["ncd_id"], where, line, "NCD_id"),
                        whole(row["ncd_vrsn_num"], where, line, "NCD_vrsn_num"),
                    )
                    if key in seen:
                        continue
                    seen.add(key)
                    count += 1
                    yield (
                        release_id,
                        *key,
                        row["ncd_mnl_sect"].strip(),
                        row["ncd_mnl_sect_title"].strip(),
                        day(row.get("ncd_efctv_dt", ""), where, line, "NCD_efctv_dt"),
                        day(row.get("ncd_trmntn_dt", ""), where, line, "NCD_trmntn_dt"),
                        plain(row.get("itm_srvc_desc", "")),
                        plain(row.get("indctn_lmtn", "")),
                    )

            bulk_insert(
                conn,
                "ncd_document",
                (
                    "release_id",
                    "ncd_id",
                    "version",
                    "section",
                    "title",
                    "effective",
                    "ending",
                    "item_service",
                    "indications",
                ),
                counted(rows(), progress),
            )
        if not count:
            raise CodeImportError(sources[0].name, "ncd_trkg.csv lists no NCD")
        return Loaded(rows=count)
