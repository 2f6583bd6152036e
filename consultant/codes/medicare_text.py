"""Medicare coverage and payment answers as lines of text, for `consultant codes coverage`,
`consultant codes fee` and the code page `consultant codes show` prints.

Every amount is labelled with the locality, the date and the releases it was
worked from, with its formula; every coverage fact is cited to its article,
version and group. A diagnosis an article does not list is "not listed", never
"not covered": the article says nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from consultant.codes.coverage import ArticleCoverage, CoverageResult
from consultant.codes.fees import SETTINGS, FeeResult, Locality
from consultant.codes.refs import release_name

SETTING_LABELS = {"non_facility": "non-facility (office)", "facility": "facility"}
FORMULA = (
    "(work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x conversion factor, "
    "rounded to the cent"
)
NATIONAL = "national (no locality: every GPCI 1.000)"


def release_label(release: dict[str, Any] | None) -> str:
    """``PFS 2027-Jan-nonQPP (PPRRVU2027_Jan_nonQPP.csv, effective 2027-01-01)``."""
    if not release:
        return "none loaded"
    return f"{release_name(release)} ({release['source']}, effective {release['effective']})"


def locality_label(locality: dict[str, Any] | None) -> str:
    """A described locality as ``Locality.label`` writes it; the national amount without one."""
    if not locality:
        return NATIONAL
    return str(locality["label"])


def locality_choice(locality: Locality) -> str:
    """``99101/04  MIAMI (FL): DADE/MONROE``: one line of a list to choose from."""
    counties = f": {locality.counties}" if locality.counties else ""
    return f"{locality.mac}/{locality.number}  {locality.name} ({locality.state}){counties}"


def money(value: str) -> str:
    """``$1,366.56``: an amount as the fee lookups give it (a string of the cents)."""
    return f"${Decimal(value):,}"


def _indented(text: str, prefix: str) -> Iterator[str]:
    for line in text.splitlines():
        if line.strip():
            yield f"{prefix}{line.strip()}"


# -- payment --------------------------------------------------------------------------------


def fee_label(result: FeeResult) -> str:
    return result.code + (f"-{result.modifier}" if result.modifier else "")


def fee_heading(result: FeeResult) -> str:
    """What the amounts below are: the code, where, when, and the releases they come from."""
    releases = [release_label(result.release)] if result.release else []
    if result.gpci_release:
        releases.append(release_label(result.gpci_release))
    source = f"; from {' and '.join(releases)}" if releases else ""
    return (
        f"Medicare physician fee schedule, {fee_label(result)}, "
        f"{locality_label(result.locality)}, on {result.on}{source}"
    )


def fee_lines(result: FeeResult) -> Iterator[str]:
    """A fee lookup: status and PC/TC meanings, the amount of each setting with its formula,
    the non-participating amount and limiting charge, why a setting is not priced, and the
    lab fee schedule rate."""
    yield fee_heading(result)
    if result.status:
        yield f"  status {result.status}: {result.status_meaning or 'no meaning on file'}"
    if result.pctc:
        yield f"  PC/TC indicator {result.pctc}: {result.pctc_meaning or 'no meaning on file'}"
    for setting in SETTINGS:
        amount = result.amounts.get(setting)
        if amount is not None:
            yield f"  {SETTING_LABELS[setting]}: {money(amount['amount'])}"
            yield f"    {amount['formula']}"
            yield (
                f"    non-participating {money(amount['non_participating'])}; "
                f"limiting charge {money(amount['limiting_charge'])}"
            )
        elif setting in result.not_priced:
            yield f"  {SETTING_LABELS[setting]}: not priced: {result.not_priced[setting]}"
    if result.amounts:
        yield f"  formula: {FORMULA}"
    rvus = result.rvus
    if rvus and any(v is not None for v in rvus.values()):
        named = (
            ("work", "work"),
            ("pe_non_facility", "PE non-facility"),
            ("pe_facility", "PE facility"),
            ("mp", "MP"),
        )
        given = ", ".join(f"{label} {rvus[key]}" for key, label in named if rvus.get(key))
        factor = (
            f"; conversion factor {result.conversion_factor}" if result.conversion_factor else ""
        )
        yield f"  RVUs: {given}{factor}"
    if result.message and result.message.startswith(f"status {result.status}:"):
        yield "  no fee schedule amount for this status"
    elif result.message:
        yield f"  no fee schedule amount: {result.message}"
    if result.clfs:
        yield clfs_line(result)


def clfs_line(result: FeeResult) -> str:
    clfs = result.clfs or {}
    return (
        f"Clinical laboratory fee schedule, {fee_label(result)}, on {result.on}: "
        f"{money(clfs['rate'])} (national rate; from {release_label(clfs.get('release'))})"
    )


# -- coverage -------------------------------------------------------------------------------


def where_asked(jurisdiction: dict[str, Any]) -> str:
    if jurisdiction.get("state"):
        return f"in {jurisdiction['state']}"
    if jurisdiction.get("macs"):
        return f"for MAC {', '.join(jurisdiction['macs'])}"
    return "in every jurisdiction"


def group_citation(article: ArticleCoverage, groups: list[dict[str, Any]]) -> str:
    """``Article A90001 v2 (Example Medicare Services J-X Part B), group 1``."""
    numbers = [str(g["group"]) for g in groups]
    if not numbers:
        return article.cite()
    word = "group" if len(numbers) == 1 else "groups"
    return f"{article.cite()}, {word} {', '.join(numbers)}"


def diagnosis_sentence(article: ArticleCoverage, diagnosis: Any) -> str:
    """One diagnosis as the article lists it (covered, listed as not covered) or does not."""
    if diagnosis.status == "covered":
        cited = group_citation(article, diagnosis.groups)
        paired = (
            f"; the group's paragraph pairs it with {', '.join(diagnosis.with_codes)}"
            if diagnosis.with_codes
            else ""
        )
        return f"{diagnosis.code}: covered ({cited}){paired}"
    if diagnosis.status == "noncovered":
        cited = group_citation(article, diagnosis.groups)
        return f"{diagnosis.code}: listed as not covered ({cited})"
    return f"{diagnosis.code}: not listed in {article.cite()}: the article says nothing of it"


def contractor_line(contractor: dict[str, Any]) -> str:
    states = ", ".join(contractor["states"]) or "no states on file"
    return f"{contractor['name']} ({contractor['type']} {contractor['number']}), for {states}"


def article_lines(result: CoverageResult, article: ArticleCoverage) -> Iterator[str]:
    yield f"{article.cite()}: {article.title}"
    until = f" until {article.ending}" if article.ending else ""
    yield f"  in force from {article.effective or '?'}{until}; {article.url}"
    for contractor in article.contractors:
        yield f"  contractor: {contractor_line(contractor)}"
    for group in article.code_groups:
        yield f"  {result.code} is in group {group['group']}"
        yield from _indented(group["paragraph"], "    ")
    for diagnosis in article.diagnoses:
        yield f"  {diagnosis_sentence(article, diagnosis)}"
        if diagnosis.status != "not_listed":
            for group in diagnosis.groups:
                yield from _indented(group["paragraph"], "    ")
    for modifiers in article.modifiers:
        yield (
            f"  modifiers listed, group {modifiers['group']}: {', '.join(modifiers['modifiers'])}"
        )
        yield from _indented(modifiers["paragraph"], "    ")
    for lcd in article.lcds:
        title = f": {lcd['title']}" if lcd.get("title") else ""
        version = f" v{lcd['version']}" if lcd.get("version") else ""
        yield f"  LCD {lcd['id']}{version}{title}; {lcd['url']}"
        if "utilization" not in lcd:
            yield "    (the LCD export is not loaded for this date: only the link is known)"
        for part in ("utilization", "documentation"):
            if lcd.get(part):
                yield f"    {part}:"
                yield from _indented(lcd[part], "      ")


def coverage_lines(result: CoverageResult) -> Iterator[str]:
    """A coverage lookup: each article in force with its contractor, groups, the diagnoses
    asked about, modifiers and LCDs; articles elsewhere, other versions and NCDs."""
    where = where_asked(result.jurisdiction)
    yield f"Medicare coverage of {result.code} on {result.on}, {where}"
    known = bool(result.jurisdiction.get("state") or result.jurisdiction.get("macs"))
    if not known:
        yield (
            "  no state or MAC given: these are the answers of every jurisdiction; "
            "each applies only where its contractor does"
        )
    if result.message:
        yield f"  {result.message}"
    elif not result.articles:
        place = f" {where}" if known else ""
        anywhere = "" if known else " in any jurisdiction"
        yield f"  no article in force on {result.on}{place} lists {result.code}{anywhere}"
    for article in result.articles:
        yield from article_lines(result, article)
    if result.elsewhere:
        yield (
            f"Articles listing {result.code} for other jurisdictions (not {where}): "
            f"{', '.join(result.elsewhere)}"
        )
    if result.other_versions:
        yield (
            f"Versions listing {result.code} not in force on {result.on}: "
            f"{', '.join(result.other_versions)}"
        )
    for ncd in result.ncds:
        yield f"NCD {ncd['section']} v{ncd['version']}: {ncd['title']}; {ncd['url']}"
        yield from _indented(ncd["indications"] or "", "    ")
    sources = [
        release_label(r)
        for r in (result.release, result.lcd_release, result.ncd_release)
        if r is not None
    ]
    if sources:
        yield f"  source: {'; '.join(sources)}"
