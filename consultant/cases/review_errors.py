"""What a review action can refuse, with the reason a reviewer reads.

Apart from ``review`` so that the claim and diff modules can raise them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class ReviewError(Exception):
    """Raised when a review action cannot be done; the message says why, for the reviewer."""


class CaseNotFound(ReviewError):
    """Raised when no case has the given reference."""


def clock(moment: datetime) -> str:
    """A time as reviewers read it on the page and in the CLI."""
    return moment.strftime("%H:%M UTC")


class ClaimedByOther(ReviewError):
    """Raised when another reviewer holds the case; only an explicit take-over gets past it."""

    def __init__(self, reference: str, holder: str, since: datetime) -> None:
        self.reference, self.holder, self.since = reference, holder, since
        super().__init__(
            f"{reference} is claimed by {holder} since {clock(since)}; "
            "take it over to work on it (the take-over is recorded)"
        )


@dataclass(frozen=True)
class Version:
    """One draft version as a conflict shows it."""

    number: int
    text: str
    author: str
    at: datetime


class DraftConflict(ReviewError):
    """Raised when a save or an approval was based on a version that is no longer current.

    Carries what the reviewer needs to decide: the version they worked on, the
    current one (who wrote it, when), and their own text when they sent one.
    Nothing was saved and nothing was sent.
    """

    def __init__(
        self, reference: str, action: str, base: Version, current: Version, yours: str | None
    ) -> None:
        self.reference, self.action = reference, action
        self.base, self.current, self.yours = base, current, yours
        doing = "approve" if action == "approve" else "save"
        super().__init__(
            f"{reference}: you were looking at draft v{base.number}, but v{current.number} "
            f"was saved by {current.author} at {clock(current.at)}; nothing was "
            f"{'sent' if doing == 'approve' else 'saved'}. Compare the changes, then merge "
            "or reload."
        )
