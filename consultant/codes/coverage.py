"""Medicare coverage of a procedure or supply code, as of a date of service, where the
patient is: the articles and LCDs that list it and what they say of the diagnoses given.

For each article version in force on the date (its own effective and end
dates) whose contractor covers the jurisdiction asked for (a state, or one or
more MACs by number; every jurisdiction when none is given), each diagnosis
is covered (in a group, with the group's paragraph), listed as not covered,
or not listed. "Not listed" is only that: an article that does not list a
diagnosis says nothing of it, and neither may a reply. The modifiers the
article lists, and the LCDs linked to it with their utilization and
documentation text, come with it. NCDs are national: the ones whose title
matches the code's description, or whose manual section the question names.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from consultant.codes.cms_edits import CmsEditLookups
from consultant.codes.coverage_tables import (
    COVERED,
    HCPC,
    MODIFIER,
    NONCOVERED,
    mcd_code_table,
)
from consultant.codes.importing import date_to_int, int_to_date
from consultant.codes.refs import ReleaseRef, as_dict

ARTICLE_KIND = "mcd-article"
LCD_KIND = "mcd-lcd"
NCD_KIND = "ncd"
MCD_ADDRESS = "https://www.cms.gov/medicare-coverage-database/view/{kind}.aspx?{kind}id={id}"
IN_FORCE = "(d.effective IS NULL OR d.effective <= ?) AND (d.ending IS NULL OR d.ending >= ?)"
# The codes are in the release's own table ({codes}: ``coverage_tables.mcd_code_table``).
_LISTING = (
    "SELECT DISTINCT c.document_id, c.version, d.display_id, d.title, d.status, d.effective, "
    "d.ending FROM {codes} c JOIN mcd_document d ON d.release_id = ? "
    "AND d.document_id = c.document_id AND d.version = c.version "
    f"WHERE c.code = ? AND c.list = 'hcpc' AND {IN_FORCE} ORDER BY d.display_id"
)
_LISTED_ANY_TIME = (
    "SELECT DISTINCT d.display_id, d.version, d.effective, d.ending FROM {codes} c "
    "JOIN mcd_document d ON d.release_id = ? AND d.document_id = c.document_id "
    "AND d.version = c.version WHERE c.code = ? AND c.list = 'hcpc'"
)
_CONTRACTORS = (
    "SELECT DISTINCT c.contractor_id, c.type_id, c.name, c.number, c.type_name "
    "FROM mcd_document_contractor x JOIN mcd_contractor c ON c.release_id = x.release_id "
    "AND c.contractor_id = x.contractor_id AND c.type_id = x.type_id "
    "AND c.version = x.contractor_version "
    "WHERE x.release_id = ? AND x.document_id = ? AND x.version = ?"
)
_STATES = (
    "SELECT DISTINCT state FROM mcd_jurisdiction WHERE release_id = ? AND contractor_id = ? "
    "AND type_id = ? AND (active IS NULL OR active <= ?) AND (term IS NULL OR term >= ?) "
    "ORDER BY state"
)
_ARTICLE_CODES = (
    "SELECT list, group_no, code FROM {codes} WHERE document_id = ? "
    "AND version = ? AND (list = 'hcpc' OR list = 'modifier' OR code IN ({marks}))"
)
_COVERED_AMONG = (
    "SELECT code FROM {codes} WHERE document_id = ? AND version = ? AND list = 'covered' "
    "AND code IN ({marks})"
)
_GROUPS = (
    "SELECT list, group_no, paragraph FROM mcd_group WHERE release_id = ? AND document_id = ? "
    "AND version = ?"
)
_LINKED_LCDS = (
    "SELECT DISTINCT lcd_id FROM mcd_link WHERE release_id = ? AND document_id = ? "
    "AND version = ? AND lcd_id IS NOT NULL"
)
_LCD = (
    "SELECT d.document_id, d.version, d.display_id, d.title, d.effective, d.ending, d.texts "
    f"FROM mcd_document d WHERE d.release_id = ? AND d.document_id = ? AND {IN_FORCE}"
)
_NCDS = (
    "SELECT ncd_id, version, section, title, effective, ending, indications FROM ncd_document "
    "WHERE release_id = ? AND (effective IS NULL OR effective <= ?) "
    "AND (ending IS NULL OR ending >= ?)"
)
_CONTRACTOR_BY_NUMBER = "SELECT DISTINCT number, name FROM mcd_contractor WHERE release_id = ?"
_ICD = re.compile(r"\b[A-TV-Z][0-9][0-9AB](?:\.?[0-9A-TV-Z]{1,4})?\b")
_TOGETHER = re.compile(
    r"(?i)\b(?:secondary|in addition to|along with|together with|report(?:ed)? with)\b"
)
_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset({"with", "without", "tests", "test", "services", "service", "other", "each"})


def dotted(code: str) -> str:
    """An ICD-10-CM code with its dot, however it was written."""
    code = code.replace(".", "").upper()
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


@dataclass(frozen=True)
class Jurisdiction:
    """Where coverage is asked for: a state, or MACs by contractor number; neither means all."""

    state: str | None = None
    macs: tuple[str, ...] = ()
    source: str = ""  # "question", "requester", "asked" (CLI, API), or "" when none is known

    @property
    def known(self) -> bool:
        return bool(self.state or self.macs)

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "macs": list(self.macs), "source": self.source or None}


@dataclass
class DiagnosisCoverage:
    code: str
    status: str  # "covered", "noncovered" or "not_listed"
    groups: list[dict[str, Any]] = field(default_factory=list)  # {"group", "paragraph"}
    with_codes: list[str] = field(default_factory=list)  # what a group's paragraph pairs it with
    other_groups: list[int] = field(default_factory=list)  # covered for the article's other codes


@dataclass
class ArticleCoverage:
    display_id: str
    document_id: int
    version: int
    title: str
    status: str
    effective: str | None
    ending: str | None
    url: str
    contractors: list[dict[str, Any]]
    code_groups: list[dict[str, Any]]
    diagnoses: list[DiagnosisCoverage]
    modifiers: list[dict[str, Any]]  # {"group", "modifiers", "paragraph"}
    lcds: list[dict[str, Any]]

    def cite(self) -> str:
        """``Article A90001 v2 (Example Medicare Services J-X Part B)``."""
        names = ", ".join(c["name"] for c in self.contractors)
        return f"Article {self.display_id} v{self.version}" + (f" ({names})" if names else "")


@dataclass
class CoverageResult:
    code: str
    diagnoses: list[str]
    on: str
    jurisdiction: dict[str, Any]
    release: dict[str, Any] | None
    lcd_release: dict[str, Any] | None = None
    ncd_release: dict[str, Any] | None = None
    articles: list[ArticleCoverage] = field(default_factory=list)
    # Articles listing the code whose contractors serve elsewhere than the jurisdiction asked.
    elsewhere: list[str] = field(default_factory=list)
    # Versions that list the code but are not in force on the date (the export's history).
    other_versions: list[str] = field(default_factory=list)
    ncds: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: int | None) -> str | None:
    day = int_to_date(value)
    return day.isoformat() if day else None


class CoverageLookups:
    """Coverage answers from the loaded Medicare Coverage Database exports."""

    def __init__(self, lookups: CmsEditLookups) -> None:
        self.lookups = lookups
        self.reader = lookups.reader

    def macs(self, on: date | None = None) -> dict[str, str]:
        """Every contractor of the export in force: number → name."""
        release = self.lookups.in_force(ARTICLE_KIND, on or date.today())
        if release is None:
            return {}
        return dict(self.reader.rows(_CONTRACTOR_BY_NUMBER, (release.id,)))  # type: ignore[arg-type]

    def coverage(
        self,
        code: str,
        diagnoses: list[str] | tuple[str, ...] = (),
        on: date | None = None,
        jurisdiction: Jurisdiction | None = None,
        description: str | None = None,
        ncd_sections: tuple[str, ...] = (),
    ) -> CoverageResult:
        """What the articles in force on ``on`` say of ``code`` with ``diagnoses``."""
        on = on or date.today()
        jurisdiction = jurisdiction or Jurisdiction()
        code = code.upper()
        wanted = [dotted(d) for d in diagnoses]
        release = self.lookups.in_force(ARTICLE_KIND, on)
        result = CoverageResult(
            code, wanted, on.isoformat(), jurisdiction.describe(), _described(release)
        )
        result.ncd_release, result.ncds = self._ncds(on, description, ncd_sections)
        if release is None:
            result.message = f"no Medicare Coverage Database articles are loaded for {on}"
            return result
        day = date_to_int(on)
        lcd_release = self.lookups.in_force(LCD_KIND, on)
        result.lcd_release = _described(lcd_release)
        codes = mcd_code_table(release.id).name
        listed = self.reader.rows(_LISTING.format(codes=codes), (release.id, code, day, day))
        for document_id, version, display_id, title, status, effective, ending in listed:
            contractors = self._contractors(release, document_id, version, day)
            if not _serves(contractors, jurisdiction):
                result.elsewhere.append(f"{display_id} v{version}")
                continue
            rows = self._article_rows(release, document_id, version, wanted)
            groups = self._groups(release, document_id, version)
            diagnoses = _diagnoses(rows, groups, code, wanted)
            self._narrow_pairings(release, document_id, version, diagnoses)
            result.articles.append(
                ArticleCoverage(
                    display_id,
                    document_id,
                    version,
                    title,
                    status,
                    _iso(effective),
                    _iso(ending),
                    MCD_ADDRESS.format(kind="article", id=document_id),
                    contractors,
                    _code_groups(rows, groups, code),
                    diagnoses,
                    _modifiers(rows, groups),
                    self._lcds(release, lcd_release, document_id, version, day),
                )
            )
        in_force = {f"{a.display_id} v{a.version}" for a in result.articles} | set(result.elsewhere)
        result.other_versions = sorted(
            f"{display_id} v{version} ({_iso(effective) or '?'} to {_iso(ending) or 'now'})"
            for display_id, version, effective, ending in self.reader.rows(
                _LISTED_ANY_TIME.format(codes=codes), (release.id, code)
            )
            if f"{display_id} v{version}" not in in_force
        )
        return result

    def _contractors(
        self, release: ReleaseRef, document_id: int, version: int, day: int
    ) -> list[dict[str, Any]]:
        found = []
        for contractor_id, type_id, name, number, type_name in self.reader.rows(
            _CONTRACTORS, (release.id, document_id, version)
        ):
            states = [
                s
                for (s,) in self.reader.rows(
                    _STATES, (release.id, contractor_id, type_id, day, day)
                )
            ]
            found.append({"name": name, "number": number, "type": type_name, "states": states})
        return found

    def _article_rows(
        self, release: ReleaseRef, document_id: int, version: int, diagnoses: list[str]
    ) -> list[tuple[str, int, str]]:
        forms = [form for d in diagnoses for form in (d, d.replace(".", ""))]
        marks = ", ".join("?" for _ in forms) or "NULL"
        sql = _ARTICLE_CODES.format(codes=mcd_code_table(release.id).name, marks=marks)
        rows = self.reader.rows(sql, (document_id, version, *forms))
        return [
            (kind, group, dotted(c) if kind in (COVERED, NONCOVERED) else c)
            for kind, group, c in rows
        ]

    def _narrow_pairings(
        self, release: ReleaseRef, document_id: int, version: int, diagnoses: list[Any]
    ) -> None:
        """Keep, of the codes a group's paragraph pairs a diagnosis with, those the article
        itself lists as covered (a paragraph also names HCPCS codes, drugs, and words that
        look like codes)."""
        named = sorted({c for d in diagnoses for c in d.with_codes})
        if not named:
            return
        forms = [form for c in named for form in (c, c.replace(".", ""))]
        sql = _COVERED_AMONG.format(
            codes=mcd_code_table(release.id).name, marks=", ".join("?" for _ in forms)
        )
        covered = {dotted(c) for (c,) in self.reader.rows(sql, (document_id, version, *forms))}
        for diagnosis in diagnoses:
            diagnosis.with_codes = [c for c in diagnosis.with_codes if c in covered]

    def _groups(
        self, release: ReleaseRef, document_id: int, version: int
    ) -> dict[tuple[str, int], str]:
        return {
            (kind, group): paragraph
            for kind, group, paragraph in self.reader.rows(
                _GROUPS, (release.id, document_id, version)
            )
        }

    def _lcds(
        self,
        release: ReleaseRef,
        lcd_release: ReleaseRef | None,
        document_id: int,
        version: int,
        day: int,
    ) -> list[dict[str, Any]]:
        linked = [
            lcd for (lcd,) in self.reader.rows(_LINKED_LCDS, (release.id, document_id, version))
        ]
        if lcd_release is None:
            return [
                {"id": f"L{lcd}", "url": MCD_ADDRESS.format(kind="lcd", id=lcd)} for lcd in linked
            ]
        found = []
        for lcd in linked:
            for (
                lcd_id,
                lcd_version,
                display_id,
                title,
                effective,
                ending,
                texts,
            ) in self.reader.rows(_LCD, (lcd_release.id, lcd, day, day)):
                texts = as_dict(texts)
                found.append(
                    {
                        "id": display_id,
                        "version": lcd_version,
                        "title": title,
                        "effective": _iso(effective),
                        "ending": _iso(ending),
                        "url": MCD_ADDRESS.format(kind="lcd", id=lcd_id),
                        "utilization": texts.get("utilization", ""),
                        "documentation": texts.get("documentation", ""),
                    }
                )
        return found

    def _ncds(
        self, on: date, description: str | None, sections: tuple[str, ...]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        release = self.lookups.in_force(NCD_KIND, on)
        if release is None or not (description or sections):
            return _described(release), []
        day = date_to_int(on)
        words = _words(description or "")
        found = []
        for ncd_id, version, section, title, effective, ending, indications in self.reader.rows(
            _NCDS, (release.id, day, day)
        ):
            named = any(section == s or section.startswith(f"{s}-") for s in sections)
            title_words = _words(re.sub(r"\([^)]*\)", "", title))
            matched = title_words and len(title_words & words) / len(title_words) >= 0.6
            if named or matched:
                found.append(
                    {
                        "section": section,
                        "title": title,
                        "version": version,
                        "effective": _iso(effective),
                        "ending": _iso(ending),
                        "indications": indications,
                        "url": MCD_ADDRESS.format(kind="ncd", id=ncd_id) + f"&ncdver={version}",
                        "matched_by": "section" if named else "title",
                    }
                )
        return release.describe(), found


def _described(release: ReleaseRef | None) -> dict[str, Any] | None:
    return release.describe() if release else None


def _words(text: str) -> set[str]:
    """The significant words of a title or description, singular."""
    return {w.removesuffix("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


def _serves(contractors: list[dict[str, Any]], jurisdiction: Jurisdiction) -> bool:
    """Whether a document of ``contractors`` applies where the question is: a MAC named, or
    a contractor of the state (a sender's Part B MAC named, their DME MAC found by state)."""
    if not jurisdiction.known:
        return True
    return any(
        c["number"] in jurisdiction.macs or jurisdiction.state in c["states"] for c in contractors
    )


def _code_groups(
    rows: list[tuple[str, int, str]], groups: dict[tuple[str, int], str], code: str
) -> list[dict[str, Any]]:
    numbers = sorted({g for kind, g, c in rows if kind == HCPC and c == code})
    return [{"group": g, "paragraph": groups.get((HCPC, g), "")} for g in numbers]


def _diagnoses(
    rows: list[tuple[str, int, str]],
    groups: dict[tuple[str, int], str],
    code: str,
    wanted: list[str],
) -> list[DiagnosisCoverage]:
    """Each diagnosis asked about: covered for the code's groups, not covered, or not listed.

    Where an article has more than one group of procedure codes, a covered
    diagnosis group supports the procedure group of the same number (with one
    group of procedure codes, every covered group applies to it); a non-covered
    list applies to the whole article. A covered group whose paragraph asks for
    another diagnosis beside ("report with Z12.11 as the secondary diagnosis")
    names the codes it may be (``with_codes``, narrowed later to the article's own
    covered codes).
    """
    code_groups = {g for kind, g, c in rows if kind == HCPC and c == code}
    several = len({g for kind, g, _ in rows if kind == HCPC}) > 1
    answers = []
    for diagnosis in wanted:
        covered = sorted({g for k, g, c in rows if k == COVERED and c == diagnosis})
        mine = [g for g in covered if not several or g in code_groups]
        noncovered = sorted({g for k, g, c in rows if k == NONCOVERED and c == diagnosis})
        status = COVERED if mine else NONCOVERED if noncovered else "not_listed"
        kind, numbers = (COVERED, mine) if status == COVERED else (NONCOVERED, noncovered)
        listed = [{"group": g, "paragraph": groups.get((kind, g), "")} for g in numbers]
        together = sorted(
            {
                dotted(other)
                for item in listed
                if status == COVERED and _TOGETHER.search(item["paragraph"])
                for other in _ICD.findall(item["paragraph"])
                if dotted(other) != diagnosis
            }
        )
        other_groups = [g for g in covered if g not in mine]
        answers.append(DiagnosisCoverage(diagnosis, status, listed, together, other_groups))
    return answers


def _modifiers(
    rows: list[tuple[str, int, str]], groups: dict[tuple[str, int], str]
) -> list[dict[str, Any]]:
    by_group: dict[int, list[str]] = {}
    for kind, group, modifier in rows:
        if kind == MODIFIER:
            by_group.setdefault(group, []).append(modifier)
    return [
        {"group": g, "modifiers": sorted(m), "paragraph": groups.get((MODIFIER, g), "")}
        for g, m in sorted(by_group.items())
    ]
