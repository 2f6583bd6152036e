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
from pathlib import Path
from typing import Any

from consultant.analysis.analyze import analyze
from consultant.cases.answering import message_phi
from consultant.mail.parse import parse_message

LABELLED = Path(__file__).resolve().parents[1] / "data" / "labelled_questions.jsonl"
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


def read(item: dict[str, Any]) -> dict[str, Any]:
    """What CaseConsultant reads in the item's email, in the labels' shape."""
    parsed = parse_message(as_email(item))
    analysis = analyze(parsed.subject, parsed.question_text(CONSULT))
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
