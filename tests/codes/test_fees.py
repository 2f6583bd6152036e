"""What Medicare pays: the PFS RVUs, GPCI, locality and lab fee schedule files, and the
amounts computed from them, checked against sums worked by hand.

Every file here is CONSTRUCTED (../shared/data/PROVENANCE.md): the figures are
made up and only test the arithmetic and the layouts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultant.codes.cms_edits import CmsEditLookups
from consultant.codes.fees import FeeLookups, FeeResult, Locality, adjusted
from consultant.codes.importers import importer_for
from consultant.codes.importing import ImportOptions, ImportResult, import_release
from consultant.codes.sources import CodeImportError
from consultant.codes.tables import CodeRelease, GpciValue
from consultant.db import Database
from tests.support.corpus import (
    CLFS_FILE,
    GPCI_FILE,
    LOCALITY_FILE,
    PAYMENT_FILES,
    PFS_2027_FILE,
    PFS_FILE,
)

JAN_2027 = date(2027, 1, 15)
NOV_2026 = date(2026, 11, 15)


def load(db: Database, kind: str, path: Path, **options: object) -> ImportResult:
    return import_release(db, importer_for(kind), [path], ImportOptions(**options))


@pytest.fixture
def fees(db: Database) -> FeeLookups:
    for kind, path in PAYMENT_FILES:
        load(db, kind, path)
    return FeeLookups(CmsEditLookups(db))


def miami(fees: FeeLookups) -> Locality:
    (found,) = fees.localities(JAN_2027, place="Miami").found
    return found


# -- importing ---------------------------------------------------------------


def test_payment_files_are_releases_named_by_their_files(db: Database) -> None:
    releases = {
        kind: load(db, kind, path).release
        for kind, path in (("gpci", GPCI_FILE), ("locality", LOCALITY_FILE), ("clfs", CLFS_FILE))
    }
    assert {k: (r["version"], r["effective"]) for k, r in releases.items()} == {
        "gpci": ("2027", "2027-01-01"),
        "locality": ("2027", "2027-01-01"),
        "clfs": ("2026 Q4", "2026-10-01"),
    }
    with db.session() as session:
        rows = session.execute(
            select(GpciValue.state, GpciValue.locality, GpciValue.name).order_by(
                GpciValue.mac, GpciValue.locality
            )
        ).all()
    assert rows[:3] == [
        ("FL", "03", "FORT LAUDERDALE"),
        ("FL", "04", "MIAMI"),
        ("PR", "20", "PUERTO RICO"),
    ]


def test_pfs_rvu_columns_and_a_release_without_them(db: Database) -> None:
    assert load(db, "pfs", PFS_FILE).rows == 18
    assert load(db, "pfs", PFS_2027_FILE).rows == 13
    with db.session() as session:
        details = dict(session.execute(select(CodeRelease.version, CodeRelease.details)).all())
    assert details == {"2026-Oct-nonQPP": {"rvus": False}, "2027-Jan-nonQPP": {"rvus": True}}


def test_a_bad_gpci_names_the_line_and_keeps_the_previous_release(
    db: Database, tmp_path: Path
) -> None:
    load(db, "gpci", GPCI_FILE)
    bad = tmp_path / "GPCI2028.csv"
    bad.write_bytes(
        GPCI_FILE.read_bytes().replace(b'"1.066"', b'"1.O66"').replace(b"1.066", b"1.O66")
    )
    with pytest.raises(CodeImportError) as raised:
        load(db, "gpci", bad)
    assert str(raised.value) == "GPCI2028.csv line 6: PE GPCI '1.O66' is not a number"
    with db.session() as session:
        assert session.scalar(select(func.count(CodeRelease.id))) == 1
    kept = FeeLookups(CmsEditLookups(db)).localities(JAN_2027, place="Miami").found[0]
    assert kept.pe == Decimal("1.066")


def test_a_file_without_its_release_in_the_name_asks_for_it(db: Database, tmp_path: Path) -> None:
    unnamed = tmp_path / "lab_rates.csv"
    unnamed.write_bytes(CLFS_FILE.read_bytes())
    with pytest.raises(CodeImportError, match="pass --version and --effective"):
        load(db, "clfs", unnamed)
    result = load(db, "clfs", unnamed, version="2027 Q1", effective=date(2027, 1, 1))
    assert result.release["version"] == "2027 Q1"


# -- localities ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"place": "Miami"}, ["99101/04"]),
        ({"place": "miami-dade"}, ["99101/04"]),
        ({"place": "99101/04"}, ["99101/04"]),
        ({"state": "FL", "county": "Dade"}, ["99101/04"]),
        ({"state": "Florida", "county": "Palm Beach"}, ["99101/03"]),
        ({"state": "FL", "county": "Orange"}, ["99101/99"]),
        ({"state": "OK"}, ["99202/00"]),
        ({"place": "99"}, ["99101/99", "99202/99"]),
        # A city is no county: it falls in no locality rather than the rest of the state.
        ({"place": "Hialeah", "state": "FL"}, []),
        ({"place": "Lake Monroe", "state": "FL"}, []),
        ({"state": "FL", "county": "Monroe County"}, ["99101/04"]),
    ],
)
def test_localities_by_name_county_or_number(
    fees: FeeLookups, where: dict[str, str], expected: list[str]
) -> None:
    found = fees.localities(JAN_2027, **where).found
    assert [f"{loc.mac}/{loc.number}" for loc in found] == expected


def test_a_state_of_several_localities_needs_the_county(fees: FeeLookups) -> None:
    result = fees.localities(JAN_2027, state="TX")
    assert result.message == "TX has 2 localities: name the county"


# -- amounts -------------------------------------------------------------------


def test_amount_in_a_locality_worked_by_hand(fees: FeeLookups) -> None:
    result = fees.fee("20610", "", miami(fees), JAN_2027)
    # non-facility: (0.79 x 1.000 + 0.95 x 1.066 + 0.10 x 2.310) x 33.8012
    #             = (0.79 + 1.0127 + 0.231) x 33.8012 = 2.0337 x 33.8012 = 68.7425 -> 68.74
    # facility:     (0.79 + 0.41 x 1.066 + 0.231) x 33.8012 = 1.45806 x 33.8012 = 49.2842 -> 49.28
    assert result.amounts["non_facility"] == {
        "amount": "68.74",
        "non_participating": "65.30",  # 68.74 x 0.95 = 65.303
        "limiting_charge": "75.10",  # 68.74 x 1.0925 = 75.098
        "formula": "(0.79 x 1.000 + 0.95 x 1.066 + 0.10 x 2.310) x 33.8012 = 68.74",
    }
    assert result.amounts["facility"]["amount"] == "49.28"
    assert result.release["version"] == "2027-Jan-nonQPP"
    assert result.gpci_release["version"] == "2027"
    assert result.locality["name"] == "MIAMI"


def test_professional_component_in_miami(fees: FeeLookups) -> None:
    result = fees.fee("71046", "26", miami(fees), JAN_2027)
    # (0.22 + 0.09 x 1.066 + 0.02 x 2.310) x 33.8012 = 0.36214 x 33.8012 = 12.2408 -> 12.24
    assert result.amounts["non_facility"]["amount"] == "12.24"
    assert result.pctc == "1" and "professional (26)" in (result.pctc_meaning or "")


def test_national_amount_without_a_locality(fees: FeeLookups) -> None:
    result = fees.fee("99213", "", None, JAN_2027)
    # (1.30 + 1.21 + 0.10) x 33.8012 = 88.2211 -> 88.22; facility 1.95 x 33.8012 = 65.9123
    assert [result.amounts[s]["amount"] for s in ("non_facility", "facility")] == ["88.22", "65.91"]
    assert result.gpci_release is None and result.locality is None


def test_a_setting_without_practice_expense_is_not_priced(fees: FeeLookups) -> None:
    result = fees.fee("27447", "", miami(fees), JAN_2027)
    assert "non_facility" not in result.amounts and "facility" in result.amounts
    assert "not priced in that setting" in result.not_priced["non_facility"]


def test_statuses_that_are_not_paid_give_no_amount(fees: FeeLookups) -> None:
    bundled = fees.fee("99100", "", miami(fees), JAN_2027)
    assert bundled.amounts == {} and bundled.message == (
        "status B: bundled: paid as part of other services, never separately"
    )


def test_no_amount_from_a_release_that_is_not_the_one_for_the_date(
    fees: FeeLookups, db: Database
) -> None:
    without_rvus = fees.fee("20610", "", None, NOV_2026)
    assert without_rvus.amounts == {}
    assert without_rvus.message == (
        "the PFS 2026-Oct-nonQPP as loaded gives no practice expense or malpractice RVUs"
    )
    later = fees.fee("20610", "", None, date(2027, 5, 3))
    assert later.amounts == {} and "is not the release for 2027-05-03" in (later.message or "")
    load(
        db, "gpci", GPCI_FILE.with_name("GPCI2027.csv"), version="2026", effective=date(2026, 1, 1)
    )
    old_gpci = FeeLookups(CmsEditLookups(db))
    assert old_gpci.fee("20610", "", miami(fees), JAN_2027).amounts  # the 2027 GPCIs answer
    assert old_gpci.fee("20610", "", miami(fees), date(2026, 12, 30)).amounts == {}


def test_the_gpcis_are_those_of_the_dates_year(fees: FeeLookups) -> None:
    stale = Locality("99101", "04", "FL", "MIAMI", Decimal(1), Decimal("9.999"), Decimal(9))
    assert fees.fee("20610", "", stale, JAN_2027).amounts["non_facility"]["amount"] == "68.74"


def test_a_lab_rate_applies_from_its_own_date(db: Database, tmp_path: Path) -> None:
    later = tmp_path / "CLFS2026Q4.csv"
    later.write_bytes(CLFS_FILE.read_bytes().replace(b"80048,,20260101", b"80048,,20261101"))
    load(db, "clfs", later)
    fees = FeeLookups(CmsEditLookups(db))
    assert fees.fee("80048", "", None, date(2026, 10, 15)).clfs is None
    assert fees.fee("80048", "", None, date(2026, 11, 15)).clfs["rate"] == "8.46"


def test_lab_codes_get_the_clfs_rate(fees: FeeLookups) -> None:
    draw = fees.fee("36415", "", None, NOV_2026)
    waived = fees.fee("87635", "QW", None, NOV_2026)
    assert draw.clfs["rate"] == "3.00" and draw.clfs["release"]["version"] == "2026 Q4"
    assert waived.clfs["rate"] == "51.31"
    assert fees.fee("36415", "", None, date(2027, 2, 1)).clfs is None  # Q4 is over


def test_multiple_procedure_and_bilateral_adjustments(fees: FeeLookups) -> None:
    place = miami(fees)
    results: list[FeeResult] = [fees.fee(c, "", place, JAN_2027) for c in ("20610", "20611")]
    # 20611: (1.10 + 1.32 x 1.066 + 0.14 x 2.310) x 33.8012 = 2.83052 x 33.8012 = 95.67497 -> 95.67
    apart = adjusted(results, {}, "non_facility")
    assert [(x["code"], x["percent"], x["adjusted"]) for x in apart] == [
        ("20611", 100, "95.67"),
        ("20610", 50, "34.37"),  # 68.74 x 50% = 34.37
    ]
    # Bilateral first: 20610-50 is 68.74 x 150% = 103.11, now the highest paid.
    both = adjusted(results, {"20610": ("50",)}, "non_facility")
    assert [(x["code"], x["base"], x["percent"], x["adjusted"]) for x in both] == [
        ("20610", "103.11", 100, "103.11"),
        ("20611", "95.67", 50, "47.84"),  # 95.67 x 50% = 47.835
    ]
    alone = adjusted(results, {"20610": ("50",)}, "non_facility", frozenset({"20611"}))
    assert [(x["code"], x["ranked"], x["adjusted"]) for x in alone] == [("20610", False, "103.11")]
