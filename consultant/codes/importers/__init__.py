"""One importer per official file format, by the KIND the CLI names."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consultant.codes.importing import Importer

# kind → "module:class"; imported only when that kind is imported.
IMPORTERS = {
    "icd10cm": "consultant.codes.importers.icd10cm:Icd10CmImporter",
    "icd10pcs": "consultant.codes.importers.icd10pcs:Icd10PcsImporter",
    "hcpcs": "consultant.codes.importers.hcpcs:HcpcsImporter",
    "ncci-ptp": "consultant.codes.importers.ncci_ptp:NcciPtpImporter",
    "mue": "consultant.codes.importers.mue:MueImporter",
    "aoc": "consultant.codes.importers.aoc:AddOnImporter",
    "pfs": "consultant.codes.importers.pfs:PfsImporter",
    "cpt": "consultant.codes.importers.cpt:CptImporter",
    "gpci": "consultant.codes.importers.gpci:GpciImporter",
    "locality": "consultant.codes.importers.locality:LocalityImporter",
    "clfs": "consultant.codes.importers.clfs:ClfsImporter",
    "mcd-articles": "consultant.codes.importers.mcd:ArticleImporter",
    "mcd-lcds": "consultant.codes.importers.mcd:LcdImporter",
    "ncd": "consultant.codes.importers.ncd:NcdImporter",
}


def importer_for(kind: str) -> Importer:
    """The importer of ``kind`` (one of IMPORTERS)."""
    module, name = IMPORTERS[kind].split(":")
    return getattr(import_module(module), name)()
