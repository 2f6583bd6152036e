"""The OpenAPI 3.1 document of the JSON API (consultant/web/api.py), served at
/api/v1/openapi.json. A test holds it to the app's routes, path by path and method by
method, and schemathesis holds the answers to the schemas below."""

from __future__ import annotations

from functools import cache
from typing import Any

from consultant.analysis.model import TOPICS
from consultant.cases import asking
from consultant.cases import search as case_search
from consultant.cases.queue import SORTS, VIEWS
from consultant.codes import changes as code_changes
from consultant.codes import search as code_search
from consultant.codes.systems import System

PREFIX = "/api/v1"
EXAMPLE_REFERENCE = "CC-000001"
EXAMPLE_TEXT = "Dear colleague,\n\nYes: 29877 is bundled into 29880 here.\n\nKind regards\n"
REFERENCE_PATTERN = "^[A-Za-z][A-Za-z0-9]{0,9}-[0-9]{6,}$"
CODE_PATTERN = "^[A-Za-z0-9.]{1,10}$"
MAX_VERSION = 2**31 - 1
MAX_PAGE = 10_000
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# As much of a search as the case and the code searches read; longer is refused.
MAX_QUERY_CHARS = min(case_search.MAX_QUERY_CHARS, code_search.MAX_QUERY)
# Coverage and fee lookups: an ICD-10-CM code (dot or none), a contractor number, a
# modifier, and as much of a place (state, county, locality) as a lookup reads.
DIAGNOSIS_PATTERN = r"^[A-Za-z](?:[0-9][0-9A-Za-z]|[A-Za-z][0-9])(?:\.?[0-9A-Za-z]{1,4})?$"
MAC_PATTERN = "^[0-9]{5}$"
MODIFIER_PATTERN = "^[A-Za-z0-9]{2}$"
MAX_DIAGNOSES = 20
MAX_MACS = 4
MAX_PLACE_CHARS = 60
# A release named by its id or its version (FY2026, 2025-10, 2020): what /codes/changes takes.
RELEASE_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_QUESTION = asking.MAX_QUESTION
MAX_ASK_CODES = asking.MAX_CODES

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
WHEN = {"type": "string", "format": "date-time"}
MAYBE_WHEN = _nullable("string", format="date-time")
STRINGS = {"type": "array", "items": STRING}
DAY = {"type": "string", "format": "date"}
MAYBE_DAY = _nullable("string", format="date")
MAYBE_STRING = _nullable("string")
MAYBE_RELEASE = _nullable("object", description="The release the answer comes from.")
CENTS = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "description": "Dollars."}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


SCHEMAS: dict[str, Schema] = {
    "Error": _object(["error"], error={"type": "string", "description": "What went wrong."}),
    "ClaimedError": {
        "allOf": [
            _ref("Error"),
            _object(
                ["claimed_by", "since"],
                claimed_by={"type": "string", "description": "Who holds the case."},
                since=WHEN,
                hint=STRING,
            ),
        ]
    },
    "DraftConflict": _object(
        ["action", "base_version", "current", "changes_since_base", "your_changes"],
        action={"type": "string", "enum": ["save", "approve"]},
        base_version={"type": "integer", "description": "The version the request named."},
        current=_object(
            ["version", "author", "at", "text"],
            version=INTEGER,
            author=STRING,
            at=WHEN,
            text=STRING,
        ),
        changes_since_base={
            "type": "string",
            "description": "Unified diff: the version the request named -> the current one.",
        },
        your_changes=_nullable(
            "string",
            description="Unified diff: the current version -> the text sent (null: none sent).",
        ),
    ),
    "ConflictError": {
        "allOf": [_ref("Error"), _object(["conflict"], conflict=_ref("DraftConflict"))]
    },
    "Claim": {
        "oneOf": [
            _object(["holder", "since", "until"], holder=STRING, since=WHEN, until=WHEN),
            {"type": "null"},
        ],
        "description": "The claim in force, or null when nobody holds the case.",
    },
    "QueueRow": _object(
        [
            "reference",
            "status",
            "subject",
            "requester",
            "assignee",
            "claimed_by",
            "waiting_since",
            "due_at",
            "overdue",
            "codes",
        ],
        reference=STRING,
        status=STRING,
        subject={"type": "string", "description": "With patient details removed."},
        desk={"type": "string", "description": "The consult desk it came to (main by default)."},
        requester=_nullable("string"),
        requester_name=_nullable("string"),
        phi_flagged=BOOLEAN,
        assignee=_nullable("string"),
        claimed_by=_nullable("string", description="Only while the claim is in force."),
        claimed_at=MAYBE_WHEN,
        waiting_since=WHEN,
        updated_at=WHEN,
        attachments=INTEGER,
        codes=STRINGS,
        topics=STRINGS,
        due_at=MAYBE_WHEN,
        overdue=BOOLEAN,
    ),
    "CaseList": _object(
        ["total", "page", "per_page", "pages", "status", "sort", "order", "counts", "cases"],
        total={"type": "integer", "description": "Cases matching, over all pages."},
        page=INTEGER,
        per_page=INTEGER,
        pages=INTEGER,
        status=STRING,
        sort=STRING,
        order={"type": "string", "enum": ["asc", "desc"]},
        counts={
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "How many cases each view holds under the same filters.",
        },
        cases={"type": "array", "items": _ref("QueueRow")},
    ),
    "Message": _object(
        ["id", "from", "received_at", "text", "attachments"],
        id=INTEGER,
        **{"from": _nullable("string")},
        received_at=WHEN,
        subject=_nullable("string"),
        route=_nullable("string"),
        route_reason=_nullable("string"),
        text=_nullable("string", description="Patient details removed unless show_phi."),
        attachments={
            "type": "array",
            "items": _object(
                ["filename"],
                filename=STRING,
                content_type=_nullable("string"),
                size=_nullable("integer"),
            ),
        },
    ),
    "Facts": {
        "oneOf": [
            _object(
                ["codes", "facts"],
                on=_nullable("string"),
                setting=_nullable("string"),
                codes=STRINGS,
                modifiers=STRINGS,
                topics=STRINGS,
                dates_of_service=STRINGS,
                facts={
                    "type": "array",
                    "items": _object(
                        ["kind", "codes"],
                        kind=STRING,
                        codes=STRINGS,
                        citation=_nullable("string"),
                        source=_nullable("object"),
                    ),
                },
                limits=STRINGS,
            ),
            {"type": "null"},
        ]
    },
    "Case": _object(
        [
            "reference",
            "status",
            "subject",
            "requester",
            "waiting_since",
            "due_at",
            "overdue",
            "claim",
            "assignee",
            "version",
            "text",
            "facts",
            "messages",
            "timeline",
        ],
        reference=STRING,
        status=STRING,
        subject=STRING,
        requester=_nullable("string"),
        requester_name=_nullable("string"),
        phi_flagged=BOOLEAN,
        created_at=WHEN,
        updated_at=WHEN,
        waiting_since=WHEN,
        due_at=MAYBE_WHEN,
        overdue=BOOLEAN,
        assignee=_nullable("string"),
        claim=_ref("Claim"),
        codes=STRINGS,
        topics=STRINGS,
        error=_nullable("string"),
        version=_nullable(
            "integer", description="The current draft's version: what a save or approval names."
        ),
        text=_nullable("string", description="The current draft's text."),
        draft={
            "oneOf": [
                _object(
                    ["author", "created_at"],
                    author=STRING,
                    created_at=WHEN,
                    based_on=_nullable("integer"),
                    expert_notes={
                        "type": "array",
                        "items": STRING,
                        "description": "Open [expert: ...] notes: approval waits for none.",
                    },
                ),
                {"type": "null"},
            ]
        },
        facts=_ref("Facts"),
        messages={"type": "array", "items": _ref("Message")},
        replies={
            "type": "array",
            "items": _object(
                ["kind", "state"],
                kind=STRING,
                state=STRING,
                created_by=STRING,
                created_at=WHEN,
                sent_at=MAYBE_WHEN,
                text=STRING,
            ),
        },
        notes={
            "type": "array",
            "items": _object(["author", "at", "text"], author=STRING, at=WHEN, text=STRING),
        },
        timeline={
            "type": "array",
            "items": _object(["at", "who", "what"], at=WHEN, who=STRING, what=STRING),
        },
    ),
    "DraftSave": _object(
        ["text", "base_version"],
        text={"type": "string", "description": "The whole new text of the draft."},
        base_version={
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_VERSION,
            "description": "The version the text was made from (the case's `version`).",
        },
    ),
    "SavedDraft": _object(
        ["reference", "version", "created", "message"],
        reference=STRING,
        version=INTEGER,
        created={
            "type": "boolean",
            "description": "False when the text was already the current version's.",
        },
        message=STRING,
    ),
    "Approval": _object(
        ["version"],
        version={
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_VERSION,
            "description": "The version being approved: it must be the current one.",
        },
        text={
            "type": ["string", "null"],
            "description": "The text on the caller's screen; saved as a new version first "
            "when it differs from `version`.",
        },
    ),
    "Approved": _object(
        ["reference", "status", "version", "saved", "outbound_id"],
        reference=STRING,
        status={"type": "string", "enum": ["approved"]},
        version={"type": "integer", "description": "The version being sent."},
        saved={"type": "boolean", "description": "True when `text` was saved as it first."},
        outbound_id=INTEGER,
        already_answered={
            "type": "boolean",
            "description": "True when nothing more is sent: the automatic answer already "
            "sent (outbound_id) is the draft approved unchanged.",
        },
    ),
    "Rejection": _object(["reason"], reason={"type": "string"}),
    "Rejected": _object(
        ["reference", "status"], reference=STRING, status={"type": "string", "enum": ["rejected"]}
    ),
    "ClaimRequest": _object(
        [],
        take_over={
            "type": "boolean",
            "default": False,
            "description": "Take the case from another expert's claim (recorded).",
        },
    ),
    "Claimed": _object(
        ["reference", "new", "claim"],
        reference=STRING,
        new={"type": "boolean", "description": "False when it renewed the caller's own claim."},
        claim=_ref("Claim"),
    ),
    "Released": _object(
        ["reference", "released", "claim"],
        reference=STRING,
        released={"type": "boolean", "description": "False when the caller held no claim."},
        claim=_ref("Claim"),
    ),
    "CodeChange": _object(
        ["change", "code", "description", "fields"],
        change={"type": "string", "enum": list(code_changes.CHANGES)},
        code=STRING,
        description={
            "type": "string",
            "description": "The later release's; for a deleted code, the earlier one's.",
        },
        previous_description=_nullable("string", description="When the description changed."),
        short_description=MAYBE_STRING,
        previous_short_description=MAYBE_STRING,
        flag=_nullable("boolean", description="Billable (ICD-10-CM) or valid (ICD-10-PCS)."),
        previous_flag=_nullable("boolean"),
        terminated=_nullable(
            "string", format="date", description="A deleted code still listed: when it ended."
        ),
        previous_terminated=MAYBE_DAY,
        fields={**STRINGS, "description": "A revised code: what changed."},
    ),
    "CodeChanges": _object(
        ["kind", "from", "to", "flag", "counts", "changes"],
        kind={"type": "string", "enum": list(code_changes.KINDS)},
        to={"type": "object", "description": "The later release."},
        flag=_nullable("string", description="What the code set calls a reportable code."),
        counts=_object(list(code_changes.CHANGES), **dict.fromkeys(code_changes.CHANGES, INTEGER)),
        changes={"type": "array", "items": _ref("CodeChange")},
        **{"from": {"type": "object", "description": "The earlier release."}},
    ),
    "CodeSearch": _object(
        ["query", "on", "mode", "total", "offset", "hits", "page", "per_page"],
        query=STRING,
        on={"type": "string", "format": "date"},
        mode={"type": "string", "enum": ["code", "modifier", "words", "empty"]},
        total={
            "type": "integer",
            "description": f"Codes found, counted up to {code_search.MAX_COUNT:,}.",
        },
        total_capped={"type": "boolean", "description": "More codes match than total says."},
        offset=INTEGER,
        hits={
            "type": "array",
            "items": _object(
                ["system", "code", "description", "billable", "release", "kind"],
                system=STRING,
                code=STRING,
                description=STRING,
                billable=BOOLEAN,
                release=_nullable(
                    "object",
                    description="The release the text is from; null for our own summary of "
                    "a CPT modifier (CPT's text is the AMA's).",
                ),
                kind={"type": "string", "enum": ["code", "modifier"]},
                term=_nullable(
                    "string",
                    description="The ICD-10-CM inclusion term the code was found by, when its "
                    "description lacks a word.",
                ),
            ),
        },
        releases={"type": "array", "items": {"type": "object"}},
        words={
            **STRINGS,
            "description": "The words searched, after corrections; a modifier's code.",
        },
        corrections={
            "type": "array",
            "description": "Words found nowhere, and the word of the data searched instead.",
            "items": _object(["typed", "used"], typed=STRING, used=STRING),
        },
        sets={**STRINGS, "description": "The code sets searched in; empty: all."},
        billable=BOOLEAN,
        page=INTEGER,
        per_page=INTEGER,
    ),
    "CoverageArticle": _object(
        [
            "display_id",
            "version",
            "title",
            "url",
            "contractors",
            "code_groups",
            "diagnoses",
            "modifiers",
            "lcds",
        ],
        display_id={"type": "string", "example": "A90001"},
        document_id=INTEGER,
        version=INTEGER,
        title=STRING,
        status=MAYBE_STRING,
        effective=MAYBE_DAY,
        ending=MAYBE_DAY,
        url={"type": "string", "description": "The article in the Medicare Coverage Database."},
        contractors={
            "type": "array",
            "items": _object(
                ["name", "number", "states"],
                name=STRING,
                number=STRING,
                type=MAYBE_STRING,
                states=STRINGS,
            ),
        },
        code_groups={
            "type": "array",
            "items": _object(["group", "paragraph"], group=INTEGER, paragraph=MAYBE_STRING),
            "description": "The groups of procedure codes that list the code, with paragraphs.",
        },
        diagnoses={
            "type": "array",
            "items": _object(
                ["code", "status", "groups", "with_codes"],
                code=STRING,
                status={
                    "type": "string",
                    "enum": ["covered", "noncovered", "not_listed"],
                    "description": "not_listed: the article says nothing of the diagnosis "
                    "(it is not a statement that it is not covered).",
                },
                groups={
                    "type": "array",
                    "items": _object(["group", "paragraph"], group=INTEGER, paragraph=MAYBE_STRING),
                },
                with_codes={
                    "type": "array",
                    "items": STRING,
                    "description": "Codes the group's paragraph pairs the diagnosis with.",
                },
            ),
        },
        modifiers={
            "type": "array",
            "items": _object(
                ["group", "modifiers"], group=INTEGER, modifiers=STRINGS, paragraph=MAYBE_STRING
            ),
        },
        lcds={
            "type": "array",
            "items": _object(
                ["id", "url"],
                id=STRING,
                url=STRING,
                version=INTEGER,
                title=MAYBE_STRING,
                effective=MAYBE_DAY,
                ending=MAYBE_DAY,
                utilization=MAYBE_STRING,
                documentation=MAYBE_STRING,
            ),
        },
    ),
    "Coverage": _object(
        [
            "code",
            "diagnoses",
            "on",
            "jurisdiction",
            "release",
            "articles",
            "elsewhere",
            "other_versions",
            "ncds",
            "message",
        ],
        code=STRING,
        diagnoses={"type": "array", "items": STRING, "description": "As asked, with dots."},
        on=DAY,
        jurisdiction=_object(
            ["state", "macs"], state=MAYBE_STRING, macs=STRINGS, source=MAYBE_STRING
        ),
        release=MAYBE_RELEASE,
        lcd_release=MAYBE_RELEASE,
        ncd_release=MAYBE_RELEASE,
        articles={
            "type": "array",
            "items": _ref("CoverageArticle"),
            "description": "The article versions in force on the date where asked (in every "
            "jurisdiction when neither state nor mac is given).",
        },
        elsewhere={
            "type": "array",
            "items": STRING,
            "description": "Articles listing the code whose contractor is elsewhere.",
        },
        other_versions={
            "type": "array",
            "items": STRING,
            "description": "Versions listing the code that are not in force on the date.",
        },
        ncds={
            "type": "array",
            "items": _object(
                ["section", "title", "url"],
                section=STRING,
                title=STRING,
                version=INTEGER,
                effective=MAYBE_DAY,
                ending=MAYBE_DAY,
                indications=MAYBE_STRING,
                url=STRING,
                matched_by={"type": "string", "enum": ["section", "title"]},
            ),
        },
        message=_nullable("string", description="Why nothing could be looked up."),
    ),
    "FeeAmount": _object(
        ["amount", "non_participating", "limiting_charge", "formula"],
        amount=CENTS,
        non_participating=CENTS,
        limiting_charge=CENTS,
        formula={"type": "string", "description": "The sum worked, as CMS rounds it."},
    ),
    "Locality": _object(
        ["mac", "locality", "state", "name"],
        mac=STRING,
        locality=STRING,
        state=STRING,
        name=STRING,
        counties=STRING,
        gpci=_object(["work", "pe", "mp"], work=STRING, pe=STRING, mp=STRING),
    ),
    "AskRequest": {
        **_object(
            ["question"],
            question={"type": "string", "minLength": 1, "maxLength": MAX_QUESTION},
            codes={
                "type": "array",
                "items": {"type": "string", "pattern": CODE_PATTERN},
                "maxItems": MAX_ASK_CODES,
                "description": "Codes beside those the question names.",
            },
            date_of_service=MAYBE_DAY,
            payer=_nullable("string", maxLength=60),
            state=_nullable("string", maxLength=MAX_PLACE_CHARS, description="Code or name."),
            conversation=_nullable(
                "integer",
                minimum=1,
                maximum=MAX_VERSION,
                description="A follow-up in this conversation of yours: it keeps its codes, "
                "date of service, payer and state.",
            ),
        ),
        "additionalProperties": False,
    },
    "AutomaticAnswer": _object(
        ["automatic", "confident", "restatement", "short", "why", "facts", "unchecked"],
        automatic={"type": "boolean", "const": True, "description": "Not reviewed by anyone."},
        confident={
            "type": "boolean",
            "description": "Every code checked against data in force, every rule concluded.",
        },
        restatement=STRING,
        short=STRINGS,
        why={"type": "array", "items": _object(["text", "cited"], text=STRING, cited=STRING)},
        facts={
            "type": "array",
            "items": _object(
                ["kind", "codes", "text", "release"],
                kind=STRING,
                codes=STRINGS,
                text=STRING,
                release=MAYBE_STRING,
            ),
        },
        unchecked=STRINGS,
        on=MAYBE_DAY,
        phi_removed={"type": "boolean"},
    ),
    "AskContext": _object(
        ["codes", "date_of_service", "payer", "state"],
        codes=STRINGS,
        date_of_service=MAYBE_DAY,
        payer=MAYBE_STRING,
        state=MAYBE_STRING,
    ),
    "Asked": _object(
        ["conversation", "turn", "context", "answer", "elapsed_ms"],
        conversation={"type": "integer"},
        turn={"type": "integer"},
        context=_ref("AskContext"),
        answer=_ref("AutomaticAnswer"),
        elapsed_ms={"type": "number", "description": "Server time to answer."},
    ),
    "Conversation": _object(
        ["conversation", "context", "turns", "expert"],
        conversation={"type": "integer"},
        context=_ref("AskContext"),
        turns={
            "type": "array",
            "items": _object(
                ["turn", "question", "answer", "asked_at"],
                turn={"type": "integer"},
                question={"type": "string", "description": "Patient details removed."},
                answer=_ref("AutomaticAnswer"),
                asked_at=WHEN,
            ),
        },
        expert={
            "oneOf": [
                {"type": "null"},
                _object(
                    ["sent_at", "case"],
                    sent_at=WHEN,
                    case={
                        "oneOf": [
                            {"type": "null", "description": "Not yet filed as a case."},
                            _object(
                                ["reference", "status", "confirmed_at", "replies"],
                                reference=STRING,
                                status=STRING,
                                confirmed_at=_nullable(
                                    "string",
                                    format="date-time",
                                    description="When an expert approved the automatic "
                                    "answer as it was (nothing more was sent).",
                                ),
                                replies={
                                    "type": "array",
                                    "items": _object(
                                        ["sent_at", "automatic", "text"],
                                        sent_at=MAYBE_WHEN,
                                        automatic={"type": "boolean"},
                                        text=STRING,
                                    ),
                                },
                            ),
                        ]
                    },
                ),
            ]
        },
    ),
    "Fee": _object(
        ["code", "modifier", "on", "locality", "release", "amounts", "not_priced", "message"],
        code=STRING,
        modifier=STRING,
        on=DAY,
        locality={
            "oneOf": [_ref("Locality"), {"type": "null"}],
            "description": "Null: the national amount (every GPCI 1.000).",
        },
        release=MAYBE_RELEASE,
        gpci_release=MAYBE_RELEASE,
        status=MAYBE_STRING,
        status_meaning=MAYBE_STRING,
        pctc=MAYBE_STRING,
        pctc_meaning=MAYBE_STRING,
        multiple_procedure=MAYBE_STRING,
        bilateral=MAYBE_STRING,
        rvus={"type": "object", "additionalProperties": MAYBE_STRING},
        conversion_factor=MAYBE_STRING,
        amounts={
            "type": "object",
            "properties": {"non_facility": _ref("FeeAmount"), "facility": _ref("FeeAmount")},
            "additionalProperties": False,
        },
        not_priced={
            "type": "object",
            "additionalProperties": STRING,
            "description": "Why a setting has no amount.",
        },
        clfs={
            "oneOf": [
                _object(
                    ["rate", "release"],
                    rate=CENTS,
                    indicator=MAYBE_STRING,
                    release={"type": "object"},
                ),
                {"type": "null"},
            ],
            "description": "The clinical laboratory fee schedule rate, for lab codes.",
        },
        message=_nullable("string", description="Why there is no amount at all."),
    ),
    "Payment": _object(
        ["national", "choices"],
        national={"type": "array", "items": _ref("Fee")},
        asked=MAYBE_STRING,
        locality=_nullable("object"),
        local={"type": "array", "items": _ref("Fee")},
        locality_message=MAYBE_STRING,
        choices={
            "type": "array",
            "items": _object(["value", "label"], value=STRING, label=STRING),
        },
        gpci_release=MAYBE_RELEASE,
    ),
    "CodePage": _object(
        ["code", "system", "on", "found", "status"],
        code=STRING,
        system=STRING,
        on={"type": "string", "format": "date"},
        found=BOOLEAN,
        valid=BOOLEAN,
        billable=BOOLEAN,
        status=STRING,
        summary={"type": "string", "description": "The status in one careful sentence."},
        description=_nullable("string"),
        release=_nullable("object"),
        history={"type": "array", "items": {"type": "object"}},
        lineage=_nullable("object"),
        notes={"type": "array", "items": {"type": "object"}},
        ptp={"type": "array", "items": {"type": "object"}},
        mue={"type": "array", "items": {"type": "object"}},
        addon=_nullable("object"),
        pfs={"type": "array", "items": {"type": "object"}},
        coverage={"oneOf": [_ref("Coverage"), {"type": "null"}]},
        payment={"oneOf": [_ref("Payment"), {"type": "null"}]},
        missing={"type": "array", "items": {"type": "object"}},
    ),
}

ERRORS = {
    400: "The request is malformed: a parameter or the JSON body is missing or wrong.",
    401: "No token, or a token that is unknown, revoked, or whose user is disabled.",
    403: "The token's user may not use this route (a member's token opens the code lookups "
    "and asking only).",
    404: "No such case or code (or, for coverage and fees, not a CPT or HCPCS code; for "
    "code changes, not two loaded releases to compare).",
    409: "Refused: the version named is not the current one, or another expert holds "
    "the case (nothing was saved or sent).",
    413: "The body is larger than 2 MB.",
    422: "Refused by the review rules (the message says why; nothing was changed).",
    429: "Too many questions in the past hour; ask again after Retry-After seconds.",
    503: "The database could not be reached; try again after Retry-After seconds.",
}


def _error(status: int) -> dict[str, Any]:
    content: Schema = _ref("Error")
    if status == 409:
        content = {"oneOf": [_ref("ConflictError"), _ref("ClaimedError")]}
    response: dict[str, Any] = {
        "description": ERRORS[status],
        "content": {"application/json": {"schema": content}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": STRING}}
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": STRING, "required": True}}
    return response


def _ok(status: int, schema: str, description: str) -> dict[str, Any]:
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": _ref(schema)}},
        }
    }


def _operation(
    operation_id: str,
    summary: str,
    ok: dict[int, Any],
    errors: tuple[int, ...],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    body_required: bool = True,
    example: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses = {str(code): value for code, value in ok.items()}
    responses |= {str(code): _error(code) for code in (401, 403, 503, *errors)}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": dict(sorted(responses.items())),
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        media: dict[str, Any] = {"schema": _ref(body)}
        if example is not None:
            media["example"] = example
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": media},
        }
    return operation


def _query(name: str, schema: Schema, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": REFERENCE_PATTERN, "example": EXAMPLE_REFERENCE},
    "description": "The case reference, e.g. CC-000123 (any letter case).",
}
PAGE = _query(
    "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "1-based."
)
PER_PAGE = _query(
    "per_page",
    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    "Rows a page.",
)
ON = _query("on", {"type": "string", "format": "date"}, "As of this date (YYYY-MM-DD); today.")
QUEUE_FLAGS = {
    "mine": "Only cases assigned to or claimed by the token's user.",
    "unassigned": "Only cases nobody is assigned to.",
    "claimed": "Only cases under a claim in force.",
    "overdue": "Only cases past their SLA.",
    "phi": "Only cases with patient details found.",
    "attachments": "Only cases whose mail had attachments.",
}
CASE_WRITE_ERRORS = (400, 404, 409, 413, 422)
CONVERSATION = {
    "name": "conversation",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION, "example": 1},
    "description": "The id of one of your conversations (another's answers 404).",
}
PLACE = {"type": "string", "minLength": 1, "maxLength": MAX_PLACE_CHARS}


def _procedure_code(example: str) -> dict[str, Any]:
    return {
        "name": "code",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": CODE_PATTERN, "example": example},
        "description": "A CPT or HCPCS code.",
    }


def _paths() -> dict[str, Any]:
    reference = [REFERENCE]
    list_parameters = [
        _query(
            "status",
            {"type": "string", "enum": list(VIEWS), "default": "open"},
            "A view as on the queue page: open, all, or a status such as awaiting_review.",
        ),
        _query(
            "q",
            {"type": "string", "maxLength": MAX_QUERY_CHARS},
            "Full-text search, as web search boxes.",
        ),
        _query("sort", {"type": "string", "enum": list(SORTS)}, "Default: the view's own order."),
        _query("order", {"type": "string", "enum": ["asc", "desc"]}, "Default: the sort's own."),
        *(_query(name, BOOLEAN, text) for name, text in QUEUE_FLAGS.items()),
        _query("topic", {"type": "string", "enum": list(TOPICS)}, "Only cases on this topic."),
        _query(
            "code",
            {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9.-]{0,15}$"},
            "Only cases naming this code.",
        ),
        PAGE,
        PER_PAGE,
    ]
    return {
        f"{PREFIX}/cases": {
            "get": _operation(
                "listCases",
                "List and search cases as the queue page does, a page at a time.",
                _ok(200, "CaseList", "A page of cases and the total."),
                (400,),
                parameters=list_parameters,
            )
        },
        f"{PREFIX}/cases/{{reference}}": {
            "get": _operation(
                "getCase",
                "A case with its current draft version and text, facts, messages and claim.",
                _ok(200, "Case", "The case."),
                (400, 404),
                parameters=[
                    *reference,
                    _query(
                        "show_phi",
                        BOOLEAN,
                        "Show patient details as received; recorded on the case's timeline.",
                    ),
                ],
            )
        },
        f"{PREFIX}/cases/{{reference}}/draft": {
            "put": _operation(
                "saveDraft",
                "Save a new draft version made from base_version (409 when it is not current).",
                _ok(200, "SavedDraft", "Saved, or nothing to save."),
                CASE_WRITE_ERRORS,
                parameters=reference,
                body="DraftSave",
                example={"text": EXAMPLE_TEXT, "base_version": 1},
            )
        },
        f"{PREFIX}/cases/{{reference}}/approve": {
            "post": _operation(
                "approveCase",
                "Approve the current draft version and start sending it.",
                _ok(202, "Approved", "Approved; the reply is queued for sending."),
                CASE_WRITE_ERRORS,
                parameters=reference,
                body="Approval",
                example={"version": 1, "text": EXAMPLE_TEXT},
            )
        },
        f"{PREFIX}/cases/{{reference}}/reject": {
            "post": _operation(
                "rejectCase",
                "Close the case without a reply.",
                _ok(200, "Rejected", "Rejected."),
                CASE_WRITE_ERRORS,
                parameters=reference,
                body="Rejection",
                example={"reason": "Asked and answered in CC-000122."},
            )
        },
        f"{PREFIX}/cases/{{reference}}/claim": {
            "post": _operation(
                "claimCase",
                "Claim the case (or take it over from another expert, recorded).",
                _ok(200, "Claimed", "The case is the caller's for the claim time."),
                CASE_WRITE_ERRORS,
                parameters=reference,
                body="ClaimRequest",
                example={"take_over": False},
                body_required=False,
            ),
            "delete": _operation(
                "releaseCase",
                "Give up the caller's claim.",
                _ok(200, "Released", "Released, or the caller held no claim."),
                (404,),
                parameters=reference,
            ),
        },
        f"{PREFIX}/codes": {
            "get": _operation(
                "searchCodes",
                "Find codes and modifiers by code or prefix, or by words of their descriptions "
                "and ICD-10-CM inclusion terms; a word found nowhere is corrected to the "
                "closest word of the data (see corrections).",
                _ok(200, "CodeSearch", "The codes found, best first."),
                (400,),
                parameters=[
                    _query(
                        "q",
                        {"type": "string", "maxLength": MAX_QUERY_CHARS},
                        "A code, the start of one, a modifier, or words.",
                        True,
                    ),
                    ON,
                    _query(
                        "set",
                        {
                            "type": "array",
                            "items": {"type": "string", "enum": list(code_search.CodeSet)},
                            "maxItems": len(code_search.CodeSet),
                        },
                        "Only these code sets, repeated (set=ICD-10-CM&set=modifiers); "
                        "all when none.",
                    )
                    | {"style": "form", "explode": True, "example": ["ICD-10-CM"]},
                    _query(
                        "billable",
                        BOOLEAN,
                        "Only codes valid on a claim on the date: no ICD-10 headings, no "
                        "HCPCS code or modifier terminated or not yet in effect.",
                    ),
                    PAGE,
                    PER_PAGE,
                ],
            )
        },
        f"{PREFIX}/codes/changes": {
            "get": _operation(
                "getCodeChanges",
                "The codes added, deleted and revised between two releases of a code set "
                "(by default the newest two): the quarterly HCPCS update, the October "
                "ICD-10-CM update.",
                _ok(200, "CodeChanges", "Every change, added then deleted then revised."),
                (400, 404),
                parameters=[
                    _query(
                        "kind",
                        {"type": "string", "enum": list(code_changes.KINDS)},
                        "The code set.",
                        True,
                    )
                    | {"example": "icd10cm"},
                    _query(
                        "from",
                        {"type": "string", "pattern": RELEASE_PATTERN},
                        "The earlier release, by id or version; by default the one before `to`.",
                    ),
                    _query(
                        "to",
                        {"type": "string", "pattern": RELEASE_PATTERN},
                        "The later release, by id or version; by default the newest.",
                    ),
                ],
            )
        },
        f"{PREFIX}/codes/{{code}}": {
            "get": _operation(
                "getCode",
                "Everything the loaded code data says about one code as of a date.",
                _ok(200, "CodePage", "The code page."),
                (400, 404),
                parameters=[
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": CODE_PATTERN, "example": "20956"},
                    },
                    ON,
                    _query(
                        "system",
                        {"type": "string", "enum": [s.value for s in System]},
                        "The code system, when the code could be one of several.",
                    ),
                ],
            )
        },
        f"{PREFIX}/codes/{{code}}/coverage": {
            "get": _operation(
                "getCodeCoverage",
                "Medicare coverage of a procedure or supply code with diagnoses, on a date, "
                "where the patient is treated.",
                _ok(200, "Coverage", "The articles in force, what each says of each diagnosis."),
                (400, 404),
                parameters=[
                    _procedure_code("20610"),
                    _query(
                        "dx",
                        {
                            "type": "array",
                            "items": {"type": "string", "pattern": DIAGNOSIS_PATTERN},
                            "maxItems": MAX_DIAGNOSES,
                        },
                        "ICD-10-CM codes, repeated (dx=M17.9&dx=M17.11).",
                    )
                    | {"style": "form", "explode": True, "example": ["M17.9"]},
                    _query(
                        "state",
                        PLACE,
                        "Where the patient is treated: a state's code or name. Not with mac.",
                    )
                    | {"example": "FL"},
                    _query(
                        "mac",
                        {
                            "type": "array",
                            "items": {"type": "string", "pattern": MAC_PATTERN},
                            "maxItems": MAX_MACS,
                        },
                        "Medicare contractors by number, repeated (a Part B and a DME MAC). "
                        "Without state or mac, every jurisdiction's answer.",
                    )
                    | {"style": "form", "explode": True},
                    ON | {"example": "2026-11-02"},
                ],
            )
        },
        f"{PREFIX}/codes/{{code}}/fee": {
            "get": _operation(
                "getCodeFee",
                "What Medicare pays for a code on a date: the fee schedule amounts, "
                "non-facility and facility, in a locality (national without one), and the "
                "lab fee schedule rate.",
                _ok(200, "Fee", "The amounts, each with its formula and releases."),
                (400, 404),
                parameters=[
                    _procedure_code("71046"),
                    _query(
                        "modifier",
                        {"type": "string", "pattern": MODIFIER_PATTERN},
                        "A modifier with rows of its own in the fee schedule, such as 26 or TC.",
                    )
                    | {"example": "26"},
                    _query(
                        "locality",
                        PLACE,
                        "A payment locality: MAC/number (99101/04), a locality or county name. "
                        "A place of several localities is refused (400) with the choices.",
                    )
                    | {"example": "99101/04"},
                    _query("state", PLACE, "The state (code or name), with county."),
                    _query("county", PLACE, "The county, with state. Not with locality."),
                    ON | {"example": "2027-01-15"},
                ],
            )
        },
        f"{PREFIX}/ask": {
            "post": _operation(
                "ask",
                "Ask a coding question and get the automatic answer at once (members and "
                "experts). Marked automatic: nobody has reviewed it.",
                _ok(200, "Asked", "The automatic answer, and the conversation it is in."),
                (400, 404, 413, 422, 429),
                body="AskRequest",
                example={
                    "question": "Can 20956 be billed with 20902 on the same day? Modifier 59?",
                    "date_of_service": "2026-11-02",
                },
            )
        },
        f"{PREFIX}/ask/{{conversation}}": {
            "get": _operation(
                "getConversation",
                "One of your conversations: its questions and automatic answers, and its case "
                "once sent to an expert (status and the replies sent).",
                _ok(200, "Conversation", "The conversation."),
                (404,),
                parameters=[CONVERSATION],
            )
        },
        f"{PREFIX}/ask/{{conversation}}/expert": {
            "post": _operation(
                "askAnExpert",
                "Send one of your conversations to the experts: it becomes a case exactly as "
                "an email would (acknowledged, in the review queue, answered by email). "
                "Sending it again changes nothing.",
                _ok(202, "Conversation", "Sent; the case shows once it is filed."),
                (404,),
                parameters=[CONVERSATION],
            )
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


@cache
def query_parameters(path: str, method: str) -> frozenset[str]:
    """The query parameters the document names for ``method`` on ``path`` (as a template,
    ``/api/v1/cases/{reference}``); the API refuses others rather than ignore a typo."""
    operation = document()["paths"].get(path, {}).get(method.lower(), {})
    return frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (built once; callers must not change it)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CaseConsultant API",
            "version": "1",
            "description": "Cases, drafts and review actions, and code lookups, for "
            "integrations and scripts. Authenticate with a personal API token "
            "(`consultant tokens create EMAIL`) as `Authorization: Bearer <token>`. "
            "Saves and approvals name the draft version they were made from or approve; "
            "a stale one is refused with 409 and the changes.",
        },
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token, cc_...",
                }
            },
            "schemas": SCHEMAS,
        },
    }
