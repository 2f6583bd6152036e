"""Mail to each desk: the case is the desk's, and the desk answers under its own name."""

from __future__ import annotations

import email
import os
import time
from collections.abc import Callable
from email import policy
from email.headerregistry import Address
from pathlib import Path

from sqlalchemy import select

from config import Settings
from consultant.mail.sources import make_source
from consultant.models import Case, InboundMessage
from consultant.services import Services, build_services
from tests.conftest import CONSULT_ADDRESS
from tests.desks.support import BILLING, SURGERY, addressed_to, desks_file
from tests.support.cases import file_messages, outbox_messages
from tests.support.corpus import QUESTIONS


def _services(make_settings: Callable[..., Settings], url: str, tmp_path: Path) -> Services:
    return build_services(make_settings(database_url=url, desks_file=desks_file(tmp_path)))


def _cases(services: Services) -> list[tuple[str, str]]:
    with services.db.session() as session:
        found = session.scalars(select(Case).order_by(Case.id))
        return [(case.desk, case.reference or "") for case in found]


def _sender(raw_message: email.message.EmailMessage) -> Address:
    [address] = raw_message["From"].addresses
    return address


def test_each_desk_answers_its_own_mail_under_its_own_name(
    make_settings: Callable[..., Settings], sqlite_url: str, tmp_path: Path
) -> None:
    services = _services(make_settings, sqlite_url, tmp_path)
    first, second = (QUESTIONS / "01.eml").read_bytes(), (QUESTIONS / "02.eml").read_bytes()
    file_messages(services, addressed_to(first, BILLING), second)
    assert [desk for desk, _ in _cases(services)] == ["billing", "main"]

    acks = outbox_messages(services)
    assert [(_sender(m).display_name, _sender(m).addr_spec) for m in acks] == [
        ("Billing Consult Desk", BILLING),
        ("CaseConsultant", CONSULT_ADDRESS),
    ]
    assert "Billing Consult Desk" in acks[0].get_body(("plain",)).get_content()
    for message in acks:  # read back strictly: the headers are well formed
        email.message_from_bytes(message.as_bytes(), policy=policy.strict)


def test_a_desks_own_folder_files_its_cases(
    make_settings: Callable[..., Settings], sqlite_url: str, tmp_path: Path
) -> None:
    """In the embedded default a folder desk reads var/mail/desks/<key>; a non-ASCII name
    is encoded in the From header and read back as written."""
    services = _services(make_settings, sqlite_url, tmp_path)
    folder = services.settings.maildir_desk_inbox("surgery")
    source = make_source(services)
    source.poll_once()  # makes the folders
    dropped = folder / "new" / "question.eml"
    dropped.write_bytes((QUESTIONS / "03.eml").read_bytes())  # written to the main address
    settled = time.time() - 10
    os.utime(dropped, (settled, settled))

    assert source.poll_once() == 1
    assert [desk for desk, _ in _cases(services)] == ["surgery"]
    with services.db.session() as session:
        assert session.scalar(select(InboundMessage.desk)) == "surgery"
    [ack] = outbox_messages(services)
    raw = ack.as_bytes()
    assert b"Team S\xc3\xbcd" not in raw.split(b"\n\n", 1)[0]  # encoded, not raw 8-bit
    strict = email.message_from_bytes(raw, policy=policy.strict)
    assert (_sender(strict).display_name, _sender(strict).addr_spec) == (
        "Surgery Coding Desk, Team Süd",
        SURGERY,
    )


def test_mail_from_any_desk_is_our_own_and_never_answered(
    make_settings: Callable[..., Settings], sqlite_url: str, tmp_path: Path
) -> None:
    """A desk writing to another desk (a forward, a loop) is not a requester."""
    services = _services(make_settings, sqlite_url, tmp_path)
    raw = (QUESTIONS / "01.eml").read_bytes()
    head, _, body = raw.partition(b"\n\n")
    from_billing = b"\n".join(
        f"From: Billing <{BILLING}>".encode() if line.lower().startswith(b"from:") else line
        for line in head.split(b"\n")
    )
    file_messages(services, from_billing + b"\n\n" + body)
    assert outbox_messages(services) == []
