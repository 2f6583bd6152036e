"""The labelled question set (tests/data/labelled_questions.jsonl) and its scoring.

Each question is turned into the email a coder would send (plain text, or
HTML only), read the way processing reads it (the new text, with a forwarded
message it points to; PHI anywhere in the message), and compared field by
field with what an expert labelled: codes, modifiers, topics, PHI kinds and
whether it is a coding question at all. Used by the test that holds the
targets and by bench/bench_extraction.py, which prints the figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

from consultant.analysis.analyze import analyze
from consultant.analysis.modifiers import MODIFIER_SYSTEM
from consultant.analysis.topics import ADDON_SYSTEM
from consultant.cases.answering import message_phi
from consultant.codes.importers import aoc, importer_for
from consultant.codes.importers.csvrows import csv_rows, data_rows, find_columns, find_header
from consultant.codes.importers.hcpcs import read_records
from consultant.codes.importers.icd10cm import default_tabular
from consultant.codes.importers.icd10cm_tabular import TabularCode, TabularReader
from consultant.codes.sources import SourceFile
from consultant.codes.systems import System
from consultant.mail.parse import parse_message
from tests.support.corpus import AOC_FILE, HCPCS_ZIP

DATA = Path(__file__).resolve().parents[1] / "data"
LABELLED = DATA / "labelled_questions.jsonl"
# The sets and what each is for (tests/data/LABELS.md): the first was fitted to, the held-out
# one written later and fitted to after its first reading, the unseen one never fitted to.
SETS = {
    "labelled": LABELLED,
    "held-out": DATA / "heldout_questions.jsonl",
    "unseen": DATA / "unseen_questions.jsonl",
}
CONSULT = "consult@caseconsultant.example"
FIELDS = ("codes", "modifiers", "topics", "phi")


def load(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def as_email(item: dict[str, Any]) -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Coder <dana@clinic.example>"
    message["To"] = CONSULT
    message["Subject"] = item.get("subject", "")
    message["Message-ID"] = f"<{item['id']}@clinic.example>"
    if "html" in item:
        message.set_content(item["html"], subtype="html")
    else:
        message.set_content(item["text"])
    return bytes(message)


@cache
def _icd10cm() -> frozenset[str]:
    """Every ICD-10-CM code, headers too, of the tabular that ships with the product."""
    reader = TabularReader(SourceFile(default_tabular()))
    return frozenset(item.code for item in reader.items() if isinstance(item, TabularCode))


@cache
def _hcpcs() -> dict[bool, frozenset[str]]:
    """The real HCPCS 2020 file's codes (under False) and modifiers (under True)."""
    records = list(read_records(importer_for("hcpcs").open([HCPCS_ZIP])[0]))
    return {
        kind: frozenset(r.code for r in records if r.modifier is kind) for kind in (False, True)
    }


@cache
def _addon_codes() -> frozenset[str]:
    """The add-on codes of the shared add-on edit file (constructed: its codes are real add-on
    codes, its edits made up), read with the importer's own column mapping."""
    source = importer_for("aoc").open([AOC_FILE])[0]
    rows = csv_rows(source, delimiter="\t")
    line, header = find_header(rows, "ADD-ON CODE", source.name)
    columns = find_columns(header, aoc.COLUMNS, source.name, line, optional=frozenset({"notes"}))
    return frozenset(row["addon"].upper() for _, row in data_rows(rows, columns, source.name))


def load_code_data() -> None:
    """Read the code files ``known`` answers from (once; a benchmark times reading alone)."""
    _icd10cm()
    _hcpcs()
    _addon_codes()


def known(system: str, code: str) -> bool:
    """What processing asks of the code data it has: the shipped ICD-10-CM, a HCPCS Level II
    file (the real 2020 one, codes and modifiers) and an add-on edit file (the shared one)."""
    if system == System.ICD10CM:
        return code in _icd10cm()
    if system == System.HCPCS:
        return code in _hcpcs()[False]
    if system == MODIFIER_SYSTEM:
        return code in _hcpcs()[True]
    return system == ADDON_SYSTEM and code in _addon_codes()


def read(item: dict[str, Any]) -> dict[str, Any]:
    """What CaseConsultant reads in the item's email, in the labels' shape."""
    parsed = parse_message(as_email(item))
    analysis = analyze(parsed.subject, parsed.question_text(CONSULT), known)
    return {
        "codes": [{"system": c.system, "code": c.code} for c in analysis.codes],
        "modifiers": list(analysis.modifiers),
        "topics": list(analysis.topics),
        "phi": message_phi(parsed).kinds,
        "purpose": analysis.purpose,
    }


def _values(field_name: str, labels: dict[str, Any]) -> set[str]:
    values = labels.get(field_name) or []
    if field_name == "codes":
        return {f"{v['system']} {v['code']}" for v in values}
    return set(values)


@dataclass
class Score:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    misses: list[str] = field(default_factory=list)  # "q012: missed X", "q013: extra Y"

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    items: int
    fields: dict[str, Score]
    phi_exact: float  # share of items whose PHI kinds are exactly the labelled ones
    purpose_accuracy: float
    wrong_phi: list[str]
    wrong_purpose: list[str]


def score(items: list[dict[str, Any]]) -> Report:
    fields = {name: Score() for name in FIELDS}
    phi_right = purpose_right = 0
    wrong_phi: list[str] = []
    wrong_purpose: list[str] = []
    for item in items:
        expected, found = item["expected"], read(item)
        for name, tally in fields.items():
            want, got = _values(name, expected), _values(name, found)
            tally.true_positive += len(want & got)
            tally.false_positive += len(got - want)
            tally.false_negative += len(want - got)
            tally.misses += [f"{item['id']}: missed {v}" for v in sorted(want - got)]
            tally.misses += [f"{item['id']}: extra {v}" for v in sorted(got - want)]
        if _values("phi", expected) == _values("phi", found):
            phi_right += 1
        else:
            wrong_phi.append(f"{item['id']}: {sorted(found['phi'])} for {expected['phi']}")
        if expected.get("purpose", "coding") == found["purpose"]:
            purpose_right += 1
        else:
            wrong_purpose.append(f"{item['id']}: {found['purpose']}")
    count = len(items)
    return Report(count, fields, phi_right / count, purpose_right / count, wrong_phi, wrong_purpose)
