"""A question's words, for checking many words and phrases at once, fast.

Topics and setting each look for a hundred-odd words and phrases. As regular
expressions, every one of them is tried at every position of the text; at a
thousand messages in a couple of seconds that cost more than all the rest of
the analysis. Here the text is split into words once; a rule's single words
are then a set lookup, and its phrases a substring test on the words joined by
single spaces (so "same  day," and "Same\\nday" read as "same day"), both done
in C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word: letters and digits, with inner hyphens, slashes and the like kept ("e/m", "add-on",
# "post-op", "99213-25", "n39.0"), trailing punctuation dropped.
_WORD = re.compile(r"[^\W_](?:[\w'&/+.-]*[^\W_])?")


def lower_keeping_offsets(text: str) -> str:
    """``text`` in lower case with every character where it was.

    ``str.lower`` lengthens a few characters (the Turkish dotted I); positions found in
    the lower-cased text must be positions in the original.
    """
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@dataclass(frozen=True)
class Wording:
    """The words of a text: lower-cased, as a set, and joined by single spaces."""

    words: frozenset[str]
    joined: str  # " word word ... word "
    capitals: frozenset[str]  # the words written in capitals, as written ("ASC", "OR")

    @classmethod
    def of(cls, text: str) -> Wording:
        written = _WORD.findall(text)
        lowered = [word.lower() for word in written]
        return cls(
            words=frozenset(lowered),
            joined=f" {' '.join(lowered)} ",
            capitals=frozenset(word for word in written if word.isupper()),
        )


@dataclass(frozen=True)
class Phrases:
    """Words and phrases to look for; one ending in "*" is a stem ("bundl*": bundled, bundling)."""

    words: frozenset[str]
    # (first word, " the phrase ") for phrases; ("", " stem") for stems, which have no word.
    pieces: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, listed: str) -> Phrases:
        """From a comma-separated list, in lower case: "ncci, same day, bundl*"."""
        phrases = [phrase.strip() for phrase in listed.split(",")]
        return cls(
            words=frozenset(p for p in phrases if " " not in p and not p.endswith("*")),
            pieces=tuple(
                ("", f" {p[:-1]}") if p.endswith("*") else (p.split()[0], f" {p} ")
                for p in phrases
                if " " in p or p.endswith("*")
            ),
        )

    def _present(self, wording: Wording) -> list[str]:
        # A phrase can only be there if its first word is: a set lookup before the substring test.
        return [
            piece
            for first, piece in self.pieces
            if (not first or first in wording.words) and piece in wording.joined
        ]

    def found_in(self, wording: Wording) -> bool:
        return not self.words.isdisjoint(wording.words) or bool(self._present(wording))

    def first_in(self, wording: Wording) -> int | None:
        """Where in ``wording.joined`` the first of the phrases stands, if any does."""
        places = [wording.joined.find(piece) for piece in self._present(wording)]
        places += [wording.joined.find(f" {w} ") for w in self.words & wording.words]
        return min(places) if places else None
