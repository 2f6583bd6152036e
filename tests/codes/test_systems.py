"""What a code's shape says about its system, before the data decides."""

from __future__ import annotations

import pytest

from consultant.codes.systems import System, candidates


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("29880", [(System.CPT, "29880")]),
        ("3074F", [(System.CPT, "3074F")]),
        ("0591T", [(System.CPT, "0591T")]),
        ("0001U", [(System.CPT, "0001U")]),
        ("j1100", [(System.HCPCS, "J1100"), (System.ICD10CM, "J11.00")]),
        ("e119", [(System.ICD10CM, "E11.9")]),
        ("S52.521A", [(System.ICD10CM, "S52.521A")]),
        ("s52521a", [(System.ICD10CM, "S52.521A")]),
        ("O9A.111", [(System.ICD10CM, "O9A.111")]),
        ("QA0.0101", [(System.ICD10CM, "QA0.0101")]),
        ("I10", [(System.ICD10CM, "I10")]),
        ("0DTJ4ZZ", [(System.ICD10PCS, "0DTJ4ZZ")]),
        ("99213-25", []),
        ("85710", [(System.CPT, "85710")]),
    ],
)
def test_readings_of_a_code(text: str, readings: list[tuple[System, str]]) -> None:
    assert candidates(text) == readings
