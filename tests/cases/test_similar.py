"""Similar answered cases: ranked by shared codes, then modifiers, then topics, then subject."""

from __future__ import annotations

from sqlalchemy import select

from consultant.cases.search_index import reindex_all
from consultant.cases.similar import similar_cases
from consultant.models import Case
from consultant.services import Services
from tests.cases.test_search import mail
from tests.support.cases import answer_and_approve, file_messages


def _similar(services: Services, reference: str) -> list[tuple[str, tuple[str, ...]]]:
    with services.db.read_session() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return [(s.reference, s.shared_modifiers) for s in similar_cases(session, case)]


def test_a_case_sharing_the_modifier_ranks_above_one_sharing_only_the_codes(
    services: Services,
) -> None:
    file_messages(
        services,
        mail("Flap and graft", "Can 20956 be billed with 20902? Do we append modifier 25?"),
        mail("Flap and graft again", "Can 20956 be billed with 20902? Is modifier 59 right?"),
        mail("Different codes", "Is 99213 payable with modifier 59?"),
    )
    for reference in ("CC-000001", "CC-000002", "CC-000003"):
        answer_and_approve(services, reference)
    file_messages(
        services, mail("Flap question", "We billed 20956 and 20902 with modifier 59; denied.")
    )

    assert _similar(services, "CC-000004") == [("CC-000002", ("59",)), ("CC-000001", ())]

    # A reindex rebuilds the modifiers from the stored drafts, for cases older than the column.
    with services.db.session() as session:
        for case in session.scalars(select(Case)):
            case.modifiers = ""
    reindex_all(services.db)
    assert _similar(services, "CC-000004") == [("CC-000002", ("59",)), ("CC-000001", ())]
