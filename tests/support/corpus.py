"""The shared sample mail and data (``../shared`` next to the repository)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
QUESTIONS = SHARED / "corpus" / "questions"
SPECIAL = SHARED / "corpus" / "special"
BENCH_MBOX = SHARED / "corpus" / "bench" / "corpus-1000.mbox"


def question_files() -> list[Path]:
    return sorted(QUESTIONS.glob("*.eml"))


def special(name: str) -> bytes:
    return (SPECIAL / name).read_bytes()


def special_expected() -> dict[str, Any]:
    return json.loads((SPECIAL / "expected.json").read_text())


DATA = SHARED / "data"
HCPCS_ZIP = DATA / "cms" / "2020-Alpha-Numeric-HCPCS-File.zip"  # real, public domain
CONSTRUCTED = DATA / "constructed"
PTP_FILE = CONSTRUCTED / "ccipra-v323r0-f1.TXT"
MUE_FILE = CONSTRUCTED / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
AOC_FILE = CONSTRUCTED / "AOC_V2026Q4-MCR.txt"
PFS_FILE = CONSTRUCTED / "PPRRVU2026_Oct_nonQPP.csv"
PFS_2027_FILE = CONSTRUCTED / "PPRRVU2027_Jan_nonQPP.csv"
GPCI_FILE = CONSTRUCTED / "GPCI2027.csv"
LOCALITY_FILE = CONSTRUCTED / "27LOCCO.csv"
CLFS_FILE = CONSTRUCTED / "CLFS2026Q4.csv"
MCD = CONSTRUCTED / "mcd"
ARTICLES_ZIP = MCD / "current_article.zip"
LCDS_ZIP = MCD / "current_lcd.zip"
NCD_ZIP = MCD / "ncd.zip"
# The CONSTRUCTED payment and coverage files, by the kind each imports as.
PAYMENT_FILES = (
    ("pfs", PFS_FILE),
    ("pfs", PFS_2027_FILE),
    ("gpci", GPCI_FILE),
    ("locality", LOCALITY_FILE),
    ("clfs", CLFS_FILE),
)
COVERAGE_FILES = (("mcd-articles", ARTICLES_ZIP), ("mcd-lcds", LCDS_ZIP), ("ncd", NCD_ZIP))
