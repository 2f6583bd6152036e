"""The notes of one parse: the fallbacks it took (defects) and the bounds it reached (limits)."""

from __future__ import annotations

from dataclasses import dataclass, field


def title(name: str) -> str:
    """A header name as mail writes it in a sentence: ``reply-to`` is ``Reply-To``."""
    return "-".join(word.capitalize() for word in name.split("-"))


@dataclass
class Notes:
    """What one parse worked around (defects) and which bounds it reached (limits), in order.

    Also how many parts the MIME parser has made so far, and whether it was
    stopped early for having made too many.
    """

    defects: dict[str, None] = field(default_factory=dict)
    limits: dict[str, None] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    parts_made: int = 0
    input_cut: bool = False

    def defect(self, sentence: str) -> None:
        self.defects[sentence] = None

    def limit(self, sentence: str) -> None:
        self.limits[sentence] = None

    def header_cut(self, name: str, length: int, max_chars: int) -> None:
        self.limit(f"{title(name)} of {length:,} characters cut to {max_chars:,}")

    def header_unreadable(self, name: str) -> None:
        self.unreadable.setdefault(name.lower(), "its raw text was used")

    def explain(self, name: str, fallback: str) -> None:
        """Say what was done instead, if the stdlib could not read header ``name``."""
        if name in self.unreadable:
            self.unreadable[name] = fallback

    def all_defects(self, stdlib_defects: list[str]) -> tuple[str, ...]:
        unreadable = [f"{title(n)} header unreadable: {how}" for n, how in self.unreadable.items()]
        return tuple(dict.fromkeys([*stdlib_defects, *unreadable, *self.defects]))
