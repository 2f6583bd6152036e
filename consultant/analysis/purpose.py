"""Whether a message asks a coding question at all: a thank-you, a question about our own
invoice or account, or a career question gets no code analysis and a reply of its own.

A message that names a code, a modifier or a coding topic is a coding question,
whatever else it says. Without any of those, its words decide; when they do
not, it is still treated as a coding question (the expert sees it either way),
since answering a real question with "not a coding question" would be worse.
"""

from __future__ import annotations

from consultant.analysis.wording import Phrases, Wording

CODING = "coding"
PURPOSES = (CODING, "thanks", "account", "career")
# Longest a thank-you runs: a longer message without a code is probably a question.
THANKS_MAX_WORDS = 40

_THANKS = Phrases.of(
    "thanks, thank, thx, appreciate, appreciated, grateful, helpful, that helps, perfect, "
    "makes sense, got it"
)
_ACCOUNT = Phrases.of(
    "invoice, invoices, invoiced, subscription, renewal, renew, receipt, refund, your fee, "
    "your fees, our account, my account, your bill, the bill you sent, billing statement, "
    "credit card, purchase order, w-9, w9, pricing, price list"
)
_CAREER = Phrases.of(
    "career, careers, job, jobs, hiring, resume, cv, interview, salary, cpc exam, ccs exam, "
    "certification exam, certified coder, become a coder, internship, apprentice, aapc exam"
)


def find_purpose(text: str, named_anything: bool, wording: Wording | None = None) -> str:
    """``coding`` unless a message that names no code, modifier or topic is a thank-you, a
    question about our own invoice or account, or a career question."""
    if named_anything:
        return CODING
    wording = wording or Wording.of(text)
    if _ACCOUNT.found_in(wording):
        return "account"
    if _CAREER.found_in(wording):
        return "career"
    if (
        _THANKS.found_in(wording)
        and "?" not in text
        and len(wording.joined.split()) <= THANKS_MAX_WORDS
    ):
        return "thanks"
    return CODING
