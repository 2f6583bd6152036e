"""Comparing and merging draft versions: a side-by-side diff, a unified diff for the CLI and
the API, and a three-way merge.

The diff is line by line (difflib) with the changed words of a changed line
marked, as reviewers compare replies a sentence at a time. The merge (merge3,
as version control does it) combines two experts' edits of the same base; where
both changed the same lines it keeps both with markers the expert resolves.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from merge3 import Merge3

# Pieces of a line: (text, changed) pairs, so a template marks changed words without markup.
Pieces = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Row:
    """One row of a side-by-side diff; a side is None where the line does not exist there."""

    kind: str  # "same", "changed", "removed" (left only), "added" (right only)
    left_number: int | None
    left: Pieces | None
    right_number: int | None
    right: Pieces | None


def _words(line: str) -> list[str]:
    """A line cut into words and the spaces between them, so joining them gives it back."""
    pieces: list[str] = []
    for word in line.split(" "):
        if pieces:
            pieces.append(" ")
        pieces.append(word)
    return pieces


def _marked(left: str, right: str) -> tuple[Pieces, Pieces]:
    a, b = _words(left), _words(right)
    left_pieces: list[tuple[str, bool]] = []
    right_pieces: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            left_pieces.append(("".join(a[i1:i2]), not same))
        if j2 > j1:
            right_pieces.append(("".join(b[j1:j2]), not same))
    return tuple(left_pieces), tuple(right_pieces)


def side_by_side(left: str, right: str) -> list[Row]:
    """The rows of a side-by-side comparison of two texts."""
    a, b = left.splitlines(), right.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                Row("same", i + 1, ((a[i], False),), j + 1, ((b[j], False),))
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            left_pieces, right_pieces = _marked(a[i1 + k], b[j1 + k])
            rows.append(Row("changed", i1 + k + 1, left_pieces, j1 + k + 1, right_pieces))
        rows.extend(
            Row("removed", i + 1, ((a[i], True),), None, None) for i in range(i1 + paired, i2)
        )
        rows.extend(
            Row("added", None, None, j + 1, ((b[j], True),)) for j in range(j1 + paired, j2)
        )
    return rows


def changed(rows: list[Row]) -> bool:
    return any(row.kind != "same" for row in rows)


@dataclass(frozen=True)
class Merged:
    text: str
    clean: bool  # False: both changed the same lines; the text holds both, between markers


def unresolved(text: str) -> bool:
    """True while a merge's conflict markers are still in the text."""
    return any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in text.splitlines())


def merge(base: str, mine: str, theirs: str, theirs_label: str) -> Merged:
    """Three-way merge of ``mine`` and ``theirs``, both edited from ``base``."""
    lines = Merge3(
        base.splitlines(keepends=True),
        mine.splitlines(keepends=True),
        theirs.splitlines(keepends=True),
    ).merge_lines(
        name_a="yours",
        name_b=theirs_label,
        start_marker="<<<<<<<",
        mid_marker="=======",
        end_marker=">>>>>>>",
    )
    text = "".join(lines)
    return Merged(text, clean=not unresolved(text))


def unified_diff(before: str, after: str, before_label: str, after_label: str) -> str:
    """``before`` -> ``after`` as a unified diff (empty when they are the same)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), before_label, after_label
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
