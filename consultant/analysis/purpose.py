"""Whether a message asks a coding question at all: a thank-you, a question about our own
invoice or account, or a career question gets no code analysis and a reply of its own.

A short thank-you that asks nothing is one even when it names the codes we
answered about. Otherwise a message that names a code or a modifier is a coding
question, whatever else it says; without one, its words decide (topic words
such as "which code" are too common to outweigh "CPC exam"). When they do not,
it is still treated as a coding question (the expert sees it either way), since
answering a real question with "not a coding question" would be worse.
"""

from __future__ import annotations

from consultant.analysis.wording import Phrases, Wording

CODING = "coding"
PURPOSES = (CODING, "thanks", "account", "career")
# Longest a thank-you runs: a longer message is probably a question too.
THANKS_MAX_WORDS = 60
# Where a thank-you says so: the subject and the opening, not a "Thank you," sign-off.
OPENING_CHARS = 120

_THANKS = Phrases.of(
    "thanks, thank, thx, appreciate, appreciated, grateful, helpful, that helps, perfect, "
    "makes sense, got it"
)
_ACCOUNT = Phrases.of(
    "invoice, invoices, invoiced, subscription, subscription renewal, renew our, renew my, "
    "auto-renew*, receipt, refund, your fee, "
    "your fees, our account, my account, your bill, the bill you sent, billing statement, "
    "credit card, purchase order, w-9, w9, pricing, price list"
)
_CAREER = Phrases.of(
    "career, careers, job, jobs, hiring, resume, cv, interview, salary, cpc exam, ccs exam, "
    "certification exam, certified coder, become a coder, internship, apprentice, aapc exam, "
    "my cpc, the ccs, the cic, the cpc, credential, credentials, worth it, hire, ceu, ceus, "
    "cpc-a, cpc renewal, aapc, ahima, cpma, ccs-p, crc, certification, certifications, "
    "webinar, webinars, remote coder*, coding job*"
)
# What says that our answer worked.
_SETTLED = Phrases.of(
    "fixed it, that fixed, it worked, that worked, worked out, was approved, were approved, "
    "got paid, went through, resolved, was paid, were paid, all set"
)
# A question being asked, even without a question mark ("what" alone is not one: "that's
# exactly what we needed").
_ASKS = Phrases.of(
    "how, which, what is, what's, what are, what do, what does, what should, what would, "
    "what about, what code, what codes, can we, can i, should we, should i, do we, do i, "
    "is it, are we, could you, please advise, please confirm, wondering"
)


def find_purpose(text: str, codes_named: bool, wording: Wording | None = None) -> str:
    """``coding`` unless the message is a thank-you that asks nothing (codes it mentions
    were the subject of our answer), or, naming no code or modifier, a question about our
    own invoice or account or a career question. ``text`` is the subject, a line break,
    then the body."""
    wording = wording or Wording.of(text)
    # Naming codes, the thanks must be the subject ("Thanks!!"), or the message must say the
    # answer worked ("the 64484 explanation fixed it, the appeal was approved. Thank you!!"):
    # "Thank you for looking into this last time; the op report is attached" under "GA vs 59
    # for 97140" is a question.
    if codes_named:
        opening = text if _SETTLED.found_in(wording) else text.split("\n", 1)[0]
    else:
        opening = text[:OPENING_CHARS]
    if (
        _THANKS.found_in(Wording.of(opening))  # the point, not the sign-off
        and "?" not in text
        and not _ASKS.found_in(wording)
        and len(wording.joined.split()) <= THANKS_MAX_WORDS
    ):
        return "thanks"
    if codes_named:
        return CODING
    if _ACCOUNT.found_in(wording):
        return "account"
    if _CAREER.found_in(wording):
        return "career"
    return CODING
