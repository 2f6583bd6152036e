"""What analysis finds in a question: one typed structure, turned into JSON for the CLI.

Analysis reads text only (no mail, web, Celery or database): whether an
ambiguous code exists in the loaded data is asked through a predicate the
caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Does (system, code) exist in the loaded code data? Used only to settle ambiguous shapes,
# and to tell an add-on code. ``system`` is a ``codes.systems.System`` value ("CPT", "HCPCS",
# "ICD-10-CM", "ICD-10-PCS"), "modifier" (``analysis.modifiers.MODIFIER_SYSTEM``) for a HCPCS
# Level II modifier that is not in the analysis's built-in list, or "add-on"
# (``analysis.topics.ADDON_SYSTEM``): is the code an add-on in the loaded add-on edits?
Known = Callable[[str, str], bool]

TOPICS = (
    "ncci",
    "modifier",
    "mue",
    "global",
    "addon",
    "em",
    "diagnosis",
    "coverage",
    "payment",
    "crosswalk",
    "code_selection",
)


@dataclass(frozen=True)
class FoundCode:
    """A code named in the question, normalised, with what the text attaches to it."""

    system: str  # "CPT", "HCPCS", "ICD-10-CM", "ICD-10-PCS"
    code: str
    modifiers: tuple[str, ...] = ()  # modifiers the text ties to this code (99213-25)
    units: int | None = None  # units the text ties to this code (4 units of J1885)


@dataclass(frozen=True)
class Units:
    count: int
    code: str | None  # the code the units belong to, when the text says
    text: str  # the words that said it, e.g. "x 3", "4 units"


@dataclass(frozen=True)
class Setting:
    place: str | None = None  # "facility" or "office" (the non-facility rate)
    # "medicare", "medicare_advantage", "medicaid", "tricare" or "commercial"
    payer: str | None = None
    pos: int | None = None  # the place-of-service code, when the text gives one
    payer_name: str | None = None  # a commercial payer by name ("Aetna"), when one is named
    state: str | None = None  # the state named ("in Florida", "FL Medicare"), two letters
    mac: str | None = None  # a Medicare contractor as named ("Novitas", "MAC 99101", "JH")
    # Words that may name a city, county or payment locality ("in Miami"): the code data
    # decides which, if any, do; the others are ignored. Never stored (``as_json`` leaves
    # them out): they may be where a patient lives, or a patient's name.
    places: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """A date of service, what happened on it (procedure, visit or unsaid), and its codes."""

    on: date
    role: str | None
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    codes: tuple[FoundCode, ...] = ()
    modifiers: tuple[str, ...] = ()
    units: tuple[Units, ...] = ()
    dates_of_service: tuple[date, ...] = ()
    lines: tuple[Line, ...] = ()
    setting: Setting = field(default_factory=Setting)
    topics: tuple[str, ...] = ()
    phi_kinds: tuple[str, ...] = ()
    purpose: str = "coding"  # or "thanks", "account", "career" (``purpose``): no code analysis

    @property
    def is_coding(self) -> bool:
        return self.purpose == "coding"

    @property
    def phi_found(self) -> bool:
        return bool(self.phi_kinds)

    def codes_of(self, system: str) -> list[str]:
        return [c.code for c in self.codes if c.system == system]

    def date_of(self, code: str) -> date | None:
        """The date of service of the line that names ``code``, if the text ties one to it."""
        return next((line.on for line in self.lines if code in line.codes), None)

    def dates_with(self, role: str) -> list[date]:
        return [line.on for line in self.lines if line.role == role]

    def as_json(self) -> dict[str, Any]:
        """The shape `consultant analyze --json` prints (facts are added by the caller)."""
        return {
            "codes": [
                {
                    "system": c.system,
                    "code": c.code,
                    "modifiers": list(c.modifiers),
                    "units": c.units,
                }
                for c in self.codes
            ],
            "modifiers": list(self.modifiers),
            "topics": list(self.topics),
            "units": [{"count": u.count, "code": u.code, "text": u.text} for u in self.units],
            "dates_of_service": [d.isoformat() for d in self.dates_of_service],
            "lines": [
                {"on": line.on.isoformat(), "role": line.role, "codes": list(line.codes)}
                for line in self.lines
            ],
            "setting": {
                "place": self.setting.place,
                "payer": self.setting.payer,
                "pos": self.setting.pos,
                "payer_name": self.setting.payer_name,
                "state": self.setting.state,
                "mac": self.setting.mac,
            },
            "phi": {"found": self.phi_found, "kinds": list(self.phi_kinds)},
            "purpose": self.purpose,
        }
