"""Write a full-size CONSTRUCTED Medicare Coverage Database export for import benchmarks.

The small samples of ``/work/shared/tools/gen_coverage_samples.py`` show the layout of
the MCD "articles" and "LCD" downloads but hold a few dozen rows; the real national
"all articles" download has hundreds of thousands of rows in its code tables and
HTML fields longer than the ``csv`` module's default field limit (131,072 characters).
This script writes exports of that size, in exactly the sample's layout, so the
importer can be timed and its memory measured on a realistic volume:

* an outer zip holding ``README.txt`` and an inner ``*_csv.zip``;
* inside, one CSV per relational table, with the sample's table names and header
  columns in the sample's order; every cell quoted, CRLF line ends, latin-1.

Every value is made up (contractors, documents, dates, ICD-10 and HCPCS-shaped codes,
descriptions and prose); only the state names are real, being public fact. Output is
deterministic for a given seed. Tables are streamed to temporary files and then into
the zips, so memory stays small whatever the size.

usage: python bench/gen_mcd_export.py OUT_DIR [--articles N] [--lcds M] [--seed S]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import itertools
import random
import resource
import shutil
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOTICE = "CONSTRUCTED TEST DATA: every value below is made up; layout as published by CMS."
README = (
    "Medicare Coverage Database download (constructed full-size benchmark export). "
    + NOTICE
    + "\r\nThe inner zip holds one CSV per table.\r\n"
)
ZIP_TIME = (2026, 10, 1, 0, 0, 0)
EXPORT_DAY = dt.date(2026, 9, 30)
FIRST_DAY = dt.date(2015, 10, 1)  # ICD-10 start: the oldest effective date used
HUGE_MIN, HUGE_MAX = 200_000, 450_000  # characters in the deliberately huge HTML fields

# --- layout: table names and header columns exactly as the sample generator writes them ---

CONTRACTOR_HEADERS: dict[str, list[str]] = {
    "contractor.csv": [
        "contractor_id", "contractor_type_id", "contractor_version", "contractor_bus_name",
        "contractor_number", "dmerc_rgn", "address1", "address2", "address3", "city", "state_id",
        "zipcode", "phone", "fax", "status", "last_updated", "url", "email", "ignore",
        "status_flag", "cmd_name", "cmd_title", "contractor_subtype_id",
    ],
    "contractor_jurisdiction.csv": [
        "contractor_id", "contractor_type_id", "contractor_version", "state_id", "last_updated",
        "active_date", "term_date",
    ],
    "contractor_type_lookup.csv": ["contractor_type_id", "description"],
    "state_lookup.csv": ["state_id", "state_abbrev", "description"],
}  # fmt: skip
ARTICLE_HEADERS: dict[str, list[str]] = {
    **CONTRACTOR_HEADERS,
    "article.csv": [
        "article_id", "article_version", "article_type", "title", "article_pub_date",
        "article_eff_date", "article_end_date", "description", "other_comments", "sad_url",
        "status", "last_updated", "display_id", "key_article",
    ],
    "article_x_contractor.csv": [
        "article_id", "article_version", "article_type", "contractor_id", "contractor_type_id",
        "contractor_version", "last_updated",
    ],
    "article_related_documents.csv": [
        "article_id", "article_version", "related_num", "r_article_id", "r_article_version",
        "r_lcd_id", "r_lcd_version", "r_contractor_id", "last_updated",
    ],
    "article_x_hcpc_code.csv": [
        "article_id", "article_version", "hcpc_code_id", "hcpc_code_version", "hcpc_code_group",
        "range", "last_updated", "long_description", "short_description",
    ],
    "article_x_hcpc_code_group.csv": [
        "article_id", "article_version", "hcpc_code_group", "paragraph", "last_updated",
    ],
    "article_x_icd10_covered.csv": [
        "article_id", "article_version", "icd10_code_id", "icd10_code_version",
        "icd10_covered_group", "range", "last_updated", "sort_order", "description", "asterisk",
    ],
    "article_x_icd10_covered_group.csv": [
        "article_id", "article_version", "icd10_covered_group", "paragraph", "last_updated",
        "icd10_covered_ast",
    ],
    "article_x_icd10_noncovered.csv": [
        "article_id", "article_version", "icd10_code_id", "icd10_code_version",
        "icd10_noncovered_group", "range", "last_updated", "sort_order", "description",
    ],
    "article_x_icd10_noncovered_group.csv": [
        "article_id", "article_version", "icd10_noncovered_group", "paragraph", "last_updated",
    ],
    "article_x_hcpc_modifier.csv": [
        "article_id", "article_version", "hcpc_modifier_code_id", "hcpc_modifier_code_version",
        "hcpc_modifier_group", "last_updated", "description",
    ],
}  # fmt: skip
LCD_HEADERS: dict[str, list[str]] = {
    **CONTRACTOR_HEADERS,
    "lcd.csv": [
        "lcd_id", "lcd_version", "title", "determination_number", "orig_det_eff_date",
        "ent_det_end_date", "rev_eff_date", "rev_end_date", "indication", "coding_guidelines",
        "doc_reqs", "util_guide", "status", "last_updated", "display_id",
    ],
    "lcd_x_contractor.csv": [
        "lcd_id", "lcd_version", "contractor_id", "contractor_type_id", "contractor_version",
        "last_updated",
    ],
    "lcd_related_documents.csv": [
        "lcd_id", "lcd_version", "related_num", "r_article_id", "r_article_version", "r_lcd_id",
        "r_lcd_version", "r_contractor_id", "last_updated",
    ],
}  # fmt: skip

# --- public fact: US states, DC and the territories (ids are this file's own) ---

STATES: list[tuple[str, str]] = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AS", "American Samoa"), ("AZ", "Arizona"),
    ("AR", "Arkansas"), ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"),
    ("DE", "Delaware"), ("DC", "District of Columbia"), ("FL", "Florida"), ("GA", "Georgia"),
    ("GU", "Guam"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"),
    ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"),
    ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"),
    ("NV", "Nevada"), ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"),
    ("NY", "New York"), ("NC", "North Carolina"), ("ND", "North Dakota"),
    ("MP", "Northern Mariana Islands"), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"),
    ("PA", "Pennsylvania"), ("PR", "Puerto Rico"), ("RI", "Rhode Island"),
    ("SC", "South Carolina"), ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"),
    ("UT", "Utah"), ("VT", "Vermont"), ("VI", "Virgin Islands"), ("VA", "Virginia"),
    ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
]  # fmt: skip
SAMPLE_STATE_IDS = {"FL": 9, "NY": 33, "OK": 38, "PR": 40, "TX": 45}  # as in the small sample
CONTRACTOR_TYPES = [("1", "A and B MAC"), ("2", "A MAC"), ("3", "B MAC"), ("9", "DME MAC")]
MODIFIERS = [
    "RT", "LT", "50", "59", "XS", "XU", "25", "26", "TC", "KX", "GA", "GZ", "GY", "KH", "KI",
    "KJ", "RR", "NU", "UE", "JW", "JZ", "QW", "76", "77", "91", "KF", "BP", "BR",
]  # fmt: skip

# --- word lists for the made-up text ---

CONDITIONS = [
    "Osteoarthritis", "Fracture", "Malignant neoplasm", "Benign neoplasm", "Infection",
    "Pressure ulcer", "Stenosis", "Neuropathy", "Contusion", "Dislocation", "Sprain",
    "Embolism", "Hypertrophy", "Degeneration", "Lesion", "Inflammation", "Deformity",
    "Calculus", "Cyst", "Hemorrhage", "Obstruction", "Insufficiency", "Atrophy", "Effusion",
    "Laceration", "Stricture", "Aneurysm", "M\u00e9ni\u00e8re-type disorder", "Sclerosis",
]  # fmt: skip
SITES = [
    "knee", "hip", "shoulder", "lumbar spine", "cervical spine", "colon", "retina", "lung",
    "kidney", "liver", "skin of lower leg", "femur", "tibia", "radius", "ankle", "wrist",
    "bladder", "thyroid", "mitral valve", "coronary artery", "optic nerve", "inner ear",
    "great toe", "sacrum", "pancreas", "esophagus", "carotid artery", "elbow", "heel",
]  # fmt: skip
PROCEDURES = [
    "Arthrocentesis", "Joint Injections", "Nerve Conduction Studies", "Epidural Steroid Injections",
    "Facet Joint Interventions", "Colorectal Cancer Screening", "Wound Care", "Debridement",
    "Positive Airway Pressure Devices", "Oxygen and Oxygen Equipment", "Glucose Monitors",
    "Hyaluronan Products", "Vitamin D Assay Testing", "Molecular Pathology Procedures",
    "Cardiac Event Monitors", "Transthoracic Echocardiography", "Bone Mass Measurement",
    "Cataract Extraction", "Blepharoplasty", "Physical Therapy", "Psychological Testing",
    "Botulinum Toxins", "Infusion Pumps", "Orthoses", "Enteral Nutrition", "Lower Limb Prostheses",
    "Hospital Beds", "Wheelchair Options", "Vertebral Augmentation", "Spinal Cord Stimulation",
    "Varicose Vein Treatment", "Allergy Testing", "Thyroid Testing", "Lipid Testing",
    "Drugs and Biologicals", "Chemotherapy Administration", "Hyperbaric Oxygen Therapy",
    "Ambulance Services", "Sleep Studies", "Urodynamic Studies", "Skin Substitutes",
    "Cosmetic and Reconstructive Surgery", "Peripheral Nerve Blocks", "Telehealth Services",
]  # fmt: skip
QUALIFIERS = [
    "", "", "", " (J-X)", " (J-Y)", " - Policy Article", " in the Outpatient Setting",
    " for Beneficiaries with Diabetes", " - Coding Update", " and Related Services",
    " \u00ae Products", " & Supplies",
]  # fmt: skip
SUBJECTS = [
    "The treating practitioner", "The medical record", "The beneficiary's history",
    "Documentation", "The ordering physician", "The supplier", "The claim", "Each service",
    "The plan of care", "The operative report", "The prescribing clinician",
    "The progress note", "The laboratory requisition",
]  # fmt: skip
VERBS = [
    "must document", "should describe", "is expected to show", "must support", "will include",
    "may reference", "must clearly state", "should identify", "needs to record",
]  # fmt: skip
OBJECTS = [
    "the reason for the procedure", "the laterality of the affected joint",
    "a face-to-face evaluation within 6 months", "the results of conservative treatment",
    "the frequency &amp; duration of therapy", "the <strong>specific</strong> diagnosis code",
    "objective findings such as range of motion", 'the "reasonable and necessary" criteria',
    "the patient&#8217;s response to treatment",
    "any contraindication (e.g., infection &gt; 2 weeks)",
    "the KX modifier when the criteria are met", "the dose, route &amp; units administered",
    "an <em>appropriate</em> trial of less invasive care", "the date of the last service",
    "the signature and credentials of the author", "the test results that changed management",
    "that the device is used at least 4 hours per night", "the number of units on the claim",
    "the M\u00e9ni\u00e8re-type symptoms reported", "that the service was not for screening",
]  # fmt: skip
TAILS = [
    "", "", " before the service is billed", " in the progress note", " per 12-month period",
    " for each date of service", " when requested by the contractor", " at the initial visit",
    " on the CMS-1500 claim form", " with the appropriate ICD-10-CM code",
]  # fmt: skip
HEADINGS = [
    "Covered Indications", "Limitations", "Documentation Requirements", "Utilization Guidelines",
    "Coding Information", "Summary of Evidence", "Analysis of Evidence", "Frequency Limits",
    "Bill Type Codes", "Revenue Codes", "Definitions", "General Information",
]  # fmt: skip
FIRST_NAMES = ["Alex", "Jordan", "Morgan", "Casey", "Riley", "Taylor", "Jamie", "Quinn", "Avery"]
LAST_NAMES = ["Example", "Sample", "Placeholder", "Testington", "Madeup", "Fictional", "Dummy"]
CITIES = ["Exampleville", "Sampletown", "Testburg", "Mockford", "Placeholder City", "Fakeham"]
BUSINESS_WORDS = [
    "Example", "Sample", "Constructed", "Imaginary", "Fictional", "Placeholder", "Mock", "Test",
]  # fmt: skip
BUSINESS_NOUNS = [
    "Medicare Services", "Government Health", "Health Solutions", "Benefit Administrators",
    "Claims Partners", "Health Administrators",
]  # fmt: skip


def day(d: dt.date) -> str:
    return d.isoformat()


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def random_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


# --- the made-up HTML prose ---


class Prose:
    """Paragraph HTML as the MCD text fields hold it, made of constructed sentences."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = [self._sentence() for _ in range(800)]

    def _sentence(self) -> str:
        r = self.rng
        text = f"{r.choice(SUBJECTS)} {r.choice(VERBS)} {r.choice(OBJECTS)}{r.choice(TAILS)}."
        if r.random() < 0.1:
            text += f' See <a href="https://www.example.com/mcd/{r.randint(1, 99999)}">here</a>.'
        return text

    def para(self, sentences: int) -> str:
        return "<p>" + " ".join(self.rng.choices(self.sentences, k=sentences)) + "</p>"

    def block(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.15:
            items = r.choices(self.sentences, k=r.randint(2, 8))
            return "<ul>" + "".join(f"<li>{s}</li>" for s in items) + "</ul>"
        if roll < 0.22:
            return f"<p><strong>{r.choice(HEADINGS)}</strong></p>"
        if roll < 0.25:
            items = r.choices(self.sentences, k=r.randint(2, 5))
            return "<ol>" + "".join(f"<li>{s}</li>" for s in items) + "</ol>"
        return self.para(r.randint(1, 6))

    def html(self, chars: int, newlines: bool = False) -> str:
        """At least ``chars`` characters of block HTML (one block when ``chars`` is small)."""
        sep = "\r\n" if newlines else ""
        blocks: list[str] = []
        size = 0
        while True:
            b = self.block()
            blocks.append(b)
            size += len(b) + len(sep)
            if size >= chars:
                return sep.join(blocks)

    def group_paragraph(self, group: int, huge: bool = False) -> str:
        r = self.rng
        head = f"<p><strong>Group {group} Paragraph:</strong> "
        head += " ".join(r.choices(self.sentences, k=r.randint(1, 3))) + "</p>"
        if huge:
            return head + self.html(r.randint(HUGE_MIN, HUGE_MAX))
        if r.random() < 0.25:
            return head + self.html(r.choice((150, 400, 1500, 4000)))
        return head


# --- the made-up code sets ---


def icd10_pool(rng: random.Random) -> list[tuple[str, str]]:
    """About 50,000 well-formed made-up ICD-10 codes with descriptions, sorted by code."""
    pool: list[tuple[str, str]] = []
    for letter in "ABCDEFGHIJKLMNOPQRSTVWXYZ":
        for cat in sorted(rng.sample(range(100), 70)):
            base = f"{letter}{cat:02d}"
            desc = f"{rng.choice(CONDITIONS)} of {rng.choice(SITES)}"
            if rng.random() < 0.12:
                pool.append((base, desc))
                continue
            for suffix in sorted(_suffixes(rng, rng.randint(2, 55))):
                pool.append((f"{base}.{suffix}", desc + _qualifier(suffix)))
    pool.sort()
    return pool


def _suffixes(rng: random.Random, n: int) -> set[str]:
    out: set[str] = set()
    while len(out) < n:
        length = rng.choices((1, 2, 3, 4), weights=(2, 4, 4, 3))[0]
        s = str(rng.randrange(10))
        if length >= 2:
            s += rng.choice("0123456789")
        if length >= 3:
            s += rng.choice("0123456789X")
        if length == 4:
            s += rng.choice("ADS")
            if rng.random() < 0.2:
                s = s[0] + "X" + s[2:]
        out.add(s)
    return out


def _qualifier(suffix: str) -> str:
    side = {"1": ", right", "2": ", left", "3": ", bilateral", "9": ", unspecified side"}
    text = f", type {suffix[0]}"
    if len(suffix) >= 2:
        text += side.get(suffix[1], f", subtype {suffix[1]}")
    if len(suffix) == 4:
        text += {"A": ", initial encounter", "D": ", subsequent encounter", "S": ", sequela"}[
            suffix[3]
        ]
    return text


def hcpc_candidates(rng: random.Random, domain: str) -> list[str]:
    """A document's stock of CPT- and HCPCS-shaped codes (numbers only, no descriptors)."""
    codes: set[str] = set()
    target = rng.randint(8, 60)
    if domain == "dme":
        makers = [lambda: f"{rng.choice('AEKL')}{rng.randrange(1000, 10000):04d}"]
    elif domain == "drug":
        makers = [
            lambda: f"J{rng.randrange(100, 10000):04d}",
            lambda: f"Q{rng.randrange(1, 10000):04d}",
            lambda: f"{rng.randrange(96360, 96550)}",
        ]
    elif domain == "screen":
        makers = [
            lambda: f"G{rng.randrange(100, 10000):04d}",
            lambda: f"{rng.randrange(80047, 89399)}",
        ]
    else:
        low = rng.randrange(10004, 99000)
        makers = [
            lambda: f"{rng.randrange(low, min(low + 900, 99499))}",
            lambda: f"{rng.randrange(1, 1000):04d}T",
            lambda: f"C{rng.randrange(1000, 10000):04d}",
        ]
        makers = [makers[0]] * 8 + makers[1:]
    while len(codes) < target:
        codes.add(rng.choice(makers)())
    return sorted(codes)


# --- the document catalogue (small; held in memory) ---


@dataclass
class Contractor:
    contractor_id: str
    type_id: str
    states: list[str]


@dataclass
class Version:
    number: int
    eff: dt.date
    end: dt.date | None
    updated: str

    @property
    def status(self) -> str:
        return "A" if self.end is None else "R"


@dataclass
class Document:
    doc_id: int
    title: str
    domain: str
    versions: list[Version]
    contractors: list[Contractor]
    related: list[Document] = field(default_factory=list)


def make_versions(rng: random.Random, first: dt.date) -> list[Version]:
    count = rng.choices((1, 2, 3), weights=(40, 35, 25))[0]
    effs = [first]
    while len(effs) < count:
        nxt = effs[-1] + dt.timedelta(days=rng.randint(60, 900))
        if nxt > EXPORT_DAY:
            break
        effs.append(nxt)
    versions = []
    for i, eff in enumerate(effs):
        end = effs[i + 1] - dt.timedelta(days=1) if i + 1 < len(effs) else None
        when = min(eff - dt.timedelta(days=rng.randint(0, 45)), EXPORT_DAY)
        clock = dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60))
        versions.append(Version(i + 1, eff, end, stamp(dt.datetime.combine(when, clock))))
    return versions


def make_contractors(rng: random.Random, state_ids: list[str]) -> list[Contractor]:
    types = ["1"] * 32 + ["2"] * 10 + ["3"] * 10 + ["9"] * 8
    out = [
        Contractor(str(1101 + i), t, rng.sample(state_ids, rng.randint(1, 8)))
        for i, t in enumerate(types)
    ]
    covered = {s for c in out if c.type_id == "1" for s in c.states}
    for s in state_ids:  # every state gets an A and B MAC
        if s not in covered:
            rng.choice([c for c in out if c.type_id == "1" and len(c.states) < 8]).states.append(s)
    return out


def make_documents(
    rng: random.Random, count: int, first_id: int, prefix: str, contractors: list[Contractor]
) -> list[Document]:
    dme = [c for c in contractors if c.type_id == "9"]
    part_ab = [c for c in contractors if c.type_id != "9"]
    docs = []
    doc_id = first_id
    for _ in range(count):
        doc_id += rng.choice((1, 1, 1, 2, 3, 7))
        domain = rng.choices(("proc", "drug", "screen", "dme"), weights=(60, 15, 13, 12))[0]
        title = f"{prefix}{rng.choice(PROCEDURES)}{rng.choice(QUALIFIERS)}"
        first = random_day(rng, FIRST_DAY, EXPORT_DAY - dt.timedelta(days=60))
        owners = dme if domain == "dme" else part_ab
        picked = rng.sample(owners, rng.choices((1, 2, 3), weights=(70, 20, 10))[0])
        docs.append(Document(doc_id, title, domain, make_versions(rng, first), picked))
    return docs


def relate(rng: random.Random, articles: list[Document], lcds: list[Document]) -> None:
    """Link most articles to one or two LCDs (and each LCD back to its articles)."""
    for art in articles:
        if rng.random() < 0.25:
            continue
        for lcd in rng.sample(lcds, 2 if rng.random() < 0.12 else 1):
            art.related.append(lcd)
            lcd.related.append(art)


@dataclass(frozen=True)
class World:
    state_rows: list[list[str]]
    contractors: list[Contractor]
    articles: list[Document]
    lcds: list[Document]


def make_world(rng: random.Random, n_articles: int, n_lcds: int) -> World:
    ids = dict(SAMPLE_STATE_IDS)
    free = (i for i in range(1, 200) if i not in SAMPLE_STATE_IDS.values())
    for abbrev, _ in STATES:
        if abbrev not in ids:
            ids[abbrev] = next(free)
    state_rows = sorted(([str(ids[a]), a, name] for a, name in STATES), key=lambda r: int(r[0]))
    contractors = make_contractors(rng, [r[0] for r in state_rows])
    articles = make_documents(rng, n_articles, 52000, "Billing and Coding: ", contractors)
    lcds = make_documents(rng, n_lcds, 33000, "", contractors)
    relate(rng, articles, lcds)
    return World(state_rows, contractors, articles, lcds)


# --- streaming the tables ---


class Tables(contextlib.ExitStack):
    """One temporary CSV per table, written row by row in the MCD dialect."""

    def __init__(self, directory: Path, headers: dict[str, list[str]]) -> None:
        super().__init__()
        directory.mkdir(parents=True, exist_ok=True)
        self.headers = headers
        self.paths = {name: directory / name for name in headers}
        self.rows = dict.fromkeys(headers, 0)
        self.widest = dict.fromkeys(headers, 0)
        self._writers: dict[str, Any] = {}
        for name, path in self.paths.items():
            f = self.enter_context(path.open("w", encoding="latin-1", newline=""))
            w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            w.writerow(headers[name])
            self._writers[name] = w

    def write(self, name: str, rows: Sequence[Sequence[str]]) -> None:
        if not rows:
            return
        self._writers[name].writerows(rows)
        self.rows[name] += len(rows)
        widest = max(len(cell) for row in rows for cell in row)
        if widest > self.widest[name]:
            self.widest[name] = widest


def entry(name: str, size: int) -> zipfile.ZipInfo:
    """A deflated zip entry with a fixed time, so a seed always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = size  # lets zipfile decide on ZIP64 before streaming
    return info


def add_file(z: zipfile.ZipFile, name: str, path: Path) -> None:
    with path.open("rb") as src, z.open(entry(name, path.stat().st_size), "w") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def pack(tables: Tables, inner_name: str, inner_path: Path, outer_path: Path) -> None:
    with zipfile.ZipFile(inner_path, "w") as z:
        for name in tables.headers:
            add_file(z, name, tables.paths[name])
    with zipfile.ZipFile(outer_path, "w") as z:
        readme = README.encode("latin-1")
        z.writestr(entry("README.txt", len(readme)), readme)
        add_file(z, inner_name, inner_path)


def write_contractor_tables(t: Tables, world: World, rng: random.Random) -> None:
    rows, jurisdiction = [], []
    for c in world.contractors:
        number = f"{99000 + int(c.contractor_id) - 1000}"
        part = {"1": "Part A and B", "2": "Part A", "3": "Part B"}.get(c.type_id)
        region = f"J-{number[-2:]} {part}" if part else f"DME Jurisdiction {number[-2:]}"
        name = f"{rng.choice(BUSINESS_WORDS)} {rng.choice(BUSINESS_NOUNS)} {region}"
        updated = stamp(dt.datetime(2026, 9, rng.randint(1, 30), rng.randrange(24)))
        person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}, MD"
        rows.append(
            [
                c.contractor_id, c.type_id, "1", name, number,
                rng.choice("ABCD") if c.type_id == "9" else "",
                f"{rng.randint(1, 9999)} Example Way", f"Suite {rng.randint(100, 999)}", "",
                rng.choice(CITIES), c.states[0], f"{rng.randint(0, 99999):05d}",
                f"555-01{rng.randint(0, 99):02d}", f"555-01{rng.randint(0, 99):02d}", "A", updated,
                f"https://www.example.com/mac/{number}", f"medical.review.{number}@example.com",
                "", "", person, "Contractor Medical Director", "",
            ]
        )  # fmt: skip
        for state in c.states:
            active = dt.datetime.combine(random_day(rng, dt.date(2006, 1, 1), FIRST_DAY), dt.time())
            jurisdiction.append(
                [c.contractor_id, c.type_id, "1", state, updated, stamp(active), ""]
            )
    t.write("contractor.csv", rows)
    t.write("contractor_jurisdiction.csv", jurisdiction)
    t.write("contractor_type_lookup.csv", [list(ct) for ct in CONTRACTOR_TYPES])
    t.write("state_lookup.csv", world.state_rows)


def split(items: list[Any], groups: int, rng: random.Random) -> list[list[Any]]:
    """Contiguous, non-empty chunks of items (as many as possible up to ``groups``)."""
    if not items:
        return []
    groups = min(groups, len(items))
    cuts = sorted(rng.sample(range(1, len(items)), groups - 1)) if groups > 1 else []
    bounds = [0, *cuts, len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


@dataclass
class ArticlePlan:
    """What stays the same across an article's versions."""

    description: str
    hcpc: list[str]
    covered_start: int
    covered_count: int
    noncovered_start: int
    noncovered_count: int
    modifiers: list[str]
    huge: set[str]


def covered_size(rng: random.Random) -> int:
    """The heavy tail: most lists 0-200 codes, some 200-700, a rare few 2,000-8,000."""
    roll = rng.random()
    if roll < 0.15:
        return 0
    if roll < 0.88:
        return 1 + int(199 * rng.random() ** 2)
    if roll < 0.987:
        return rng.randint(200, 700)
    return rng.randint(2000, 8000)


def noncovered_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.65:
        return 0
    if roll < 0.985:
        return rng.randint(1, 60)
    return rng.randint(300, 2000)


def pick_codes(
    rng: random.Random, pool: list[tuple[str, str]], start: int, count: int
) -> list[tuple[str, str]]:
    """``count`` distinct codes from a run of the pool starting at ``start`` (code order)."""
    picked: list[tuple[str, str]] = []
    i = start % len(pool)
    for _ in range(len(pool)):
        if len(picked) >= count:
            break
        if rng.random() < 0.7:
            picked.append(pool[i])
        i = (i + 1) % len(pool)
    picked.sort()
    return picked


def write_articles(
    t: Tables, world: World, rng: random.Random, prose: Prose, pool: list[tuple[str, str]]
) -> None:
    huge_at: dict[int, set[str]] = {}
    for kind in ("hcpc", "covered", "noncovered"):  # two documents each, at least
        for i in rng.sample(range(len(world.articles)), min(2, len(world.articles))):
            huge_at.setdefault(i, set()).add(kind)
    for i, art in enumerate(world.articles):
        huge = huge_at.get(i, set())
        plan = ArticlePlan(
            description=prose.html(rng.choice((300, 900, 2500, 6000, 15000))),
            hcpc=hcpc_candidates(rng, art.domain),
            covered_start=rng.randrange(len(pool)),
            covered_count=covered_size(rng) or (1 if "covered" in huge else 0),
            noncovered_start=rng.randrange(len(pool)),
            noncovered_count=noncovered_size(rng) or (1 if "noncovered" in huge else 0),
            modifiers=rng.sample(MODIFIERS, rng.randint(1, 8)) if rng.random() < 0.3 else [],
            huge=huge,
        )
        for v in art.versions:
            write_article_version(t, art, v, plan, rng, prose, pool)


def write_article_version(
    t: Tables,
    art: Document,
    v: Version,
    plan: ArticlePlan,
    rng: random.Random,
    prose: Prose,
    pool: list[tuple[str, str]],
) -> None:
    aid, ver, upd = str(art.doc_id), str(v.number), v.updated
    pub = v.eff - dt.timedelta(days=rng.randint(0, 45))
    comments = prose.para(rng.randint(1, 3)) if rng.random() < 0.2 else ""
    t.write(
        "article.csv",
        [
            [
                aid, ver, "1", art.title, day(pub), day(v.eff), day(v.end) if v.end else "",
                plan.description, comments, "", v.status, upd, f"A{aid}", "",
            ]
        ],
    )  # fmt: skip
    t.write(
        "article_x_contractor.csv",
        [[aid, ver, "1", c.contractor_id, c.type_id, "1", upd] for c in art.contractors],
    )
    t.write(
        "article_related_documents.csv",
        [
            [aid, ver, str(n), "", "", str(lcd.doc_id), "", "", upd]
            for n, lcd in enumerate(art.related, 1)
        ],
    )
    # HCPCS: 1-40 codes of the document's stock, in 1-4 groups
    hcpc = sorted(rng.sample(plan.hcpc, min(len(plan.hcpc), rng.randint(1, 40))))
    hcpc_rows, group_rows = [], []
    for g, chunk in enumerate(split(hcpc, rng.choice((1, 1, 2, 2, 3, 4)), rng), 1):
        hcpc_rows += [[aid, ver, code, "1", str(g), "", upd, "", ""] for code in chunk]
        huge = g == 1 and "hcpc" in plan.huge
        group_rows.append([aid, ver, str(g), prose.group_paragraph(g, huge), upd])
    t.write("article_x_hcpc_code.csv", hcpc_rows)
    t.write("article_x_hcpc_code_group.csv", group_rows)
    # ICD-10 covered and non-covered lists, drifting a little between versions
    drift = 1.0 if v.number == 1 else rng.uniform(0.9, 1.1)
    shift = 0 if v.number == 1 else rng.randint(-20, 20)
    for kind, start, count in (
        ("covered", plan.covered_start, plan.covered_count),
        ("noncovered", plan.noncovered_start, plan.noncovered_count),
    ):
        codes = pick_codes(rng, pool, start + shift, max(int(count * drift), 1 if count else 0))
        code_rows, group_rows = [], []
        n = 0
        for g, chunk in enumerate(split(codes, rng.choice((1, 1, 2, 3, 4)), rng), 1):
            huge = g == 1 and kind in plan.huge
            para = [aid, ver, str(g), prose.group_paragraph(g, huge), upd]
            group_rows.append([*para, ""] if kind == "covered" else para)
            for code, desc in chunk:
                n += 1
                row = [aid, ver, code, "1", str(g), "", upd, str(n), desc]
                code_rows.append([*row, ""] if kind == "covered" else row)
        t.write(f"article_x_icd10_{kind}.csv", code_rows)
        t.write(f"article_x_icd10_{kind}_group.csv", group_rows)
    t.write(
        "article_x_hcpc_modifier.csv",
        [[aid, ver, m, "1", "1", upd, ""] for m in plan.modifiers],
    )


def write_lcds(t: Tables, world: World, rng: random.Random, prose: Prose) -> None:
    fields = ("indication", "doc_reqs", "util_guide")
    huge_at: dict[int, set[str]] = {}
    for name in fields:  # one document each for certain, and about one in a hundred more
        huge_at.setdefault(rng.randrange(len(world.lcds)), set()).add(name)
    for i in range(len(world.lcds)):
        if rng.random() < 0.01:
            huge_at.setdefault(i, set()).add(rng.choice(fields))
    for i, lcd in enumerate(world.lcds):
        huge = huge_at.get(i, set())
        newlines = rng.random() < 0.5
        sizes = {
            "indication": rng.choice((3000, 8000, 15000, 30000, 60000)),
            "doc_reqs": rng.choice((800, 2500, 6000, 12000)),
            "util_guide": rng.choice((0, 400, 1500, 5000)),
        }
        texts = {
            name: prose.html(rng.randint(HUGE_MIN, HUGE_MAX) if name in huge else size, newlines)
            if size or name in huge
            else ""
            for name, size in sizes.items()
        }
        coding = prose.html(rng.choice((300, 1200)), newlines) if rng.random() < 0.3 else ""
        lid, orig = str(lcd.doc_id), day(lcd.versions[0].eff)
        for v in lcd.versions:
            ver, upd = str(v.number), v.updated
            revision = f"<p>Revision {v.number} effective {day(v.eff)}: constructed change.</p>"
            t.write(
                "lcd.csv",
                [
                    [
                        lid, ver, lcd.title, "", orig, "", day(v.eff),
                        day(v.end) if v.end else "", texts["indication"] + revision, coding,
                        texts["doc_reqs"], texts["util_guide"], v.status, upd, f"L{lid}",
                    ]
                ],
            )  # fmt: skip
            t.write(
                "lcd_x_contractor.csv",
                [[lid, ver, c.contractor_id, c.type_id, "1", upd] for c in lcd.contractors],
            )
            t.write(
                "lcd_related_documents.csv",
                [
                    [lid, ver, str(n), str(a.doc_id), str(a.versions[-1].number), "", "", "", upd]
                    for n, a in enumerate(lcd.related, 1)
                ],
            )


def report(label: str, path: Path, inner: Path, t: Tables) -> None:
    print(f"{path}  {path.stat().st_size / 1e6:.1f} MB (inner {inner.name}: "
          f"{inner.stat().st_size / 1e6:.1f} MB)")  # fmt: skip
    print(f"  {'table':38} {'rows':>10} {'csv MB':>8} {'widest field':>13}")
    for name in t.headers:
        size = t.paths[name].stat().st_size / 1e6
        print(f"  {name:38} {t.rows[name]:>10,} {size:>8.1f} {t.widest[name]:>13,}")
    print(f"  {label} rows in all: {sum(t.rows.values()):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where all_article.zip and all_lcd.zip go")
    parser.add_argument("--articles", type=int, default=3000, help="article documents")
    parser.add_argument("--lcds", type=int, default=1100, help="LCD documents")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    args = parser.parse_args()
    if args.articles < 1 or args.lcds < 1:
        parser.error("--articles and --lcds must be at least 1")
    started = time.perf_counter()
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    world = make_world(rng, args.articles, args.lcds)
    pool = icd10_pool(rng)
    prose = Prose(rng)
    contractor_seed = rng.getrandbits(64)
    with tempfile.TemporaryDirectory(dir=out, prefix=".gen_mcd_") as tmp_name:
        tmp = Path(tmp_name)
        with Tables(tmp / "article", ARTICLE_HEADERS) as t:
            write_contractor_tables(t, world, random.Random(contractor_seed))
            write_articles(t, world, rng, prose, pool)
        pack(t, "all_article_csv.zip", tmp / "all_article_csv.zip", out / "all_article.zip")
        report("article", out / "all_article.zip", tmp / "all_article_csv.zip", t)
        with Tables(tmp / "lcd", LCD_HEADERS) as t:
            write_contractor_tables(t, world, random.Random(contractor_seed))
            write_lcds(t, world, rng, prose)
        pack(t, "all_lcd_csv.zip", tmp / "all_lcd_csv.zip", out / "all_lcd.zip")
        report("LCD", out / "all_lcd.zip", tmp / "all_lcd_csv.zip", t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"seed {args.seed}: {time.perf_counter() - started:.1f} s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
