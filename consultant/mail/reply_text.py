"""The part of an email body its sender wrote now: quoted earlier messages and signature removed.

Analysis must read the coder's new question only. A quoted earlier answer names codes nobody
asked about now, and a signature is full of phone numbers, zip codes and NPIs that look like
codes. Yet a dropped question is worse than a stray signature line, so when unsure, text stays.

Quoted messages: reply headers are found by mail-parser-reply's patterns ("On ... wrote:",
"Am ... schrieb", "Le ... a écrit", Outlook's "From:/Sent:/To:/Subject:" block in each language,
"-----Original Message-----"). It was chosen over quotequail, whose ``quote()`` misses Outlook's
header block when no separator line precedes it and took ~590 µs a message on the 1,000-message
corpus, and over email-reply-parser (English only, unchanged since 2020). Only its header pattern
is used, compiled once: its ``read()`` rebuilds the pattern for every message, runs signature and
disclaimer patterns on top (together twice as slow) and cuts a message at any line starting with
"Thanks," or "- ", which drops a question written as a list. Own rules cover what it misses:
Spanish "El ... escribió:" (its pattern wants two spaces before the verb), French "a écrit :"
wrapped over two lines or with a no-break space, and forwarded-message separators. Text after a
header whose quote is ">"-marked is read line by line: unquoted lines there are the sender's
answers between the quoted ones (inline replies) or below them (bottom posting).

Forwarded content: a forwarded message ("---------- Forwarded message ---------", "Begin
forwarded message:") or a quoted one the new text points to ("see the denial below", "per the
email below") is part of the question (``question_text``): a coder forwards a denial to ask
about it. A quoted message from the consult address, or one that names one of our case
references ("CC-000123"), is the history of our own thread, never part of the new question.

Signatures: the "-- " delimiter, phone taglines ("Sent from my iPhone") and a sign-off line
("Thanks,", "Best regards,") followed only by a few short lines that read like a name, title,
phone or address, never by a question.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from mailparser_reply import EmailMessage

LANGUAGES = ("en", "de", "fr", "es")
SIGNATURE_MAX_LINES = 10
SIGNATURE_LINE_MAX_CHARS = 80
# Reply header lines are short, and the library's header pattern takes time quadratic in the
# length of a line that starts like one ("On ..."): longer lines are not searched.
HEADER_LINE_MAX_CHARS = 200

_LIBRARY_HEADER = EmailMessage(text="", languages=list(LANGUAGES)).HEADER_REGEX
_MISSED_HEADER = re.compile(
    r"^(?:> ?)*(?:El|Le) .*\d.*(?:\n.*)?\s(?:escribió|a\s+écrit)\s?:$"
    r"|^(?i:-{2,} ?forwarded message ?-{2,}|begin forwarded message:)$",
    re.MULTILINE,
)
_TAGLINE = re.compile(r"(?:Sent from (?:my|Mail for|Yahoo Mail)|Get Outlook for) [^?]{1,60}")
_SIGN_OFF = re.compile(
    r"(?i:(?:(?:best|kind|warm|many|with) )?(?:regards|thanks|wishes)|thanks (?:again|in advance)"
    r"|thank you(?: (?:so much|very much|in advance))?(?: for your (?:help|time))?"
    r"|best|cheers|(?:yours )?sincerely|yours truly|respectfully|cordially|all the best"
    r"|mit freundlichen grüßen|viele grüße|(?:bien )?cordialement|(?:un )?saludos?|atentamente)"
    r"[,.!]?(?: [A-Z][\w.'-]*){0,3}"
)
_RULE = re.compile(r"[_=*-]{5,}")
_FORWARD = re.compile(r"(?i:forwarded message|begin forwarded message)")
# Words by which the new text says the message below is what it asks about.
_POINTS_BELOW = re.compile(
    r"(?i:\b(?:below|underneath|forwarded|forwarding|see (?:the )?(?:attached|thread|trail)"
    r"|(?:the|this) (?:thread|trail|chain) )\b)"
)
# "Unrelated to the thread below": pointing away from it.
_POINTS_AWAY = re.compile(
    r"(?i:\b(?:unrelated to|not about|separate from|apart from|aside from|besides|other than|"
    r"different from)\s+(?:the\s+|this\s+|that\s+)?(?:\w+\s+){0,2}(?:below|thread|trail|chain)\b)"
)
_OUR_THREAD = re.compile(r"\bCC-\d{6,}\b")


@dataclass(frozen=True)
class Reading:
    """A body read once: what the sender wrote now, and the message quoted or forwarded
    under the first reply header (``separator``: that header's lines)."""

    new: str
    separator: str
    below: str

    def question(self, own_address: str | Collection[str] = "") -> str:
        """What the sender asks about: ``new``, and below it the forwarded or quoted message
        it points to, when that is not our own thread's history (a message from
        ``own_address``, one of our desks' addresses, or one that names a case reference)."""
        ours = [own_address] if isinstance(own_address, str) else list(own_address)
        below, separator = self.below, self.separator
        quoted = f"{separator} {below}".lower()
        if (
            not below
            or _OUR_THREAD.search(below)
            or any(address and address.lower() in quoted for address in ours)
        ):
            return self.new
        points = _POINTS_BELOW.search(self.new) and not _POINTS_AWAY.search(self.new)
        if _FORWARD.search(separator) or points:
            return f"{self.new}\n\n{below}"
        return self.new


def read(text: str) -> Reading:
    """``text`` read once for both ``new_text`` and ``question_text``: one header search."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    searched = (line if len(line) <= HEADER_LINE_MAX_CHARS else "" for line in lines)
    header = _reply_header("\n".join(searched))
    written = _unquoted(lines, header)
    new = _tidy(_without_signature(written)) or _tidy(written) or text.strip()
    if header is None:
        return Reading(new, "", "")
    first, last = header
    below = _tidy([line.lstrip("> ").strip() for line in lines[last + 1 :]])
    return Reading(new, " ".join(lines[first : last + 1]), below)


def new_text(text: str) -> str:
    """What the sender wrote now in ``text``; the whole ``text`` if that would leave nothing.

    Lines come back without surrounding whitespace and runs of blank lines as one.
    """
    return read(text).new


def question_text(text: str, own_address: str | Collection[str] = "") -> str:
    """``new_text`` with the forwarded or quoted message it asks about (``Reading.question``)."""
    return read(text).question(own_address)


def _unquoted(lines: list[str], header: tuple[int, int] | None) -> list[str]:
    """``lines`` without quoted earlier messages: headers, what follows them, ">" lines."""
    if header is None:
        kept = lines
    else:
        first, last = header
        kept = lines[:first]
        after = lines[last + 1 :]
        if next((line for line in after if line), "").startswith(">"):
            kept += ["", *after]
    return [line for line in kept if not line.startswith(">")]


def _reply_header(flat: str) -> tuple[int, int] | None:
    """First and last line of the first reply header in ``flat``, if there is one."""
    found = _LIBRARY_HEADER.search(flat)
    match = _MISSED_HEADER.search(flat, 0, found.start() if found else len(flat)) or found
    if match is None:
        return None
    start = match.start() + 1 if flat.startswith("\n", match.start()) else match.start()
    return flat.count("\n", 0, start), flat.count("\n", 0, match.end())


def _without_signature(lines: list[str]) -> list[str]:
    """``lines`` cut at the signature; the first line written is never taken for one."""
    lines = [line for line in lines if not _TAGLINE.fullmatch(line)]
    written = [index for index, line in enumerate(lines) if line]
    for index in range(written[0] + 1 if written else 0, len(lines)):
        line = lines[index]
        if line == "--" or (_SIGN_OFF.fullmatch(line) and _is_signature(lines[index + 1 :])):
            return lines[:index]
    return lines


def _is_signature(lines: list[str]) -> bool:
    """Whether ``lines`` read like a signature block: a few short lines, no question, no prose."""
    filled = [line for line in lines if line]
    return len(filled) <= SIGNATURE_MAX_LINES and not any(_is_prose(line) for line in filled)


def _is_prose(line: str) -> bool:
    return (
        "?" in line
        or len(line) > SIGNATURE_LINE_MAX_CHARS
        or line.lower().startswith(("p.s", "ps:", "ps "))
        or (line.endswith((".", "!")) and len(line.split()) >= 4)
    )


def _tidy(lines: list[str]) -> str:
    """``lines`` joined, blank runs made one, trailing blanks and separator rules dropped."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and (not kept[-1] or _RULE.fullmatch(kept[-1])):
        kept.pop()
    return "\n".join(kept)
