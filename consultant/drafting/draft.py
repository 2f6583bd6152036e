"""Making the draft reply: the short answer, why, the facts with citations, what to confirm.

The rules conclude first (``consultant.rules``); the reply is rendered from
``templates/replies/answer.*.j2`` (a partial per rule, per fact kind and per
topic no rule answered). The analysis, the facts and the conclusions are
returned with it, to be stored on the draft and shown to the reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consultant.analysis.model import Analysis
from consultant.codes.systems import System
from consultant.drafting.conclusions import for_reply, word
from consultant.drafting.facts import PROCEDURE_SYSTEMS, Facts
from consultant.drafting.render import RenderedBody, Renderer, series
from consultant.rules.library import Evaluation, evaluate

TOPIC_WORDS = {
    "ncci": "NCCI edits",
    "modifier": "modifiers",
    "mue": "units and MUEs",
    "global": "the global surgical period",
    "addon": "add-on codes",
    "em": "E/M services",
    "diagnosis": "diagnosis coding",
    "coverage": "coverage",
    "payment": "what Medicare pays",
    "crosswalk": "which diagnosis supports which procedure",
    "code_selection": "choosing the right code",
}


def restate(analysis: Analysis) -> str:
    """The question in one line, from what analysis found (never from the raw text: PHI)."""
    codes = [c.code for c in analysis.codes]
    parts = []
    if codes:
        parts.append(f"{series(codes)}")
    if analysis.modifiers:
        word = "modifier" if len(analysis.modifiers) == 1 else "modifiers"
        parts.append(f"with {word} {series(list(analysis.modifiers))}")
    about = " ".join(parts) or "your coding question"
    topics = [TOPIC_WORDS[t] for t in analysis.topics if t in TOPIC_WORDS]
    if topics:
        return f"You asked about {about}: {series(topics)}."
    return f"You asked about {about}."


@dataclass(frozen=True)
class Draft:
    body: RenderedBody
    record: dict[str, Any]  # what the draft used: stored as the draft's facts JSON


def make_draft(
    renderer: Renderer,
    analysis: Analysis,
    facts: Facts,
    *,
    requester_name: str | None,
    subject: str,
    reference: str | None,
    question: str,
    attachments: list[str],
    display_name: str,
    notes: list[dict[str, Any]] | None = None,
) -> Draft:
    """Render the answer draft; ``subject`` and ``question`` must already be free of PHI.
    ``notes`` are the experts' guidance notes the question names (``cases.guidance``)."""
    # A message that asks no coding question has nothing for the rules: a reply suited to it.
    coding = analysis.is_coding
    evaluation = word(renderer, evaluate(analysis, facts, notes)) if coding else Evaluation()
    conclusions = for_reply(evaluation)
    answered = evaluation.answered_topics(analysis)
    body = renderer.render(
        "answer" if coding else "not_coding",
        purpose=analysis.purpose,
        requester_name=requester_name,
        restatement=restate(analysis),
        facts=facts,
        conclusions=conclusions,
        confirm=list(dict.fromkeys(c["confirm"] for c in conclusions if c["confirm"])),
        topics=[t for t in analysis.topics if t not in answered],
        procedures=[c.code for c in analysis.codes if c.system in PROCEDURE_SYSTEMS],
        diagnoses=analysis.codes_of(System.ICD10CM),
        subject=subject,
        reference=reference,
        question=question,
        phi_removed=analysis.phi_found,
        attachments=attachments,
        display_name=display_name,
    )
    record = {"analysis": analysis.as_json(), **facts.as_dict()}
    record["panel"] = _purpose_notes(analysis) + record["panel"] + _undecided_notes(evaluation)
    record["conclusions"] = conclusions
    record["undecided"] = [u.as_dict() for u in evaluation.undecided]
    record["unanswered"] = [t for t in analysis.topics if t not in answered]
    return Draft(body, record)


NOT_CODING = {
    "thanks": "a thank-you: no reply is needed (reject the case to close it without one), or "
    "send the short acknowledgment drafted",
    "account": "a question about our own invoice or account, not about coding",
    "career": "a career, training or exam question, not about coding",
}


def _purpose_notes(analysis: Analysis) -> list[dict[str, str]]:
    if analysis.is_coding:
        return []
    text = f"Not a coding question: {NOT_CODING[analysis.purpose]}. No code analysis."
    return [{"kind": "not_coding", "text": text}]


def _undecided_notes(evaluation: Evaluation) -> list[dict[str, str]]:
    return [
        {"kind": "undecided", "text": f"Rule {u.rule} ({'/'.join(u.codes)}): {u.reason}"}
        for u in evaluation.undecided
    ]
