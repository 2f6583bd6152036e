"""Public case references such as ``CC-000123``: what a requester quotes back to us."""

from __future__ import annotations


def format_reference(prefix: str, case_id: int) -> str:
    """The reference of case ``case_id``: the prefix, a dash, six or more digits."""
    return f"{prefix}-{case_id:06d}"
