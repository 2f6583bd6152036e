"""What our outgoing mail carries beyond the body: Outlook's threading, strict headers, DKIM.

Every message we send (acknowledgment, approved reply, account mail) is read
back with ``policy.strict``, which raises on any header defect, so a
non-ASCII name or subject that we encoded wrongly fails here rather than in
a requester's mail client.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path

import dkim
import pytest
from sqlalchemy import select

from config import ConfigError, Settings
from consultant.mail import conversation_index
from consultant.models import Case, InboundMessage, OutboundKind, OutboundMessage
from consultant.registration import request_registration
from consultant.services import Services, build_services
from tests.support.cases import answer_and_approve, file_messages
from tests.support.smtp import SmtpServer

SUBJECT = "Frage: 20956 mit 20902 \N{EN DASH} brauche ich Modifikator 59? ÄÖÜ"
TOPIC = SUBJECT  # no reply prefix, no reference of ours: the subject itself


def question(
    subject: str = SUBJECT, headers: dict[str, str] | None = None, name: str = "Zoë Ångström"
) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = f'"{name}" <zoe@clinic.example>'
    msg["To"] = "consult@caseconsultant.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="clinic.example")
    msg["Date"] = "Wed, 02 Dec 2026 09:00:00 +0000"
    for header, value in (headers or {}).items():
        msg[header] = value
    msg.set_content("Can 20956 be billed with 20902 on the same day? Do I need modifier 59?\n")
    return msg.as_bytes()


def sent(services: Services, kind: OutboundKind | None = None) -> list[bytes]:
    with services.db.read_session() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        return [row.raw for row in rows if kind is None or row.kind == kind]


def strict(raw: bytes) -> EmailMessage:
    """The message as a strict parser reads it: any header defect raises."""
    return BytesParser(policy=policy.strict).parsebytes(raw)  # type: ignore[return-value]


def index_bytes(message: EmailMessage) -> bytes:
    return base64.b64decode(str(message["Thread-Index"]))


def test_every_outgoing_message_parses_strictly_with_non_ascii_names_and_subjects(
    services: Services,
) -> None:
    file_messages(services, question())
    answer_and_approve(services, "CC-000001")
    with services.db.session() as session:  # the account mail, queued (its bytes kept)
        request_registration(services, session, "neu.mitglied@clinic.example", None)
    raws = sent(services)
    assert len(raws) == 3  # the acknowledgment, the reply, the account mail
    for raw in raws:
        assert raw.isascii()  # 7-bit on the wire: names and subjects encoded (RFC 2047)
        message = strict(raw)
        assert not message.defects
        for header in message:
            assert not message[header].defects, header
    reply = strict(sent(services)[1])
    assert str(reply["Subject"]) == f"Re: {SUBJECT} [CC-000001]"
    assert str(reply["To"]) == "zoe@clinic.example"
    assert str(reply["From"]) == "CaseConsultant <consult@caseconsultant.example>"


def test_replies_carry_the_case_topic_and_one_conversation_index(services: Services) -> None:
    file_messages(services, question())
    answer_and_approve(services, "CC-000001")
    ack, reply = (strict(raw) for raw in sent(services))
    assert str(ack["Thread-Topic"]) == str(reply["Thread-Topic"]) == TOPIC
    first, second = index_bytes(ack), index_bytes(reply)
    # One conversation: the same 22-byte header block, one 5-byte child block each.
    assert len(first) == len(second) == 27
    assert first[:22] == second[:22]
    assert first[0] == 1


def test_our_reply_continues_the_requesters_outlook_conversation(services: Services) -> None:
    theirs = conversation_index.header_block(datetime(2026, 12, 2, 8, 59), "their-outlook")
    index = base64.b64encode(theirs + b"\x00\x00\x10\x00\x11").decode()
    file_messages(
        services,
        question(headers={"Thread-Topic": "Modifier 59 question", "Thread-Index": index}),
    )
    answer_and_approve(services, "CC-000001")
    for raw in sent(services):
        message = strict(raw)
        ours = index_bytes(message)
        assert ours[:27] == base64.b64decode(index)  # theirs, then our child block
        assert len(ours) == 32
        assert str(message["Thread-Topic"]) == "Modifier 59 question"


def test_a_hostile_index_is_ignored_and_a_topic_naming_a_patient_is_redacted(
    services: Services,
) -> None:
    file_messages(
        services,
        question(
            subject="Claim for patient John Smith DOB 03/14/1962",
            headers={
                "Thread-Topic": "Claim for patient John Smith DOB 03/14/1962",
                "Thread-Index": "!!not base64\x01",
            },
        ),
    )
    answer_and_approve(services, "CC-000001")
    for raw in sent(services):
        message = strict(raw)
        assert "1962" not in str(message["Thread-Topic"])
        assert "Smith" not in str(message["Thread-Topic"])
        assert len(index_bytes(message)) == 27  # one made for the case


def test_the_child_block_says_how_long_after_the_conversation_began() -> None:
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    header = conversation_index.header_block(start, "CC-000001@caseconsultant.example")
    later = start + timedelta(hours=5)
    child = base64.b64decode(conversation_index.reply_index(header, later))[22:]
    ticks = int.from_bytes(child[:4], "big") << 18  # units of 2^18 ticks of 100 ns
    # Counted from the header's time, which keeps only the top 40 bits (2^24 ticks, 1.7 s).
    assert 5 * 3600 <= ticks / 10_000_000 < 5 * 3600 + 1.7


# -- DKIM ----------------------------------------------------------------------


def _key_pair(tmp_path: Path) -> tuple[Path, bytes]:
    """A fresh RSA key (PEM) and the DNS TXT record that publishes its public half."""
    private = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_with_a_key_every_message_is_signed_and_verifies_as_received(
    make_settings: Callable[..., Settings],
    database_url: str,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    key_file, record = _key_pair(tmp_path)
    services = build_services(
        make_settings(
            database_url=database_url,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_tls="none",
            dkim_selector="cc2026",
            dkim_private_key_file=key_file,
        )
    )
    try:
        file_messages(services, question())
        answer_and_approve(services, "CC-000001")
        received = smtp_server.wait_for(2)
    finally:
        services.db.dispose()
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record if name == b"cc2026._domainkey.caseconsultant.example." else b""

    for message in received:
        assert message.raw.startswith(b"DKIM-Signature:")
        assert dkim.verify(message.raw, dnsfunc=dns)
        signed = strict(message.raw)["DKIM-Signature"]
        for header in ("thread-index", "thread-topic", "message-id", "subject", "from"):
            assert header in str(signed).replace(" ", "")
        # A relay that changes the body breaks the signature: it covers what we wrote.
        assert not dkim.verify(message.raw.replace(b"20956", b"20957"), dnsfunc=dns)
    assert set(asked) == {b"cc2026._domainkey.caseconsultant.example."}


def test_a_dkim_key_that_cannot_sign_stops_the_start_naming_the_setting(
    make_settings: Callable[..., Settings], sqlite_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ConfigError, match="CONSULTANT_DKIM_PRIVATE_KEY_FILE: cannot read"):
        build_services(
            make_settings(database_url=sqlite_url, dkim_selector="s", dkim_private_key_file=missing)
        )
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="is not a private key DKIM can sign with"):
        build_services(
            make_settings(database_url=sqlite_url, dkim_selector="s", dkim_private_key_file=garbage)
        )
    with pytest.raises(ValueError, match="DKIM_PRIVATE_KEY_FILE must be set"):
        make_settings(database_url=sqlite_url, dkim_selector="s")


# -- the case marker in the body -------------------------------------------------


def _reply_quoting(ours: EmailMessage, sender: str, subject: str) -> bytes:
    """A reply whose provider dropped In-Reply-To and References and whose subject was changed."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = "consult@caseconsultant.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="rewritten.example")
    quoted = "\n".join(f"> {line}" for line in ours.get_body(("plain",)).get_content().splitlines())
    msg.set_content(f"And with 20900 as well?\n\nOn Wed, CaseConsultant wrote:\n{quoted}\n")
    return msg.as_bytes()


def test_a_reply_that_lost_its_headers_and_subject_finds_its_case_by_the_marker(
    services: Services,
) -> None:
    file_messages(services, question())
    ack = strict(sent(services)[0])
    assert ack.get_body(("plain",)).get_content().rstrip().endswith("[ref:CC-000001]")
    html = ack.get_body(("html",)).get_content()
    assert "display:none" in html and "[ref:CC-000001]" in html  # hidden in the HTML part
    file_messages(services, _reply_quoting(ack, "zoe@clinic.example", "another thing"))
    with services.db.read_session() as session:
        routes = session.execute(
            select(InboundMessage.route, Case.reference)
            .join(Case, InboundMessage.case_id == Case.id)
            .order_by(InboundMessage.id)
        ).all()
    assert [tuple(r) for r in routes] == [("new_case", "CC-000001"), ("follow_up", "CC-000001")]


def test_a_stranger_quoting_the_marker_does_not_join_the_case(services: Services) -> None:
    file_messages(services, question())
    ack = strict(sent(services)[0])
    file_messages(services, _reply_quoting(ack, "someone@elsewhere.example", "forwarded"))
    with services.db.read_session() as session:
        references = session.scalars(select(Case.reference).order_by(Case.id)).all()
    assert references == ["CC-000001", "CC-000002"]
