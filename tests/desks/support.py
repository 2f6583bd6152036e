"""A deployment with three desks: the main one, billing (an address) and surgery (a folder)."""

from __future__ import annotations

from pathlib import Path

BILLING = "billing-consult@caseconsultant.example"
SURGERY = "surgery-consult@caseconsultant.example"
BILLING_TEAM = "ana@example.com"
SURGERY_TEAM = "sam@example.com"

DESKS = f"""
[desks.billing]
address = "{BILLING}"
display_name = "Billing Consult Desk"
team = ["{BILLING_TEAM}"]

[desks.surgery]
address = "{SURGERY}"
display_name = "Surgery Coding Desk, Team Süd"
folder = "Surgery"
team = ["{SURGERY_TEAM}"]
"""


def desks_file(directory: Path, text: str = DESKS) -> Path:
    path = directory / "desks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def addressed_to(raw: bytes, address: str) -> bytes:
    """``raw`` with its To header naming ``address`` instead of the main consult address."""
    head, _, body = raw.partition(b"\n\n")
    lines = [
        f"To: {address}".encode() if line.lower().startswith(b"to:") else line
        for line in head.split(b"\n")
    ]
    return b"\n".join(lines) + b"\n\n" + body
