"""Similar answered cases: ranked by shared codes, then modifiers, then topics, then subject."""

from __future__ import annotations

from sqlalchemy import select, text

from consultant.cases.search_index import reindex_all
from consultant.cases.similar import candidates_query, similar_cases
from consultant.db import Database
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


def test_postgresql_finds_the_cases_sharing_a_code_through_the_codes_index(
    postgres_url: str,
) -> None:
    """The query's expression is the index's own, so the GIN index serves it, also when a
    prepared statement is planned generically. SQLite reads the codes with LIKE."""
    db = Database(postgres_url)
    with db.session() as session:
        # Many answered cases, none naming the codes asked about: the index is the way in.
        session.execute(
            text(
                'INSERT INTO "case" (reference, subject, status, phi_flagged, thread_message_ids,'
                " created_at, updated_at, codes) SELECT 'CC-' || n, 'q', 'sent', false, '[]',"
                " now(), now(), '99213 J3301' FROM generate_series(1, 3000) AS n"
            )
        )
    with db.session() as session:
        session.execute(text('ANALYZE "case"'))
        compiled = candidates_query(session, 1, {"20956", "J1100"}).compile(
            dialect=session.get_bind().dialect
        )
        # The index's expression word for word: a parameter in its place would be planned
        # into the index only when PostgreSQL makes a custom plan for each statement.
        assert "string_to_array(\"case\".codes, ' ')" in str(compiled)
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        plan = connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).scalars()
        assert "ix_case_codes" in "\n".join(plan)
    db.dispose()
