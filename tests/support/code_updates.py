"""Later releases of the real sample code files, written in their own layouts for a test.

Each takes a file in ../shared/data and writes a modified copy under the test's
tmp_path, named as the next release would be, with a few codes added, deleted
and revised; the counts the comparison must find are listed beside each.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.support.corpus import DATA, HCPCS_ZIP

ICD10CM_ORDER = DATA / "cdc" / "icd10cm_order_April2025_excerpt.txt"
ICD10PCS_ORDER = DATA / "cms" / "icd10pcs_order_2023_excerpt.txt"
HCPCS_MEMBER = "HCPC2020_ANWEB_w_disclaimer.txt"
FORMULA = '=HYPERLINK("http://evil.example","Typhoid arthritis")'

# What each update changes, as the comparison names the codes.
ICD10CM_CHANGES = {
    "added": ["A01.40", "A02.24"],
    "deleted": ["A00.1"],
    "revised": ["A00.9", "A01.04", "A01.05", "A01.4"],
}
HCPCS_CHANGES = {
    "added": ["A0101"],
    "deleted": ["A0080", "A0110"],
    "revised": ["A0021", "A0100", "J1100"],
}
ICD10PCS_CHANGES = {"added": ["0016079"], "deleted": ["0016071"], "revised": ["0016072"]}


def order_line(number: int, code: str, flag: int, short: str, long: str) -> str:
    """A line of the CMS/CDC order file: order number, code, flag, short and long titles."""
    return f"{number:05d} {code:<7} {flag} {short[:60]:<60} {long}"


def _fields(line: str) -> tuple[str, int, str, str]:
    return line[6:13].strip(), int(line[14]), line[16:76].strip(), line[77:]


def _rewrite(source: Path, changes: dict[str, object], added: dict[str, list[str]]) -> list[str]:
    """The file's lines with codes dropped (None), rewritten ((flag, short, long)) or
    followed by new lines (``added``: code -> lines after it)."""
    out = []
    for line in source.read_text().splitlines():
        code = _fields(line)[0] if line and not line.startswith("#") else ""
        change = changes.get(code, "keep")
        if change is None:
            continue
        if isinstance(change, tuple):
            line = order_line(int(line[:5]), code, *change)
        out += [line, *added.get(code, [])]
    return out


def icd10cm_october_2025(folder: Path) -> Path:
    """The April 2025 ICD-10-CM order file excerpt as the October 2025 update would have it."""
    _, _, a009_short, _ = _fields(_line(ICD10CM_ORDER, "A009"))
    lines = _rewrite(
        ICD10CM_ORDER,
        {
            "A001": None,
            "A009": (1, a009_short, "Cholera, unspecified type"),
            "A0104": (1, "Typhoid arthritis", FORMULA),
            "A0105": (1, "-Typhoid osteomyelitis", "Typhoid osteomyelitis"),
            "A014": (0, "Paratyphoid fever, unspecified", "Paratyphoid fever, unspecified"),
        },
        {
            "A014": [
                order_line(
                    17,
                    "A0140",
                    1,
                    "Paratyphoid fever, unsp, new",
                    "Paratyphoid fever, unspecified, a new code",
                )
            ],
            "A0223": [
                order_line(25, "A0224", 1, "Salmonella osteomyelitis", "Salmonella osteomyelitis")
            ],
        },
    )
    path = folder / "icd10cm_order_October2025_excerpt.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def icd10pcs_2024(folder: Path) -> Path:
    """The ICD-10-PCS 2023 order file excerpt as FY2024 would have it."""
    lines = _rewrite(
        ICD10PCS_ORDER,
        {
            "0016071": None,
            "0016072": (
                1,
                "Bypass Cereb Vent to Atrium w Autol Sub, Open",
                "Bypass Cerebral Ventricle to Right Atrium with Autologous Tissue Substitute, "
                "Open Approach",
            ),
        },
        {
            "0016078": [
                order_line(
                    10,
                    "0016079",
                    1,
                    "Bypass Cereb Vent to Bone w Autol Sub, Open",
                    "Bypass Cerebral Ventricle to Bone with Autologous Tissue Substitute, "
                    "Open Approach",
                )
            ]
        },
    )
    path = folder / "icd10pcs_order_2024_excerpt.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _line(source: Path, code: str) -> str:
    return next(
        line
        for line in source.read_text().splitlines()
        if line and not line.startswith("#") and _fields(line)[0] == code
    )


def _columns(record: bytes, first: int, value: str) -> bytes:
    """``record`` with ``value`` written from column ``first`` (1-based), as wide as it is."""
    encoded = value.encode("latin-1")
    return record[: first - 1] + encoded + record[first - 1 + len(encoded) :]


def hcpcs_april_2020(folder: Path) -> Path:
    """The 2020 annual HCPCS file as the April 2020 quarterly update would ship it: A0080
    gone, A0110 discontinued on 31 March, A0101 new, A0100 and A0021 reworded, J1100's
    short description changed."""
    with zipfile.ZipFile(HCPCS_ZIP) as archive:
        records = archive.read(HCPCS_MEMBER).split(b"\r\n")
    out = []
    for record in records:
        code = record[:5]
        if code == b"A0080":
            continue
        if code == b"A0100" and record[10:11] == b"3":
            record = _columns(record, 12, "Non-emergency transportation; taxi, per trip".ljust(80))
            out.append(record)
            added = _columns(record, 1, "A0101")
            record = _columns(added, 12, "Constructed transport code of a test".ljust(80))
        elif code == b"A0110":
            record = _columns(_columns(record, 285, "20200331"), 293, "D")
        elif code == b"A0021":
            record = _columns(record, 12, '=HYPERLINK("http://evil.example","Ambulance")'.ljust(80))
        elif code == b"J1100":
            record = _columns(record, 92, "Dexamethasone sod phos 1 mg".ljust(28))
        out.append(record)
    path = folder / "HCPC2020_APR_ANWEB.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("HCPC2020_APR_ANWEB_w_disclaimer.txt", b"\r\n".join(out))
    return path
