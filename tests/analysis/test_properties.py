"""Properties of the extractor: codes in any prose are found; lookalikes never are."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from consultant.analysis.analyze import analyze
from consultant.analysis.codes import find_codes, find_mentions
from consultant.analysis.model import TOPICS
from consultant.analysis.modifiers import find_modifiers

EXAMPLES = settings(max_examples=200, deadline=None)

# Prose around the codes: ordinary words of a coding question, none of which names a system.
_WORDS = (
    "can we bill the with and for a an on same patient was today is it ok to or please "
    "advise thanks our office billed payer denied this line service provider documented "
    "note review question team hello regards knee left right both procedure"
)
WORDS = _WORDS.split()
prose = st.lists(st.sampled_from(WORDS), min_size=0, max_size=12).map(" ".join)
punctuation = st.sampled_from(["", ".", ",", "?", ":", ";", "!", ")"])

DIGITS = string.digits
ALNUM = string.digits + string.ascii_uppercase
PCS_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


cpt_category_one = digits(5)
cpt_category_two = digits(4).map(lambda d: f"{d}F")
cpt_category_three_or_pla = st.tuples(digits(3), st.sampled_from("TU")).map(
    lambda t: f"0{t[0]}{t[1]}"
)
hcpcs = st.tuples(st.sampled_from("ABCDEGHJKLMPQRSTV"), digits(4)).map("".join)
# ICD-10-CM: a letter, a digit, a digit or letter, then up to four more after the dot.
icd_category = st.tuples(
    st.sampled_from(string.ascii_uppercase), st.sampled_from(DIGITS), st.sampled_from(ALNUM)
).map("".join)
icd_with_dot = st.tuples(icd_category, st.text(ALNUM, min_size=1, max_size=4)).map(
    lambda t: f"{t[0]}.{t[1]}"
)
# ICD-10-PCS starting with a digit, holding a letter somewhere: unambiguous in any prose.
pcs = (
    st.tuples(st.sampled_from(DIGITS), st.text(PCS_CHARS, min_size=6, max_size=6))
    .map("".join)
    .filter(lambda code: any(c.isalpha() for c in code))
)


def sentence(before: str, code: str, after: str, end: str) -> str:
    return " ".join(part for part in (before, code + end, after) if part)


@EXAMPLES
@given(
    prose,
    st.one_of(cpt_category_one, cpt_category_two, cpt_category_three_or_pla),
    prose,
    punctuation,
)
def test_cpt_codes_in_prose_are_found(before: str, code: str, after: str, end: str) -> None:
    assert find_codes(sentence(before, code, after, end)) == [("CPT", code)]


@EXAMPLES
@given(prose, hcpcs, prose, punctuation)
def test_hcpcs_codes_in_prose_are_found(before: str, code: str, after: str, end: str) -> None:
    assert find_codes(sentence(before, code, after, end)) == [("HCPCS", code)]


@EXAMPLES
@given(prose, icd_with_dot, st.booleans(), prose, punctuation)
def test_icd10cm_codes_with_their_dot_are_found_in_any_case(
    before: str, code: str, lower: bool, after: str, end: str
) -> None:
    written = code.lower() if lower else code
    assert find_codes(sentence(before, written, after, end)) == [("ICD-10-CM", code)]


@EXAMPLES
@given(prose, st.one_of(icd_category, icd_with_dot), st.booleans(), prose, punctuation)
def test_icd10cm_codes_without_their_dot_are_found_after_dx(
    before: str, code: str, lower: bool, after: str, end: str
) -> None:
    bare = code.replace(".", "")
    written = bare.lower() if lower else bare
    text = sentence(f"{before} Dx".strip(), written, after, end)
    assert find_codes(text) == [("ICD-10-CM", code)]


@EXAMPLES
@given(prose, pcs, prose, punctuation)
def test_icd10pcs_codes_in_prose_are_found(before: str, code: str, after: str, end: str) -> None:
    assert find_codes(sentence(before, code, after, end)) == [("ICD-10-PCS", code)]


@EXAMPLES
@given(prose, cpt_category_one, digits(5), st.sampled_from(["-", " - ", " through ", " to "]))
def test_a_range_is_two_codes(before: str, first: str, last: str, joint: str) -> None:
    found = find_codes(f"{before} {first}{joint}{last} please")
    assert found == list(dict.fromkeys([("CPT", first), ("CPT", last)]))


@EXAMPLES
@given(prose, cpt_category_one, st.sampled_from(["25", "59", "26", "RT", "XS", "91"]), prose)
def test_a_code_with_a_modifier_is_the_code_tied_to_the_modifier(
    before: str, code: str, modifier: str, after: str
) -> None:
    text = f"{before} {code}-{modifier} {after}"
    mentions = find_mentions(text)
    assert [(m.system, m.code) for m in mentions] == [("CPT", code)]
    found = find_modifiers(text, mentions)
    assert found.named == [modifier]
    assert found.tied == {0: [modifier]}


# Things that look like codes and are not, each in a sentence of its own.
area = st.integers(200, 989).map(str)
line = digits(4)
phones = st.one_of(
    st.tuples(area, digits(3), line).map(lambda t: f"({t[0]}) {t[1]}-{t[2]}"),
    st.tuples(area, digits(3), line).map(lambda t: f"{t[0]}-{t[1]}-{t[2]}"),
    st.tuples(area, digits(3), line).map(lambda t: f"+1 {t[0]} {t[1]} {t[2]}"),
    st.tuples(area, digits(3), line).map(lambda t: f"{t[0]}.{t[1]}.{t[2]}"),
).map(lambda phone: st.sampled_from([f"Phone: {phone}", f"Fax {phone}", f"call {phone}"]))
states = st.sampled_from(["AZ", "GA", "CO", "PA", "CA", "TX", "NY", "FL"])
addresses = st.tuples(
    st.integers(1, 99999),
    st.sampled_from(["Palm Ave", "Main Street", "Oak Rd"]),
    st.sampled_from(["Tucson", "Atlanta", "Denver"]),
    states,
    digits(5),
    digits(4),
    st.booleans(),
).map(lambda t: f"{t[0]} {t[1]}, {t[2]}, {t[3]} {t[4]}" + (f"-{t[5]}" if t[6] else ""))
dates = st.dates().map(
    lambda d: st.sampled_from(
        [d.strftime("%m/%d/%Y"), d.isoformat(), d.strftime("%B %d, %Y"), d.strftime("%m-%d-%y")]
    )
)
amounts = st.tuples(st.integers(0, 99999), st.integers(0, 99)).map(
    lambda t: st.sampled_from(
        [f"${t[0]:,}.{t[1]:02d}", f"{t[0]}.{t[1]:02d} dollars", f"${t[0]}", f"USD {t[0]}"]
    )
)
npis = digits(10).map(lambda n: st.sampled_from([f"NPI {n}", f"NPI: {n}", f"npi #{n}"]))
tax_ids = st.tuples(digits(2), digits(7), digits(9)).map(
    lambda t: st.sampled_from([f"Tax ID {t[0]}-{t[1]}", f"TIN {t[2]}", f"EIN: {t[0]}-{t[1]}"])
)
claims = st.text(DIGITS, min_size=5, max_size=12).map(
    lambda n: st.sampled_from(
        [
            f"claim # {n}",
            f"claim number {n}",
            f"Claim {n}",
            f"member ID {n}",
            f"order #{n}",
            f"confirmation number {n}",
            f"account #{n}",
            f"CC-{n}",
            f"PA-{n}",
            f"MRN {n}",
        ]
    )
)
years = st.integers(1900, 2099).map(
    lambda y: st.sampled_from([f"in {y}", f"FY{y}", f"{y}-{y + 1}"])
)
doses = st.tuples(st.integers(1, 99999), st.sampled_from(["mg", "mcg", "mL", "units", "%"])).map(
    lambda t: f"{t[0]} {t[1]}"
)
others = st.one_of(
    st.integers(1, 110).map(lambda n: f"a {n}-year-old"),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"at {t[0]}:{t[1]:02d}"),
    digits(5).map(lambda n: f"see https://example.org/claims/{n}/view"),
    digits(5).map(lambda n: f"saved in C:\\claims\\new\\{n}.txt"),
    digits(5).map(lambda n: f"file {n}.pdf attached"),
    st.just("the 837 export"),
)
lookalikes = st.one_of(
    phones.flatmap(lambda s: s),
    addresses,
    dates.flatmap(lambda s: s),
    amounts.flatmap(lambda s: s),
    npis.flatmap(lambda s: s),
    tax_ids.flatmap(lambda s: s),
    claims.flatmap(lambda s: s),
    years.flatmap(lambda s: s),
    doses,
    others,
)


@EXAMPLES
@given(prose, lookalikes, prose, punctuation)
def test_phones_zips_dates_amounts_ids_years_and_doses_are_not_codes(
    before: str, lookalike: str, after: str, end: str
) -> None:
    text = sentence(before, lookalike, after, end)
    mentions = find_mentions(text)
    assert mentions == []
    assert find_modifiers(text, mentions).named == []


@EXAMPLES
@given(lookalikes, cpt_category_one, prose)
def test_a_code_next_to_a_lookalike_is_still_found(lookalike: str, code: str, after: str) -> None:
    text = f"{lookalike}. We billed {code} {after}"
    assert find_codes(text) == [("CPT", code)]


code_like_text = st.text(alphabet=ALNUM + "abcxyz -./,:;$#()\n", max_size=300)


@EXAMPLES
@given(st.one_of(st.text(max_size=300), code_like_text), st.text(max_size=40))
def test_any_text_is_analysed_without_error(text: str, subject: str) -> None:
    analysis = analyze(subject, text)
    assert set(analysis.topics) <= set(TOPICS)
    assert all(code.code == code.code.upper() for code in analysis.codes)
