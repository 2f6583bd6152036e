"""Correcting a misspelt search word to the closest word of the code data searched.

Only a word found nowhere is corrected, so a search that matches as typed is
answered as typed. The candidates are the words of the releases searched
that share the most three-letter pieces with it (FTS5's ``trigram``
tokenizer, PostgreSQL's ``pg_trgm``); of those, the one fewest edits away
wins, a vowel for a vowel counting half an edit ("diabetis" is "diabetes"
before "diabetic"), then the most alike by trigrams, then the most common.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from consultant.codes.readonly import Reader
from consultant.codes.search_scope import Scope
from consultant.codes.search_words import Backend, backend_for

MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
CANDIDATES = 40
VOWELS = frozenset("aeiouy")


def allowed_edits(word: str) -> int:
    """How far a correction may be from ``word``: one edit in five letters, more in longer."""
    return 1 if len(word) <= 5 else 2 if len(word) <= 9 else 3


def edits(typed: str, known: str) -> float:
    """Edits from ``typed`` to ``known``: insertions, deletions, substitutions and swaps of
    neighbours count one, a vowel for a vowel half (optimal string alignment)."""
    rows = [[float(j) for j in range(len(known) + 1)]]
    for i, a in enumerate(typed, start=1):
        row = [float(i)]
        for j, b in enumerate(known, start=1):
            change = 0.0 if a == b else 0.5 if a in VOWELS and b in VOWELS else 1.0
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + change)
            if i > 1 and j > 1 and a == known[j - 2] and typed[i - 2] == b and a != b:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def trigrams(word: str) -> set[str]:
    """Three-letter pieces as pg_trgm cuts them: two spaces before, one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    ours, theirs = trigrams(a), trigrams(b)
    return len(ours & theirs) / len(ours | theirs)


def closest(word: str, candidates: Sequence[tuple[str, int]]) -> str | None:
    """The candidate (word, entries using it) to read ``word`` as, if one is near enough."""
    entries: dict[str, int] = {}
    for candidate, count in candidates:
        entries[candidate] = entries.get(candidate, 0) + int(count)
    ranked = sorted(
        (edits(word, candidate), -similarity(word, candidate), -count, candidate)
        for candidate, count in entries.items()
    )
    if ranked and ranked[0][0] <= allowed_edits(word):
        return ranked[0][3]
    return None


def plain(word: str) -> str:
    """``word`` without accents, as the vocabulary keeps its words."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def correct(reader: Reader, scope: Scope, words: Sequence[str]) -> list[str]:
    """``words`` with each one found nowhere in ``scope`` replaced by its closest spelling
    in the data, where there is one."""
    if not scope.kinds:
        return list(words)  # no code data to correct to
    backend: Backend = backend_for(reader, scope)
    corrected = []
    for word in words:
        if len(word) < MIN_LENGTH or not word.isalpha() or backend.exists(word):
            corrected.append(word)
            continue
        candidates = backend.similar(plain(word), CANDIDATES)
        corrected.append(closest(plain(word), candidates) or word)
    return corrected
