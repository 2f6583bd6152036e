"""Tokens shaped like codes that are not codes: zips, amounts, IDs, paths, street numbers.

A coder's mail is full of them: the zip in a signature (Tucson, AZ 85710), a
claim number, an amount ($20956.00), a tax ID (12-3456789 holds a seven-digit
run, the shape of an ICD-10-PCS code). Phone numbers, dates and times never
give a code-shaped token (their digit groups are too short), so only the few
tokens that do have a code's shape are checked here, each against the words
just before and after it. Checking a handful of tokens is far cheaper than
blanking every lookalike in the whole text first, which matters at a thousand
messages in a couple of seconds.
"""

from __future__ import annotations

import re

from consultant.codes.states import STATES

# States before a zip code ("Tucson, AZ 85710"); not AS or MP, which are modifiers too.
_STATES = "|".join(code for code in STATES if code not in {"AS", "MP"})
_STATE_NAMES = "|".join(
    name for code, name in STATES.items() if code not in {"AS", "MP", "GU", "VI", "DC"}
)
_STREET = (
    "St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Way|Ct|Court|Pl|Place|Pkwy|"
    "Parkway|Hwy|Highway|Cir|Circle|Ter|Terrace|Trl|Trail|Loop|Sq|Square|Pike|Row"
)
# Labels after which a number is an identifier however it is written ("claim 1234567").
_ID_LABELS = (
    "claim|account|acct|member|subscriber|policy|invoice|ticket|confirmation|conf|npi|tin|ein|"
    "mac|contractor|"
    "ssn|mrn|icn|dcn|tcn|zip|zip code|postal code|fax|phone|tel|telephone|cell|mobile|ext|"
    "extension|suite|ste|p\\.?o\\.? box|apt|tax id|federal id|prior auth|prior authorization|"
    "hicn|mbi|id|ref"
)
# Words that name an identifier only with "#", "no.", "number" or "ID" ("order #12345");
# bare, they are ordinary words ("in this case 99213 ...", "we order 80053").
_ID_WORDS = (
    "case|group|order|check|reference|ref|control|trace|transaction|room|box|batch|auth|"
    "authorization|record|report|document|file|job|payment|patient|chart|encounter|visit|"
    "appeal|denial|eob|era|remit|tracking|medicare|medicaid|insurance|plan|certificate|"
    "license|licence|contract|customer"
)
_ID_MARK = r"(?:#|no\.?|num|number|id|identifier)"
_IS = r"(?:(?:is|was|=)\s+)"

# Capitalised words that may stand before a modifier that is also a state (GA, CT, PA).
_VERBS = "(?:Modifiers?|Mod|With|And|Or|Use|Add|Append|Bill|Billed|Report|Code)"

# What may stand just before a lookalike; searched in a short window ending at the token.
_BEFORE = re.compile(
    "|".join(
        (
            # A zip after a state: "Tucson, AZ 85710", "Tucson AZ", "Arizona 85710".
            rf"(?:,\s*|\b(?!{_VERBS}\b)[A-Z][a-z]+\.?\s+|(?:^|\n)[ \t]*)(?:{_STATES})\s+\Z",
            rf"\b(?:{_STATE_NAMES}),?\s+\Z",
            # A document's own number, "is" allowed between: "our PO is 45378", "PO# 45378",
            # "invoice is 45378", "LCD (L33718)", "Article A57001", "NCD 220.6".
            r"(?i:\b(?:p\.?o|purchase order|invoice|lcd|l\.?c\.?d|ncd|article|lca)\b\.?"
            rf"(?:\s*(?:{_ID_MARK}|:))*\s*(?:(?:is|was|=)\s+)?\(?\s*)\Z",
            # Remittance codes and lists of them: "remark M15 and N130", "RARC N130, MA130",
            # "CARC 16": reason and remark codes are not diagnoses.
            r"(?i:\b(?:remark|rarc|carc|reason|adjustment)(?:\s+codes?)?\b[\s:#]*"
            r"(?:[A-Z]{0,2}-?\d{1,3}\s*(?:,|and|&|/|or)\s*)*)\Z",
            # A remark code after a reason code with its group: "CO-151 N362", "PR-204, M15".
            r"\b(?:CO|PR|OA|PI|CR)-\d{1,3}\s*[,;/]?\s*\Z",
            # Money: "$20956", "USD 20956".
            r"[$€£]\s?\Z|(?i:\b(?:usd|eur)\s?)\Z",
            # Prefixed references: CC-000123, PA-425311, CMS-1500 (but CPT-99213, Dx-E11.9).
            # ... also after a number: "26-PI-04418".
            r"(?<![\w-])(?:\d{1,4}-)?(?!(?i:cpt|hcpcs|icd|pcs|dx|code|codes|mod)-)[A-Za-z]{1,6}-\Z",
            # The tail of a number that began before: 12-3456789, 1234567-99213.
            r"(?<![\w-])\d{1,4}-\Z|\d{6,}-\Z",
            # Inside a URL, an e-mail address or a file path: https://x.org/12345, /srv/12345.
            r"(?:://|@|www\.|(?<!\S)~?/)\S*\Z",
        )
    )
)
# An identifier after its label: "claim 1234567", "account number is 20610-B", "certificate
# number is 27447-TX", and the rest of such a number: "Claim 26097-00031". Never a code
# written with its dot: "for the Q5106 claim: D64.81 first".
_ID_BEFORE = re.compile(
    rf"(?i:\b(?:{_ID_LABELS})\b\.?(?:\s*(?:{_ID_MARK}|:))*\s*{_IS}?(?:\w+-)?)\Z"
    rf"|(?i:\b(?:{_ID_WORDS})\s*{_ID_MARK}(?:\s*[#:.])*\s*{_IS}?)\Z"
)
# Obstetric history: "G2P1", "G3P2012".
_GRAVIDA_PARA = re.compile(r"G\d{1,2}P\d{1,4}")
_WINDOW = 40
_COUNT = re.compile(r"x\d+")
_DIAGNOSIS_BEFORE = re.compile(r"(?i:\b(?:dx|icd(?:-?10)?(?:-?cm)?|diagnos[a-z]*)\b)[\s:,#-]*\Z")

# What may follow a lookalike: ZIP+4, decimals, money, doses and counts, a street name.
_AFTER = re.compile(
    "|".join(
        (
            r"-\d{4}(?!\w)",
            r"[.,]\d",
            r"\s*%",
            r"\s*(?i:dollars?|usd|eur|euros|cents?|percent|mg|mcg|µg|ug|g|gm|kg|ml|cc|meq|mmol|iu|"
            r"cm|mm|units|patients|members|people|miles|feet)\b",
            rf"\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z'.-]*\s+){{1,3}}(?:{_STREET})\b",
            # A file name: 12345.pdf, 12345_eob.txt.
            r"[\w.-]*\.(?i:pdf|txt|csv|docx?|xlsx?|png|jpe?g|tiff?|zip|xml|html?|edi|dat)\b",
        )
    )
)


def is_lookalike(text: str, start: int, end: int) -> bool:
    """Whether the code-shaped ``text[start:end]`` is part of an address, amount, ID or path,
    or a count ("J1050 x150", "x150 patients": a lower-case x and digits) or an obstetric
    history ("G2P1"), unless a diagnosis is announced just before."""
    window = max(0, start - _WINDOW)
    return (
        ("." not in text[start:end] and _ID_BEFORE.search(text, window, start) is not None)
        or (
            (
                _COUNT.fullmatch(text, start, end) is not None
                or _GRAVIDA_PARA.fullmatch(text, start, end) is not None
            )
            and _DIAGNOSIS_BEFORE.search(text, max(0, start - 16), start) is None
        )
        or _AFTER.match(text, end) is not None
        or _BEFORE.search(text, window, start) is not None
    )
