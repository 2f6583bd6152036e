"""What every processed message must hold, whatever it was: used by the fuzz test and bench.

A message ends processed, on a case awaiting review, or ignored or failed
with its reason; nothing stored for it holds a NUL.
"""

from __future__ import annotations

from consultant.models import InboundMessage
from consultant.services import Services

MAX_SECONDS = 5.0  # a bound per message (storing and processing), not a benchmark
CASE_ROUTES = {"new_case", "follow_up", "earlier_message"}
OPEN_STATUSES = {"awaiting_review", "approved", "sending", "sent", "rejected"}


def outcome_of(services: Services, inbound_id: int) -> str:
    """The route message ``inbound_id`` took, after asserting that it ended soundly."""
    with services.db.session() as session:
        row = session.get_one(InboundMessage, inbound_id)
        route, case = row.route, row.case
        assert row.processed_at is not None, f"inbound #{inbound_id} not processed"
        for value in (row.subject, row.text, row.from_address, row.error, row.route_reason):
            assert "\x00" not in (value or ""), f"NUL stored for inbound #{inbound_id}"
        if route in CASE_ROUTES:
            assert case is not None and case.status in OPEN_STATUSES, (route, case)
            assert "\x00" not in case.subject
        elif route == "ignored":
            assert row.route_reason, f"inbound #{inbound_id} ignored without a reason"
        elif route == "failed":
            assert row.error, f"inbound #{inbound_id} failed without a reason"
            assert case is not None and case.error
        else:
            raise AssertionError(f"inbound #{inbound_id} ended with route {route!r}")
        return str(route)
