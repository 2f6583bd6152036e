"""Code systems and what a code's shape says about which system it belongs to.

Shapes overlap: ``J1100`` is HCPCS J1100 or ICD-10-CM J11.00 written without
its dot. ``candidates`` lists every reading in the order the shape favours;
the lookup then lets the loaded data decide (the first reading that exists).
"""

from __future__ import annotations

import re
from enum import StrEnum


class System(StrEnum):
    CPT = "CPT"
    HCPCS = "HCPCS"
    ICD10CM = "ICD-10-CM"
    ICD10PCS = "ICD-10-PCS"


# The release kind whose data answers for each system.
RELEASE_KIND = {
    System.CPT: "cpt",
    System.HCPCS: "hcpcs",
    System.ICD10CM: "icd10cm",
    System.ICD10PCS: "icd10pcs",
}

_CPT = re.compile(r"^\d{5}$|^\d{4}[FTU]$")
_HCPCS = re.compile(r"^[A-V]\d{4}$")
# A letter, then a digit and a digit or letter (E11, O9A), or a letter and a digit (QA0, 2026).
_ICD10CM = re.compile(r"^[A-Z](?:\d[0-9A-Z]|[A-Z]\d)(?:\.?[0-9A-Z]{1,4})?$")
# PCS: a section character (0-9, B, C, D, F, G, H, X), then six of 0-9 and A-Z without I, O.
_ICD10PCS = re.compile(r"^[0-9BCDFGHX][0-9A-HJ-NP-Z]{6}$")


def icd10cm_with_dot(code: str) -> str:
    """``E119`` → ``E11.9``; a code that has its dot, or is a category, is unchanged."""
    bare = code.replace(".", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def candidates(text: str) -> list[tuple[System, str]]:
    """Every (system, normalised code) ``text`` could be, most likely first."""
    code = text.strip().upper()
    found: list[tuple[System, str]] = []
    if _CPT.match(code):
        found.append((System.CPT, code))
    if _HCPCS.match(code):
        found.append((System.HCPCS, code))
    if _ICD10CM.match(code):
        found.append((System.ICD10CM, icd10cm_with_dot(code)))
    if "." not in code and _ICD10PCS.match(code):
        pcs = (System.ICD10PCS, code)
        # A 7-character code starting with a digit can only be PCS.
        found.insert(0 if code[0].isdigit() else len(found), pcs)
    return found
