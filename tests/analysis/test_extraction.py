"""What the analysis reads from a question, rule by rule, on sentences a coder would write."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from consultant.analysis.analyze import analyze
from consultant.analysis.codes import find_codes, find_mentions
from consultant.analysis.dates import dates_of_service
from consultant.analysis.model import Setting, Units
from consultant.analysis.modifiers import HCPCS_MODIFIERS, MODIFIER_SYSTEM, find_modifiers
from consultant.analysis.phi import REDACTED, find_phi, redact
from consultant.analysis.setting import find_setting
from consultant.analysis.topics import ADDON_SYSTEM
from consultant.analysis.units import find_units
from tests.support.corpus import DATA

CPT, HCPCS, CM, PCS = "CPT", "HCPCS", "ICD-10-CM", "ICD-10-PCS"


# Codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Can 20956 be billed with 20902?", [(CPT, "20956"), (CPT, "20902")]),
        (
            "Is 3074F reportable with 0591T and 0001U?",
            [(CPT, "3074F"), (CPT, "0591T"), (CPT, "0001U")],
        ),
        ("How many units of J1885 and G0439?", [(HCPCS, "J1885"), (HCPCS, "G0439")]),
        ("Dx E11.9 and S52.521A", [(CM, "E11.9"), (CM, "S52.521A")]),
        ("dx e119, s52521a and i10", [(CM, "E11.9"), (CM, "S52.521A"), (CM, "I10")]),
        ("seen for s52.521a", [(CM, "S52.521A")]),
        ("Is 0DTJ4ZZ right?", [(PCS, "0DTJ4ZZ")]),
        ("ICD-10-PCS 0210093 for the bypass", [(PCS, "0210093")]),
        ("Debridement 11042-11047 today", [(CPT, "11042"), (CPT, "11047")]),
        ("We billed 99213-25 and 99213 again", [(CPT, "99213")]),
        ("CPT-99213 or CPT# 99214", [(CPT, "99213"), (CPT, "99214")]),
        ("sepsis A41.51, then N39.0 and I10", [(CM, "A41.51"), (CM, "N39.0"), (CM, "I10")]),
        ("Clinics in İSTANBUL and İZMİR: Dx I10", [(CM, "I10")]),
    ],
)
def test_codes_are_found_normalised_in_order_once(text: str, codes: list[tuple[str, str]]) -> None:
    assert find_codes(text) == codes


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("J1100 per 0.1 mg", [(HCPCS, "J1100")]),
        ("Dx J1100", [(CM, "J11.00")]),
        ("CPT 99213, Dx E11.9 and J1100", [(CPT, "99213"), (CM, "E11.9"), (CM, "J11.00")]),
        ("Dx E11.9 was billed with J1100", [(CM, "E11.9"), (HCPCS, "J1100")]),
        ("HCPCS J1100; diagnosis J1100", [(HCPCS, "J1100"), (CM, "J11.00")]),
        # Three-character categories and lower case need a keyword, or the data.
        ("Model I10 printer", []),
        ("e119", []),
        ("The N95 mask supply", []),
        # A seven-character token starting with a letter: PCS when it holds a Z.
        ("BW28ZZZ and B2111ZZ imaging", [(PCS, "BW28ZZZ"), (PCS, "B2111ZZ")]),
        ("New technology XW033E5", [(PCS, "XW033E5")]),
        ("H401131 glaucoma", [(CM, "H40.1131")]),
        ("PCS H401131", [(PCS, "H401131")]),
    ],
)
def test_ambiguous_shapes_are_settled_by_the_words_around(
    text: str, codes: list[tuple[str, str]]
) -> None:
    assert find_codes(text) == codes


def test_the_loaded_data_settles_what_the_words_do_not() -> None:
    icd_only = {(CM, "J11.00"), (CM, "I10"), (CM, "E11.9")}

    def known(system: str, code: str) -> bool:
        return (system, code) in icd_only

    assert find_codes("J1100 and I10 and e119", known) == [
        (CM, "J11.00"),
        (CM, "I10"),
        (CM, "E11.9"),
    ]
    assert find_codes("J1100 and I10 and e119") == [(HCPCS, "J1100")]
    # Words come first: the data is asked only where they say nothing.
    assert find_codes("HCPCS J1100", known) == [(HCPCS, "J1100")]


def test_a_diagnosis_the_words_point_to_gives_way_to_the_data() -> None:
    """ICD-10-CM ships with the product: a reading it does not hold is surely no diagnosis."""

    def known(system: str, code: str) -> bool:
        return (system, code) in {(HCPCS, "J0897"), (CM, "M81.0")}

    text = "Prolia units and dx\nProlia 60 mg subQ: J0897 x 60 units, dx M81.0"
    assert find_codes(text) == [(CM, "J08.97"), (CM, "M81.0")]  # the words alone: "dx"
    assert find_codes(text, known) == [(HCPCS, "J0897"), (CM, "M81.0")]
    # A weak shape in a list of diagnoses ("A1c up") is none when ICD-10-CM does not hold it.
    assert find_codes("diabetes follow-up (E11.65, A1c up)", known) == [(CM, "E11.65")]


def test_a_code_written_with_its_dot_is_no_identifier() -> None:
    text = "Ok so for the Q5106 claim: D64.81 first then C50.912?"
    assert find_codes(text) == [(HCPCS, "Q5106"), (CM, "D64.81"), (CM, "C50.912")]


def test_the_data_is_asked_only_where_the_shape_leaves_a_doubt() -> None:
    asked: list[tuple[str, str]] = []

    def known(system: str, code: str) -> bool:
        asked.append((system, code))
        return False

    assert find_codes("99213, 0DTJ4ZZ and E11.9. Then J1100", known) == [
        (CPT, "99213"),
        (PCS, "0DTJ4ZZ"),
        (CM, "E11.9"),
        (HCPCS, "J1100"),
    ]
    assert asked == [(HCPCS, "J1100"), (CM, "J11.00")]


@pytest.mark.parametrize(
    "text",
    [
        "Sun Valley Urology, 4410 Palm Ave, Tucson, AZ 85710",
        "Tucson AZ 85710-1234",
        "Mail to 12345 Main Street, Denver, CO 80202",
        "Phone: (334) 555-9349, fax 334-555-9350, cell +1 334 555 9351",
        "The allowed amount was $20956.00, billed 20956.00 dollars, USD 12345",
        "NPI 1234567890, Tax ID 12-3456789, TIN 123456789",
        "claim # 12345, claim number 9250125786, member ID 44817, account #425311",
        "order no. 80053, confirmation number 99213, prior authorization 12345",
        "case reference CC-000123, PA-425311, denial code CO-197",
        "In 2026, 10 mg IV, 10000 units of heparin, a 70-year-old, at 10:30",
        "DOS 10/01/2026, 2026-10-01, March 3, 2026",
        "The 837 export is saved in C:\\claims\\new\\batch_4338582551.txt on our side.",
        "See https://portal.example.org/claims/20956/detail or /srv/exports/99213.csv",
        "Attached: 99213.pdf and op note 2026-10-01.pdf",
        "Our PO is 45378; PO# 45379, purchase order 45380, invoice is 45381",
        "Per the LCD (L33718) and Article A57001, see also NCD 220.6",
        "Denied CO-97 with remark M15 and N130; RARC N657, MA130; CARC 16; reason code 97",
        "Remark codes: M15, N130 and N657. Our ref 45820.",
        # A remark code after a reason code with its group, a count, a number said to be one.
        "Line 3 Adj: CO-151 N362; PR-204, M15",
        "Depo-Provera 150 mg, x150",
        "Our account number is 20610-B; the tax-exempt certificate number is 27447-TX",
        "Remit came back with N362 on line 3. Claim 26097-00031 rejected.",
        "flu clinic Saturday, x150 Medicare pts scheduled",
        "Ms. Tran, G2P1, scheduled repeat c-section. Post-payment review 26-PI-04418.",
    ],
)
def test_numbers_that_only_look_like_codes_are_not_codes(text: str) -> None:
    assert find_codes(text) == []


def test_a_document_number_beside_a_real_code_leaves_the_code() -> None:
    text = "Per the LCD (L33718), is 20610 covered with M17.11? Our PO is 45378."
    assert find_codes(text) == [("CPT", "20610"), ("ICD-10-CM", "M17.11")]


def test_a_signature_block_gives_no_codes() -> None:
    text = (
        "Is 52214 inside the global of 52601?\n--\nLuis Romero, CPC\nSun Valley Urology\n"
        "4410 Palm Ave, Suite 20930, Tucson, AZ 85710\nPhone (520) 555-0199 | Fax 520-555-0198\n"
        "NPI 1234567890"
    )
    assert find_codes(text) == [(CPT, "52214"), (CPT, "52601")]


# Modifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "modifiers"),
    [
        ("Can I bill 99213-25 with 11102?", ["25"]),
        ("Do we need -59 here?", ["59"]),
        ("would modifier 59 or XS bypass the edit", ["59", "XS"]),
        ("mod XS on the second one", ["XS"]),
        ("mod xs on the second one", ["XS"]),
        ("Or is it 66984 with 50?", ["50"]),
        ("therapy 97110 GP KX", ["GP", "KX"]),
        ("GP KX on every line", ["GP", "KX"]),
        ("bilateral, RT/LT or 50", ["RT", "LT", "50"]),
        ("do we need JW or JZ", ["JW", "JZ"]),
        # Named by what is done with them, not by the word "modifier".
        ("Can we bill 99213 with the 25 when 11102 is done?", ["25"]),
        ("Return to the OR for 27447: is it 58 or 78?", ["58", "78"]),
        ("Do I append 79 to 20610, or 58?", ["79", "58"]),
        ("For telehealth 99214, use GT instead of 95?", ["GT", "95"]),
        ("Anesthesia 00790 with physical status P3", ["P3"]),
        ("Screening 45378 turned diagnostic: plus PT? Or is it 33?", ["PT", "33"]),
        ("59 or XS?", ["59", "XS"]),
        ("Modifier 78 or 79?", ["78", "79"]),
        ("Do we need the KX modifier?", ["KX"]),
        ("the 25 modifier", ["25"]),
        ("modifiers: 24, 57", ["24", "57"]),
        ("Telehealth modifier for video: do we use 95, or has GT come back?", ["95", "GT"]),
        ("45380 with XS denied. Is 59 better for Aetna?", ["XS", "59"]),
        ("Is this a real edit? Would 59 fix it or is XS the better choice?", ["59", "XS"]),
        ("Is PT the right modifier, or is 33 what Medicare wants?", ["PT", "33"]),
        ("Global. 58 because it was staged, or 79? Don't think 78 fits.", ["58", "79", "78"]),
        ("Still in the 90-day global - 79 on that?", ["79"]),
        ("She wants 25 on the ED visit for the E/M.", ["25"]),
        ("billable together? do we need 59/XS or is RT/LT enough", ["59", "XS", "RT", "LT"]),
        ("so is it QK on the MD line and QX on the CRNA line, or QY?", ["QK", "QX", "QY"]),
        ("82947 x4 on one line, or 1 unit each with 91 on the repeats?", ["91"]),
        ("Is it KX for insulin-treated and KS for non-insulin?", ["KX", "KS"]),
    ],
)
def test_modifiers_however_written(text: str, modifiers: list[str]) -> None:
    assert find_modifiers(text, find_mentions(text)).named == modifiers


@pytest.mark.parametrize(
    "text",
    [
        "Patient is on day 30 of the global period, with 50 patients a day.",
        "We saw 25 and 59 new patients.",
        "Please GO ahead; the PO dose; the RT session.",
        "Atlanta, GA 30301 and Denver, CO 80202",
        "Denied as CO-59 and CO-45 on 10/25/2026",
        "Which modifiers go on this claim?",
        "We add 25 units of J1100; use 50 mg; the 50 states differ; is it 99213 or 99214?",
        "The PT evaluation 97161 and the 25 minutes of 97110",
        "Can you reissue the invoice with that PO on it?",
        "Seen at 12:50? It was denied.",
    ],
)
def test_numbers_and_words_are_not_modifiers(text: str) -> None:
    assert find_modifiers(text, find_mentions(text)).named == []


def test_modifiers_are_tied_to_the_code_the_text_puts_them_on() -> None:
    text = "66984-RT and later 66984-LT with modifier 79; 99213-25 with 11102; modifier 59 on 29877"
    mentions = find_mentions(text)
    found = find_modifiers(text, mentions)
    tied = {mentions[i].code: mods for i, mods in found.tied.items()}
    assert found.named == ["RT", "LT", "79", "25", "59"]
    assert tied == {"66984": ["LT", "79"], "99213": ["25"], "29877": ["59"]}
    assert [m.code for m in mentions].count("66984") == 2
    assert found.tied[0] == ["RT"]


def test_analysis_merges_the_modifiers_of_every_mention_of_a_code() -> None:
    analysis = analyze("bilateral cataract", "66984-RT and later 66984-LT with modifier 79?")
    assert [(c.code, c.modifiers) for c in analysis.codes] == [("66984", ("RT", "LT", "79"))]


def test_other_hcpcs_modifiers_come_from_the_loaded_data() -> None:
    text = "27447-AS with modifier QK"

    def known(system: str, code: str) -> bool:
        return system == MODIFIER_SYSTEM and code == "AS"

    assert find_modifiers(text, find_mentions(text)).named == ["QK"]
    assert find_modifiers(text, find_mentions(text), known).named == ["AS", "QK"]
    # Asked for in so many words: "do we need GG?", "do we append PI?".
    asked = "Both mammograms the same day: do we need GG? For the PET do we append PI?"
    assert find_modifiers(asked, find_mentions(asked)).named == []
    everything = find_modifiers(asked, find_mentions(asked), lambda s, c: s == MODIFIER_SYSTEM)
    assert everything.named == ["GG", "PI"]
    listed = "00142 with QS. Do we report both QS and G8, or only one of them?"
    assert find_modifiers(listed, find_mentions(listed)).named == ["QS"]
    with_data = find_modifiers(listed, find_mentions(listed), lambda s, c: s == MODIFIER_SYSTEM)
    assert with_data.named == ["QS", "G8"]


def test_a_table_column_holds_modifiers_the_data_knows() -> None:
    text = "Code    Mods      Time\n00142   QK P2     38 min\n01402   AA P3     112 min\n"

    def known(system: str, code: str) -> bool:
        return system == MODIFIER_SYSTEM and code == "AA"

    assert find_modifiers(text, find_mentions(text)).named == ["QK", "P2"]
    assert find_modifiers(text, find_mentions(text), known).named == ["QK", "P2", "AA", "P3"]
    # Not a word in capitals that the data happens to know ("AT" is a modifier too).
    shout = "CAN 99291 AT THE SAME TIME BE BILLED"
    assert find_modifiers(shout, find_mentions(shout), lambda s, c: True).named == []


def test_the_data_is_asked_about_few_words_in_capitals() -> None:
    """Each question to the data may be a lookup, and budgeted per message."""
    asked: list[str] = []

    def known(system: str, code: str) -> bool:
        asked.append(code)
        return code == "G8"

    text = "CAN WE BILL 99291 AT THE SAME TIME IN THE ED IF HE IS ON IT? QS AND G8?"
    assert find_modifiers(text, find_mentions(text), known).named == ["QS", "G8"]
    assert asked == ["G8"]


def test_built_in_hcpcs_modifiers_are_real_ones() -> None:
    path = DATA / "cms" / "HCPCS2020_level2_modifiers_derived.tsv"
    with path.open(newline="") as file:
        in_2020 = {row["MOD"] for row in csv.DictReader(file, delimiter="\t")}
    assert HCPCS_MODIFIERS - in_2020 == {"FQ", "FR", "FS", "FT", "JZ"}  # added by CMS since


# Units ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        (
            "20610 x 2 and 4 units of J1885",
            [Units(2, "20610", "x 2"), Units(4, "J1885", "4 units")],
        ),
        ("J1885 3 units", [Units(3, "J1885", "3 units")]),
        ("J1100-JW x 3 units", [Units(3, "J1100", "3 units")]),
        ("two units of 96372", [Units(2, "96372", "two units")]),
        ("We gave 40 units.", [Units(40, None, "40 units")]),
        (
            "units for 27447 were reduced from 4 to 1",
            [Units(4, "27447", "from 4"), Units(1, "27447", "to 1")],
        ),
        ("Dexamethasone 10 mg IV: how many units of J1100?", []),
        ("a 3 x 4 cm lesion, 11042", []),
        # A diagnosis takes no units: the count is left untied, never given to it.
        ("We gave J1100 with Dx M54.5, 155 units.", [Units(155, None, "155 units")]),
        ("J1100 x 155 units for M54.5", [Units(155, "J1100", "155 units")]),
        ("M54.5 x 2", []),
    ],
)
def test_units(text: str, units: list[Units]) -> None:
    assert find_units(text, find_mentions(text)) == units


def test_a_code_carries_the_units_said_of_it() -> None:
    analysis = analyze("", "Billed 4 units of J1885 and 96372.")
    assert [(c.code, c.units) for c in analysis.codes] == [("J1885", 4), ("96372", None)]


# Dates of service -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("DOS 09/30/2026", [date(2026, 9, 30)]),
        ("the date of service is 05/02/2024.", [date(2024, 5, 2)]),
        ("Surgery on 10/01/2026, follow-up on 10/15/26", [date(2026, 10, 1), date(2026, 10, 15)]),
        ("seen on March 3, 2026", [date(2026, 3, 3)]),
        ("performed on 2026-10-01", [date(2026, 10, 1)]),
        ("DOS 10/01/2026-10/03/2026", [date(2026, 10, 1), date(2026, 10, 3)]),
        ("Patient Robert Miller, DOB 07/22/1961, seen on 09/30/2026", [date(2026, 9, 30)]),
        ("born on 1 March 1961", []),
        ("We submitted a claim for 64483 on\n02/02/2024 and it was denied.", []),
        ("The authorization was valid through 03/05/2024.", []),
        ("Denied on 10/05/2026.", []),
        ("on 13/45/2026", []),
    ],
)
def test_dates_of_service_not_birth_or_claim_dates(text: str, dates: list[date]) -> None:
    assert dates_of_service(text) == dates


# Setting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("POS 11, Medicare", Setting("office", "medicare", 11)),
        ("place of service 22 for Medicaid", Setting("facility", "medicaid", 22)),
        ("done in the office, Aetna plan", Setting("office", "commercial", None, "Aetna")),
        ("in the ASC, Tricare", Setting("facility", "tricare")),
        ("returns to the OR; Medicare Advantage", Setting("facility", "medicare_advantage")),
        (
            "outpatient hospital, BCBS",
            Setting("facility", "commercial", None, "Blue Cross Blue Shield"),
        ),
        ("non-facility rate, commercial payer", Setting("office", "commercial")),
        ("Office Manager, or a mac", Setting()),
        ("IS IT 99213 OR 99214?", Setting()),
    ],
)
def test_setting(text: str, setting: Setting) -> None:
    assert find_setting(text) == setting


# Topics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "text", "topics"),
    [
        ("NCCI", "Is 29877 bundled with 29880?", {"ncci"}),
        ("", "Are 80053 and 80048 payable on the same day?", {"ncci"}),
        ("", "Can 20956 be billed with 20902?", {"ncci"}),
        ("", "Is there a PTP edit between 45378 and 43239?", {"ncci"}),
        ("", "Does 20610 need modifier 59?", {"modifier"}),
        ("", "How many units of J1100 per day?", {"mue"}),
        ("", "Is 52214 inside the global period of 52601?", {"global"}),
        ("", "Is 52214 billable post-op?", {"global"}),
        ("", "52214 with modifier 78", {"global", "modifier"}),
        (
            "",
            "Is 20930 an add-on, and which primary code does it need?",
            {"addon"},
        ),
        ("", "Can we bill +20930 with 22612?", {"addon"}),
        ("", "Is a level 4 E/M supported by the MDM?", {"em"}),
        ("", "99214 for a new problem", {"em"}),
        ("", "Prolonged services with 99417?", {"em"}),
        ("", "A41.51 first, then N39.0?", {"diagnosis"}),
        ("sepsis sequencing", "A41.51 and N39.0", {"diagnosis"}),
        ("", "Does Excludes1 at E11 stop us coding E10.9 with it?", {"diagnosis"}),
        ("", "Was the UTI present on admission?", {"diagnosis"}),
        ("", "Does Medicare cover E0143?", {"coverage"}),
        ("", "Is it medically necessary, and do we need an ABN?", {"coverage"}),
        ("", "99213 with GA", {"coverage", "modifier", "em"}),
        ("", "Which diagnosis goes with 20610 for knee pain?", {"crosswalk"}),
        ("", "Is the diagnosis pointer right on line 2?", {"crosswalk"}),
        ("", "Is it 93010 or 93000-26?", {"code_selection", "modifier"}),
        ("", "47562 vs 47563", {"code_selection"}),
        ("", "Is 0DTJ4ZZ correct?", {"code_selection"}),
        ("", "What is the correct code for a lap chole?", {"code_selection"}),
        ("", "Can 93320 and 93325 be billed in addition to 93306?", {"ncci"}),
        ("", "Cystoscopy 52000 and a foley 51702. Billable together?", {"ncci"}),
        ("", "Nurse-only visit for J1050 x150 and 96372. Can we bill 99211 too?", {"ncci", "em"}),
        ("", "Is the counseling part of the insertion (58300)?", {"ncci"}),
        ("", "Or does 31237-LT cover it all?", {"ncci", "modifier"}),
        ("", "Neulasta: 12 units for the 6 mg? J2506", {"mue"}),
        ("", "11042 x1 and 11045 x how many?", {"mue"}),
        ("", "Is 20930 reported once per case or per level?", {"mue"}),
        ("", "We billed 20610-50 with J7325 x 96 and it got cut to 48.", {"modifier"}),
        ("", "For 71046 do we bill with TC, or can we bill global?", {"modifier"}),
        ("", "Preop ECG 93000 for cataract surgery, dx Z01.810.", set()),
        ("", "Can we bill 99213 for the post-op visit?", {"em", "global"}),
        ("", "Infusion visit for Q5106. D63.0 first, or C50.911 first?", {"diagnosis"}),
        ("", "T81.41XA + L03.311?", {"diagnosis"}),
        ("S52.521A or D?", "Ortho sees her for a cast check.", {"diagnosis"}),
        ("", "Is Z79.4 the only dx needed?", {"diagnosis"}),
        ("", "M25.561 vs M17.11 on the 20610 line?", {"diagnosis", "crosswalk"}),
        ("", "Does R51.9 support 70450 under the LCD?", {"crosswalk", "coverage"}),
        ("", "S52.501D? Or S52.501S?", {"diagnosis", "code_selection"}),
        ("", "Do I use F6 and F7, or just 59 on the second line?", {"modifier"}),
        ("", "Does the patient owe coinsurance now?", {"coverage"}),
        ("", "Does BCBS take G0283 or want 97014?", {"coverage", "code_selection"}),
        ("", "So is general supervision enough for the MA's time to count?", {"coverage"}),
        ("", "Hinged knee brace L1833. Does it need KX?", {"coverage", "modifier"}),
        ("", "For Medicare we use G2212 instead, right?", {"code_selection"}),
        ("", "Do we drop G0121 and bill 45385?", {"code_selection"}),
        ("", "Report 3074F + 3078F + 3044F?", {"code_selection"}),
        ("", "They downcoded our 99215 to 99214.", {"em", "code_selection"}),
        ("", "Which admin codes for the vaccines?", {"code_selection"}),
        ("", "Can we bill 99244, or must we use 99204?", {"em", "code_selection"}),
        ("", "Is D51.0 enough as the dx, or do we need E53.8 with it?", {"crosswalk", "diagnosis"}),
        (
            "",
            "Healing fine.\nS42.201A or S42.201D for this visit?",
            {"diagnosis", "code_selection"},
        ),
        ("", "Z12.31 on the 77067 and N63.10 on the 77065 - right?", {"crosswalk"}),
        ("", "So is that 31237 or do we stay with 31231?", {"code_selection"}),
        ("", "Does Medicare even still pay audio-only from home?", {"coverage"}),
        ("", "What does Medicare pay for 71046-26 in Miami?", {"payment", "modifier"}),
        ("", "What's the allowed amount for 99213 in the office?", {"payment", "em"}),
        ("", "And will Medicare pay for it as a screening at all?", {"coverage"}),
        ("", "Can we bill 93571 too, and is it once per vessel?", {"ncci", "mue"}),
        ("", "Rejected: diagnosis M25.56 invalid/truncated.", {"diagnosis"}),
        ("", "Dx E55.9 and Z13.21. Which one supports the test?", {"crosswalk", "diagnosis"}),
        ("", "She's on metformin in addition to the insulin.", set()),
        ("", "Would R13.14 or K22.2 have supported it?", {"crosswalk", "diagnosis"}),
        ("", "PT eval: exam covered 3 body regions. 97161 or 97162?", {"code_selection"}),
        ("", "Can 31500 and 36556 be billed on top of the 99291?", {"ncci", "em"}),
        ("", "Do we switch 00812 to 00811?", {"code_selection"}),
        (
            "",
            "99232-24 on POD 4, and A or D on the post op visits?",
            {"diagnosis", "global", "em", "modifier"},
        ),
        ("", "The radiologist only did the non-contrast sequences.", set()),
        ("", "29880 + 29877 same knee.", set()),
        ("", "Pelvic pain, same visit as the 20610.", set()),
        ("", "Line CPT Mod Units\n1 22612 1\n2 22840 1", set()),
        # What is only named is not a topic; modifier 25 on an E/M is about the modifier.
        ("", "Dx M23.221. Can I bill 99213-25 with 11102?", {"modifier", "em"}),
        ("", "66984-RT, then later 66984-LT", {"modifier"}),
        ("", "ICD-10 guidelines for I10", {"diagnosis"}),
        ("", "Thanks, just checking.", set()),
    ],
)
def test_topics(subject: str, text: str, topics: set[str]) -> None:
    assert set(analyze(subject, text).topics) == topics


def test_an_add_on_code_is_told_by_the_loaded_add_on_edits() -> None:
    def known(system: str, code: str) -> bool:
        return system == ADDON_SYSTEM and code == "99417"

    text = "99205 with 99417: how many units?"
    assert "addon" not in analyze("", text).topics
    assert "addon" in analyze("", text, known).topics
    assert "addon" in analyze("", "Can we bill +99417 with 99205?").topics


# PHI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds", "removed"),
    [
        ("Patient: Robert Miller, DOB 07/22/1961", ["dob", "patient_name"], "Robert Miller"),
        ("Robert Miller, DOB 07/22/1961, seen today", ["dob", "patient_name"], "Robert Miller"),
        ("MRN 44817203", ["mrn"], "44817203"),
        ("SSN 123-45-6789", ["ssn"], "123-45-6789"),
        ("Medicare ID 1EG4-TE5-MK72", ["member_id"], "1EG4-TE5-MK72"),
        ("MBI 1EG4TE5MK72", ["member_id"], "1EG4TE5MK72"),
        ("member ID W123456789", ["member_id"], "W123456789"),
        ("subscriber # XJ4417720", ["member_id"], "XJ4417720"),
        ("The patient's cell is (555) 123-4567.", ["phone"], "(555) 123-4567"),
        ("Pt can be reached at 555-123-4567", ["phone"], "555-123-4567"),
        # A name is PHI without a date of birth when the text says whose it is.
        ("Our patient Harold Jenkins had 45378.", ["patient_name"], "Harold Jenkins"),
        ("patient Jane Doe was seen for 99213", ["patient_name"], "Jane Doe"),
        ("Mr. John Carter came in for 99213", ["patient_name"], "Carter"),
        ("Ms. Alvarez had 20610", ["patient_name"], "Alvarez"),
        ("dob 14 March 1962", ["dob"], "1962"),
        ("social 123 45 6789", ["ssn"], "6789"),
        ("Patient: HOLLOWAY, JUNE Member ID: WQT882145009", ["member_id", "patient_name"], "JUNE"),
        (
            "Member: Jacob Stein DOB: 11/02/1988 ID: QAB7730291",
            ["dob", "member_id", "patient_name"],
            "QAB7730291",
        ),
        (
            "Pt: Rahul Mehta\nPhone on file (cell): 734-555-0123",
            ["patient_name", "phone"],
            "734-555-0123",
        ),
        ("Member: Jane Holt Subscriber ID XJK44829110", ["member_id", "patient_name"], "Holt"),
        ("Report attached (Coleman_Bryce_DOB_040561_panel.pdf).", ["dob", "patient_name"], "Bryce"),
        ("Mrs. Delgado (DOB 12-Jan-1950) had 82947", ["dob", "patient_name"], "1950"),
        ("Ms. Tran (DOB 07/30/91, cb 713-555-0124)", ["dob", "patient_name", "phone"], "0124"),
    ],
)
def test_phi_is_found_and_removed(text: str, kinds: list[str], removed: str) -> None:
    assert find_phi(text).kinds == kinds
    assert removed not in redact(text)
    assert REDACTED in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks,\nAmy Park\nPhone: (334) 555-9349\nFax 334-555-9350",
        "Policy number pending; member services said to call.",
        "Patient: new patient visit with 99204",
        "The claim number is 9250125786 and the NPI is 1234567890.",
        "The patient had 99213; patient was seen in the ER; PT evaluation 97161.",
        "Thanks, Amy Park (billing) on the Patient Portal",
        "Request ID: PA4471902 for the clinic",
    ],
)
def test_what_is_not_phi(text: str) -> None:
    assert find_phi(text).found is False


def test_a_patient_phone_keeps_the_words_around_it() -> None:
    assert (
        redact("His phone is 555-123-4567, billed 99213")
        == f"His phone is {REDACTED}, billed 99213"
    )


# The whole analysis ---------------------------------------------------------------------


def test_analysis_as_json() -> None:
    analysis = analyze(
        "denied claim",
        "Patient: Robert Miller, DOB 07/22/1961. Medicare, POS 11.\n"
        "We billed 99204 and 93000-26 x 1 on 09/30/2026. Dx R00.2. Is 93000 bundled?",
    )
    assert analysis.as_json() == {
        "codes": [
            {"system": CPT, "code": "99204", "modifiers": [], "units": None},
            {"system": CPT, "code": "93000", "modifiers": ["26"], "units": 1},
            {"system": CM, "code": "R00.2", "modifiers": [], "units": None},
        ],
        "modifiers": ["26"],
        "topics": ["ncci", "modifier", "em"],  # "x 1" is a unit billed, not a question on it
        "units": [{"count": 1, "code": "93000", "text": "x 1"}],
        "dates_of_service": ["2026-09-30"],
        "lines": [{"on": "2026-09-30", "role": None, "codes": ["99204", "93000"]}],
        "setting": {
            "place": "office",
            "payer": "medicare",
            "pos": 11,
            "payer_name": None,
            "state": None,
            "mac": None,
        },
        "phi": {"found": True, "kinds": ["dob", "patient_name"]},
        "purpose": "coding",
    }


@pytest.mark.parametrize(
    ("text", "state", "mac", "places"),
    [
        ("Will Medicare cover 20610 with M17.9 in Florida?", "FL", None, ()),
        ("What does Medicare pay for 71046-26 in Miami?", None, None, ("Miami",)),
        ("Novitas denied it. In TX we bill 20610 with 25.", "TX", "Novitas", ()),
        ("FL Medicare keeps denying E0601.", "FL", None, ()),
        ("Do we need KX on the CPAP supply? Our MAC 99101 says so.", None, "99101", ()),
        ("Seen in Palm Beach County, FL on 11/02/2026.", None, None, ("Palm Beach County",)),
        ("Seen in Tucson, AZ 85710 on 11/02/2026.", "AZ", None, ("Tucson",)),
        ("Seen in FL on 11/02/2026, is 20610 covered?", "FL", None, ()),
        ("What does Medicare pay for CT of the abdomen?", None, None, ()),
        ("Is it covered for MA patients, or for PA visits?", None, None, ()),
        ("Is an ABN needed for GA? Abnormal findings in CT.", None, None, ()),
        ("Thanks,\nJane Doe, MD\nBob Smith, PA", None, None, ()),
        ("Our PA Medicare contractor says no.", "PA", None, ()),
        ("Billed in January in the Office, is GA needed?", None, None, ()),
        ("Dear Sir, GA is needed on 20610?", None, None, ()),
        ("jurisdiction JH asks for the KX modifier", None, "JH", ()),
    ],
)
def test_where_the_patient_was_seen(
    text: str, state: str | None, mac: str | None, places: tuple[str, ...]
) -> None:
    setting = analyze("", text).setting
    assert (setting.state, setting.mac, setting.places) == (state, mac, places)


def test_a_contractor_number_is_not_a_code() -> None:
    assert [c.code for c in analyze("", "Our MAC 99101 denied 20610.").codes] == ["20610"]


def test_the_subject_is_read_first() -> None:
    analysis = analyze("99213-25 with 11102", "Dx L98.9, and 11102 again")
    assert [c.code for c in analysis.codes] == ["99213", "11102", "L98.9"]


# What is not a coding question (issue 9) -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("Thank you so much, that was very helpful!", "thanks"),
        ("Got it, thanks again.", "thanks"),
        ("Perfect, that's exactly what we needed. Thanks again!", "thanks"),
        ("CCS or CRC next? Also, do you ever hire remote coders part time?", "career"),
        (
            "The 64484 per-level explanation fixed it, the appeal was approved. Thank you!!",
            "thanks",
        ),
        ("Do your webinars count for AAPC CEUs? I need 12 more for my CPC renewal.", "career"),
        ("I got your invoice #4512 for November; can you resend it with our PO 45378?", "account"),
        ("How do I renew our subscription?", "account"),
        ("Any advice on passing the CPC exam? I'm looking for a coding job.", "career"),
        ("Thanks! And is 99213 billable with 11102?", "coding"),
        ("Thanks. One more: do we need modifier 25 here?", "coding"),
        ("What is the rule for billing a visit on the same day?", "coding"),
        ("Can you help with this claim?", "coding"),
    ],
)
def test_what_is_a_coding_question(text: str, purpose: str) -> None:
    analysis = analyze("", text)
    assert analysis.purpose == purpose
    if purpose != "coding":
        assert analysis.codes == () and analysis.topics == ()
