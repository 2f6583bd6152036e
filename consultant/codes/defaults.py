"""Code data a new installation starts with: ICD-10-CM from the simple-icd-10-cm package.

ICD-10-CM is public domain and ships inside a dependency, so the embedded
default can answer diagnosis questions on first run with no download. The
CMS edit files and CPT are the operator's to import.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from consultant.codes.importers.icd10cm import Icd10CmImporter, default_tabular
from consultant.codes.importing import ImportResult, import_release
from consultant.codes.tables import CodeRelease
from consultant.db import Database

log = logging.getLogger(__name__)


def ensure_icd10cm(db: Database) -> ImportResult | None:
    """Load the packaged ICD-10-CM tabular unless some ICD-10-CM release is loaded."""
    with db.session() as session:
        if session.scalar(select(CodeRelease.id).where(CodeRelease.kind == "icd10cm").limit(1)):
            return None
    log.info("loading ICD-10-CM from the simple-icd-10-cm package (first run)")
    return import_release(db, Icd10CmImporter(), [default_tabular()])
