"""The automatic answer: what the draft engine concludes, for the person who asked, at once.

It is made from the same analysis, rules and facts as a draft, and says only
what a draft's reply would say: the short answer, why (each conclusion with
its citation), the facts with their releases, and, in words for the
requester, what could not be checked (never the reviewer's panel, which
names files and commands). It is marked automatic and unreviewed wherever
it is shown. ``confident`` is true only when nothing was left to an expert:
every code checked against data in force, every rule concluded, no
``[expert: ...]`` marker, nothing unloaded, stale or cut short.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from consultant.analysis.model import Analysis
from consultant.codes.refs import release_name
from consultant.drafting.draft import TOPIC_WORDS, Draft, restate
from consultant.drafting.facts import Facts
from consultant.drafting.render import (
    RenderedBody,
    Renderer,
    capitalize_first,
    open_expert_markers,
)

NOT_CODING = "This does not read as a coding question; ask an expert if it is one."


@dataclass
class StatedFact:
    kind: str
    codes: list[str]
    text: str
    release: str | None


@dataclass
class AutomaticAnswer:
    restatement: str
    short: list[str] = field(default_factory=list)
    why: list[dict[str, str]] = field(default_factory=list)  # {"text", "cited"}
    facts: list[StatedFact] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    on: str | None = None
    confident: bool = False
    phi_removed: bool = False
    automatic: bool = True  # always: said on every page, mail and API answer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def automatic_answer(
    renderer: Renderer, analysis: Analysis, facts: Facts, draft: Draft
) -> AutomaticAnswer:
    """The answer ``draft`` (made from ``analysis`` and ``facts``) gives, for the requester."""
    record = draft.record
    conclusions = record["conclusions"]
    answer = AutomaticAnswer(
        restatement=restate(analysis),
        short=[c["answer"] for c in conclusions],
        why=[{"text": c["why"], "cited": c["cited"]} for c in conclusions],
        facts=[_stated(renderer, facts, f) for f in facts.reply_items],
        on=facts.on,
        phi_removed=analysis.phi_found,
    )
    answer.unchecked = _unchecked(analysis, facts, record)
    answer.confident = bool(
        analysis.is_coding
        and conclusions
        and not answer.unchecked
        and not record["panel"]  # nothing unloaded, stale, unchecked, cut short or undecided
        and not open_expert_markers(draft.body.text)
    )
    return answer


def render_answer(
    renderer: Renderer, answer: AutomaticAnswer, reference: str | None, display_name: str
) -> RenderedBody:
    """The automatic answer as a mail (text and HTML), marked automatic and unreviewed."""
    return renderer.render(
        "automatic", answer=answer, reference=reference, display_name=display_name
    )


def _stated(renderer: Renderer, facts: Facts, fact: Any) -> StatedFact:
    partial = renderer.env.get_template(f"replies/facts/{fact.kind}.txt.j2")
    text = " ".join(partial.render(fact=fact, facts=facts).split()).removeprefix("- ")
    release = release_name(fact.source) if fact.source else None
    return StatedFact(fact.kind, list(fact.codes), text, release)


def _unchecked(analysis: Analysis, facts: Facts, record: dict[str, Any]) -> list[str]:
    """What the answer could not settle, in the requester's words."""
    if not analysis.is_coding:
        return [NOT_CODING]
    found = [
        f"To confirm from the record: {c['confirm']}" for c in record["conclusions"] if c["confirm"]
    ]
    found += [
        f"{capitalize_first(TOPIC_WORDS[t])}: this needs an expert's reading of the record."
        for t in record["unanswered"]
        if t in TOPIC_WORDS
    ]
    not_checked = [
        f.codes[0] for f in facts.items if f.kind == "code" and f.data["status"] == "no_data"
    ]
    if not_checked:
        found.append(f"Not checked: no code data is loaded for {', '.join(not_checked)}.")
    found += [
        f"Not checked: modifier {f.codes[0]} (no meaning on file)."
        for f in facts.items
        if f.kind == "modifier" and facts.held_back(f)
    ]
    found += [
        f"Not checked: what Medicare pays for {f.codes[0]}."
        for f in facts.items
        if f.kind == "fee" and not (f.data["amounts"] or f.data["clfs"])
    ]
    found += [
        f"National coverage determination {f.data['section']} ({f.data['title']}) may apply "
        f"to {f.codes[0]}; an expert would confirm."
        for f in facts.items
        if f.kind == "ncd" and f.data["matched_by"] != "section"
    ]
    found += [
        f"Not checked: {f.data['what']} is not loaded here."
        for f in facts.items
        if f.kind == "missing"
    ]
    stale = {release_name(f.source) for f in facts.items if f.source and facts.is_stale(f)}
    found += [
        f"{name} is not the release in force for {facts.on}: what it lists is named as its own."
        for name in sorted(stale)
    ]
    if record["undecided"]:
        count = len(record["undecided"])
        found.append(f"{count} point{'s' if count != 1 else ''} the rules could not settle.")
    found += [f"Limit reached: {limit}." for limit in facts.limits]
    if not record["conclusions"] and not record["unanswered"]:
        found.append("No rule answers this question from the code data; ask an expert.")
    return found
