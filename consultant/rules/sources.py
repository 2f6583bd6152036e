"""The public documents the rules cite: one table, shown on the sources page.

Each rule cites a document by its key here and a place in it (a chapter or a
section), only as precisely as this project is sure of. The wording of the
rules is this project's own; the documents are where a reader checks it. The
manuals are revised in place, so the edition named is the one the rules were
written against, and the address is the page CMS keeps current.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    publisher: str
    edition: str
    date: str  # when that edition took effect, as precisely as known
    address: str


SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        Source(
            "ncci-manual",
            "National Correct Coding Initiative Policy Manual for Medicare Services",
            "CMS",
            "revision effective January 1, 2026",
            "2026-01-01",
            "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-policy-manual",
        ),
        Source(
            "ncci-ptp",
            "Medicare NCCI Procedure to Procedure (PTP) Edits: edit files and their documentation",
            "CMS",
            "quarterly files",
            "2026-10-01",
            "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-procedure-procedure-ptp-edits",
        ),
        Source(
            "mln-xepsu",
            "Specific Modifiers for Distinct Procedural Services (MLN Matters MM8863)",
            "CMS Medicare Learning Network",
            "effective January 1, 2015",
            "2015-01-01",
            "https://www.cms.gov/outreach-and-education/medicare-learning-network-mln/mlnmattersarticles/downloads/mm8863.pdf",
        ),
        Source(
            "ncci-mue",
            "Medicare NCCI Medically Unlikely Edits (MUEs): edit files and their documentation",
            "CMS",
            "quarterly files",
            "2026-10-01",
            "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-medically-unlikely-edits",
        ),
        Source(
            "ncci-aoc",
            "Medicare NCCI Add-on Code Edits: edit files and their documentation",
            "CMS",
            "quarterly files",
            "2026-10-01",
            "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-add-code-edits",
        ),
        Source(
            "claims-manual",
            "Medicare Claims Processing Manual (Pub. 100-04), Chapter 12: Physicians/"
            "Nonphysician Practitioners",
            "CMS",
            "as revised through 2026",
            "2026",
            "https://www.cms.gov/regulations-and-guidance/guidance/manuals/internet-only-manuals-ioms-items/cms018912",
        ),
        Source(
            "benefit-manual",
            "Medicare Benefit Policy Manual (Pub. 100-02), Chapter 15: Covered Medical and "
            "Other Health Services",
            "CMS",
            "as revised through 2026",
            "2026",
            "https://www.cms.gov/regulations-and-guidance/guidance/manuals/internet-only-manuals-ioms-items/cms012673",
        ),
        Source(
            "icd10cm-guidelines",
            "ICD-10-CM Official Guidelines for Coding and Reporting",
            "CMS and NCHS",
            "FY 2026",
            "2025-10-01",
            "https://www.cdc.gov/nchs/icd/icd-10-cm/files.html",
        ),
        Source(
            "mln-global-surgery",
            "Global Surgery (MLN907166)",
            "CMS Medicare Learning Network",
            "current booklet",
            "2026",
            "https://www.cms.gov/files/document/mln907166-global-surgery-booklet.pdf",
        ),
        Source(
            "pfs-rvu",
            "Medicare Physician Fee Schedule relative value files: record layout and indicator "
            "definitions",
            "CMS",
            "the release in force for the date of service",
            "2026-10-01",
            "https://www.cms.gov/medicare/payment/fee-schedules/physician/pfs-relative-value-files",
        ),
        Source(
            "mcd",
            "Medicare Coverage Database",
            "CMS",
            "the export in force for the date of service",
            "2026-09-30",
            "https://www.cms.gov/medicare-coverage-database/search.aspx",
        ),
        Source(
            "abn",
            "Advance Beneficiary Notice of Non-coverage (ABN), Form CMS-R-131",
            "CMS",
            "current form",
            "2026",
            "https://www.cms.gov/medicare/forms-notices/beneficiary-notices-initiative/ffs-abn",
        ),
        Source(
            "pfs-payment",
            "Medicare Physician Fee Schedule: payment amounts from RVUs, GPCIs and the "
            "conversion factor, by locality",
            "CMS",
            "the release in force for the date of service",
            "2027-01-01",
            "https://www.cms.gov/medicare/payment/fee-schedules/physician",
        ),
        Source(
            "clfs",
            "Clinical Laboratory Fee Schedule: national limitation amounts",
            "CMS",
            "quarterly files",
            "2026-10-01",
            "https://www.cms.gov/medicare/payment/fee-schedules/clinical-laboratory-fee-schedule-clfs",
        ),
        Source(
            "hcpcs",
            "Healthcare Common Procedure Coding System (HCPCS) Level II code set",
            "CMS",
            "quarterly updates",
            "2026-10-01",
            "https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system",
        ),
    )
}
