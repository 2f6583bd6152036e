"""Several desks on one IMAP account: the main folder sorted by address, a desk's own folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from consultant.mail.sources import make_source
from consultant.models import Case
from consultant.services import Services
from tests.desks.support import BILLING, SURGERY, addressed_to, desks_file
from tests.support.corpus import QUESTIONS
from tests.support.dovecot import Dovecot
from tests.support.intake import running
from tests.support.waiting import wait_until


def _desks(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(Case.desk).order_by(Case.id)))


def test_the_poller_watches_each_desks_folder_and_sorts_the_inbox(
    build: Callable[..., Services], dovecot: Dovecot, tmp_path: Path
) -> None:
    services = build(dovecot, desks_file=desks_file(tmp_path))
    source = make_source(services)
    assert source.poll_once() == 0  # the desk's folder is made for the server's rule to fill
    with dovecot.client() as client:
        assert client.folder_exists("Surgery")

    with running(source):
        dovecot.append(addressed_to((QUESTIONS / "01.eml").read_bytes(), BILLING))
        wait_until(lambda: len(_desks(services)) == 1, "the billing question's case")
        dovecot.append((QUESTIONS / "02.eml").read_bytes(), folder="Surgery")
        wait_until(lambda: len(_desks(services)) == 2, "the surgery folder's case (IDLE)")
        dovecot.append((QUESTIONS / "03.eml").read_bytes())
        wait_until(lambda: len(_desks(services)) == 3, "the main desk's case")
    assert _desks(services) == ["billing", "surgery", "main"]
    assert dovecot.messages("Surgery") == [] and dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 3
    with services.db.session() as session:
        senders = [
            o.sender for c in session.scalars(select(Case).order_by(Case.id)) for o in c.outbound
        ]
    assert senders == [BILLING, SURGERY, services.settings.consult_address]
