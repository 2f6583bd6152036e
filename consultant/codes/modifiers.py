"""What a modifier means and whether NCCI lets it bypass a procedure-to-procedure edit.

CPT modifier text belongs to the AMA, so CPT modifiers are described here in
our own words, one plain sentence each. HCPCS Level II modifiers are public:
their official text comes from the HCPCS release in force when one is loaded,
and our own summary stands in for the ones that matter to NCCI when none is.

The NCCI policy manual (chapter I) lists the NCCI-associated modifiers, the
ones that may allow a pair of codes otherwise bundled by an edit whose
modifier indicator is 1: anatomic modifiers, global surgery modifiers, and a
few others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from consultant.codes.refs import ReleaseRef
from consultant.codes.tables import LevelTwoModifier

OUR_SUMMARY = "our summary"


class NcciGroup(StrEnum):
    ANATOMIC = "anatomic"
    GLOBAL_SURGERY = "global surgery"
    OTHER = "other"


# Our own wording: never the AMA's descriptors.
CPT_MEANINGS = {
    "22": "The service took substantially more work than usual, and the record says why.",
    "24": "An E/M visit in a surgery's postoperative period for a problem unrelated to it.",
    "25": "An E/M service on the day of a procedure, significant and separate from the "
    "usual care that goes with that procedure.",
    "26": "Only the professional part (supervision and interpretation) of a service that "
    "also has a technical part.",
    "27": "An additional, separate outpatient hospital E/M encounter on the same date.",
    "50": "The procedure was done on both sides of the body at the same session.",
    "51": "One of several procedures done at the same session by the same clinician.",
    "52": "The service was partly reduced or cut back at the clinician's discretion.",
    "53": "The clinician stopped the procedure after starting it, usually because "
    "continuing threatened the patient's well-being.",
    "54": "The surgeon did the operation only; others gave the care before and after it.",
    "55": "The clinician gave only the care after the operation.",
    "56": "The clinician gave only the care before the operation.",
    "57": "The E/M visit at which the decision for a major operation was made.",
    "58": "A planned or staged procedure, or a more extensive one, or therapy after a "
    "diagnostic procedure, during the postoperative period of the first.",
    "59": "A procedure distinct from another on the same day (different session, site, "
    "lesion or injury); used when no more specific modifier fits.",
    "62": "Two surgeons each did a distinct part of one procedure.",
    "63": "Surgery on a newborn or infant weighing less than 4 kg, adding significant work.",
    "66": "A highly complex procedure done by a team of surgeons of several specialties.",
    "76": "The same clinician repeated the procedure or service later on the same day.",
    "77": "A different clinician repeated the procedure or service on the same day.",
    "78": "An unplanned return to the operating or procedure room for a related problem "
    "during the postoperative period.",
    "79": "A procedure unrelated to an earlier one, done by the same clinician during that "
    "procedure's postoperative period.",
    "80": "A surgeon assisting another surgeon.",
    "81": "A surgeon giving minimal assistance at an operation.",
    "82": "A surgeon assisting because no qualified resident surgeon was available.",
    "90": "The laboratory test was done by an outside laboratory, not by the billing clinician.",
    "91": "The same laboratory test was run again on the same day to get a new result for "
    "the patient's care, not to confirm a result or because of a test problem.",
    "95": "The service was given in real time over an interactive audio and video link.",
    "96": "A habilitative service: it helps the patient learn or keep skills not yet gained.",
    "97": "A rehabilitative service: it helps the patient regain skills lost to illness or injury.",
    "99": "More than one modifier applies to the service.",
}

_ORDINALS = ("second", "third", "fourth", "fifth")


def _digit_summaries(letter: str, first: str, limb: str, digit: str) -> dict[str, str]:
    """The F (fingers) or T (toes) modifiers: xA and x1-x4 on the left, x5-x9 on the right."""
    summaries = {
        f"{letter}A": f"The {first} of the left {limb}.",
        f"{letter}5": f"The {first} of the right {limb}.",
    }
    for number, ordinal in enumerate(_ORDINALS, start=1):
        summaries[f"{letter}{number}"] = f"The {ordinal} {digit} of the left {limb}."
        summaries[f"{letter}{number + 5}"] = f"The {ordinal} {digit} of the right {limb}."
    return summaries


# Our own summaries of the HCPCS modifiers NCCI names, for when no HCPCS release is loaded.
HCPCS_SUMMARIES = {
    "XE": "A distinct service because it took place at a separate encounter.",
    "XS": "A distinct service because it was done on a separate organ or structure.",
    "XP": "A distinct service because a different practitioner performed it.",
    "XU": "A distinct service because it does not overlap the usual parts of the main service.",
    "LT": "The left side of the body.",
    "RT": "The right side of the body.",
    "E1": "The upper left eyelid.",
    "E2": "The lower left eyelid.",
    "E3": "The upper right eyelid.",
    "E4": "The lower right eyelid.",
    **_digit_summaries("F", "thumb", "hand", "digit"),
    **_digit_summaries("T", "great toe", "foot", "toe"),
    "LC": "The left circumflex coronary artery.",
    "LD": "The left anterior descending coronary artery.",
    "RC": "The right coronary artery.",
    "LM": "The left main coronary artery.",
    "RI": "The ramus intermedius coronary artery.",
}

_ANATOMIC = (
    "E1 E2 E3 E4 FA F1 F2 F3 F4 F5 F6 F7 F8 F9 TA T1 T2 T3 T4 T5 T6 T7 T8 T9 LT RT LC LD RC LM RI"
)
NCCI_GROUPS: dict[str, NcciGroup] = {
    **dict.fromkeys(_ANATOMIC.split(), NcciGroup.ANATOMIC),
    **dict.fromkeys(("24", "25", "57", "58", "78", "79"), NcciGroup.GLOBAL_SURGERY),
    **dict.fromkeys(("27", "59", "91", "XE", "XS", "XP", "XU"), NcciGroup.OTHER),
}


@dataclass
class ModifierResult:
    """A modifier's meaning, where the meaning came from, and its NCCI role."""

    code: str
    meaning: str | None
    source: str | dict[str, Any] | None
    ncci_associated: bool
    ncci_group: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def modifier(code: str, session: Session, release: ReleaseRef | None) -> ModifierResult:
    """``code`` in the HCPCS ``release`` in force: its official text, else our summary."""
    code = code.strip().lstrip("-").upper()
    group = NCCI_GROUPS.get(code)
    meaning: str | None = CPT_MEANINGS.get(code) or HCPCS_SUMMARIES.get(code)
    source: str | dict[str, Any] | None = OUR_SUMMARY if meaning else None
    if release is not None:
        official = session.get(LevelTwoModifier, (release.id, code))
        if official is not None:
            meaning, source = official.long_description, release.describe()
    return ModifierResult(
        code=code,
        meaning=meaning,
        source=source,
        ncci_associated=group is not None,
        ncci_group=str(group) if group else None,
    )
