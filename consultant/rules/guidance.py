"""Experts' guidance notes, used like the shipped rules: a note on a code, a pair, a
modifier or a topic the question names concludes with the note's own words and citation.

The notes come in through the context (the caller reads them from the
database); the conclusion keeps which note, which version and whose it is,
for the case page. The reply gives the note's words and its citation only.
"""

from __future__ import annotations

from collections.abc import Iterator

from consultant.rules.model import Context, Outcome, Rule, rule

# What a note's kind of target answers among the analysis topics.
ANSWERS_BY_KIND = {"pair": "ncci", "modifier": "modifier"}


@rule("guidance", "An expert's guidance note on a code, pair, modifier or topic asked about")
def guidance(self: Rule, context: Context) -> Iterator[Outcome]:
    for note in context.notes:
        kind, target = note["kind"], note["target"]
        codes = target.split("+") if kind in ("code", "pair") else []
        params = {"text": note["text"], "citation": note["citation"], "kind": kind}
        conclusion = self.conclude(codes, params, modifiers=[target] if kind == "modifier" else [])
        conclusion.note = {
            "id": note["id"],
            "version": note["version"],
            "author": note["author"],
            "kind": kind,
            "target": target,
            "answers": target if kind == "topic" else ANSWERS_BY_KIND.get(kind, ""),
        }
        yield conclusion


RULES = (guidance,)
