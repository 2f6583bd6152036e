"""The whole path on real parts: Dovecot → poller → Celery worker on Redis → review → SMTP.

Twelve corpus questions and a follow-up go into a real IMAP mailbox. The
poller (killed once mid-batch, then run twice more) takes them in, a real
Celery worker processes them, two cases are approved, and both replies reach
a real SMTP server in the requesters' threads.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from email import policy
from pathlib import Path

from sqlalchemy import func, select

from config import Settings
from consultant.models import Case, CaseEvent, InboundMessage
from consultant.services import Services, build_services
from tests.support.cases import approve_current, save_draft
from tests.support.celery_worker import celery_beat, celery_worker
from tests.support.corpus import question_files, special
from tests.support.dovecot import Dovecot
from tests.support.smtp import SmtpServer
from tests.support.waiting import wait_until

EXPERT = "expert@example.com"
TOTAL_MESSAGES = 13  # 12 questions and one follow-up


def _env(settings: Settings) -> dict[str, str]:
    """The CONSULTANT_* environment a separate process needs to share these settings."""
    names = [
        "var_dir",
        "database_url",
        "broker_url",
        "imap_host",
        "imap_port",
        "imap_user",
        "imap_tls",
        "imap_batch_size",
        "smtp_host",
        "smtp_port",
        "smtp_tls",
        "consult_address",
        "send_retry_seconds",
    ]
    env = {f"CONSULTANT_{n.upper()}": str(getattr(settings, n)) for n in names}
    env["CONSULTANT_IMAP_PASSWORD"] = settings.imap_password.get_secret_value()
    return env


def _count(services: Services, query: object) -> int:
    with services.db.session() as session:
        return session.scalar(query)


def _poll_once(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "consultant", "poll", "--once"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=120,
    )


def _kill_mid_batch(env: dict[str, str], services: Services) -> None:
    """Start the long-running poller and SIGKILL it once some, not all, messages are stored."""
    process = subprocess.Popen(
        [sys.executable, "-m", "consultant", "poll"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stored = select(func.count(InboundMessage.id))
    try:
        wait_until(
            lambda: _count(services, stored) >= 1, "the first message to be stored", interval=0.001
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert _count(services, stored) < TOTAL_MESSAGES, "the poller finished before the kill"


def test_questions_become_cases_and_approved_replies_go_out(
    make_settings: Callable[..., Settings],
    database_url: str,
    redis_url: str,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    for path in question_files():
        dovecot.append(path.read_bytes())
    dovecot.append(special("follow_up.eml"))
    settings = make_settings(
        database_url=database_url,
        broker_url=redis_url,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password=dovecot.password,
        imap_tls="none",
        imap_batch_size=1,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_tls="none",
        send_retry_seconds=0.2,
    )
    env = _env(settings)
    # Beat runs the sweep every second: work whose task was lost when the poller
    # was killed (committed, not yet queued) is queued again.
    env |= {"CONSULTANT_SWEEP_SECONDS": "1", "CONSULTANT_STALE_AFTER_SECONDS": "1"}
    with celery_worker(env, tmp_path / "worker.log") as queue:
        env |= {"CONSULTANT_TASK_QUEUE": queue, "CONSULTANT_SEND_QUEUE": f"{queue}.send"}
        services = build_services(
            settings.model_copy(update={"task_queue": queue, "send_queue": f"{queue}.send"})
        )

        processed = select(func.count(InboundMessage.id)).where(
            InboundMessage.processed_at.is_not(None)
        )
        with celery_beat(env, tmp_path):
            _kill_mid_batch(env, services)
            _poll_once(env)
            _poll_once(env)
            wait_until(
                lambda: _count(services, processed) == TOTAL_MESSAGES, "all messages processed"
            )
            smtp_server.wait_for(12)  # one acknowledgment per case

        assert _count(services, select(func.count(InboundMessage.id))) == TOTAL_MESSAGES
        assert _count(services, select(func.count(Case.id))) == 12
        with services.db.session() as session:
            statuses = set(session.scalars(select(Case.status)))
            first = session.scalar(
                select(Case)
                .join(InboundMessage)
                .where(InboundMessage.message_id == "<s01.20261005@mail.example>")
            )
            follow_up = session.scalar(
                select(InboundMessage).where(
                    InboundMessage.message_id == "<s103.20261005@mail.example>"
                )
            )
            assert follow_up.case_id == first.id and follow_up.route == "follow_up"
            first_ref = first.reference
            second_ref = session.scalar(
                select(Case.reference)
                .join(InboundMessage)
                .where(InboundMessage.message_id == "<s02.20261005@mail.example>")
            )
        assert statuses == {"awaiting_review"}
        assert dovecot.messages("INBOX") == []
        assert len(dovecot.messages("Processed")) == TOTAL_MESSAGES

        for reference in (first_ref, second_ref):
            save_draft(services, reference, "Dear colleague,\n\nThe answer.\n", EXPERT)
            approve_current(services, reference, EXPERT)
        received = smtp_server.wait_for(14)
        replies = {
            str(m["Subject"]): m
            for m in (email.message_from_bytes(r.raw, policy=policy.default) for r in received)
            if "Auto-Submitted" not in m
        }
        wait_until(
            lambda: _count(services, select(func.count(Case.id)).where(Case.status == "sent")) == 2,
            "both cases to be sent",
        )
        services.db.dispose()

    first_reply = replies[f"Re: NCCI: 29880 and 29877 [{first_ref}]"]
    assert first_reply["In-Reply-To"] == "<s103.20261005@mail.example>"
    assert "<s01.20261005@mail.example>" in first_reply["References"]
    assert "<s103.20261005@mail.example>" in first_reply["References"]
    second_reply = replies[f"Re: 99213-25 with 11102 [{second_ref}]"]
    assert second_reply["In-Reply-To"] == "<s02.20261005@mail.example>"
    assert len(replies) == 2

    services = build_services(settings)
    with services.db.session() as session:
        kinds = list(
            session.scalars(
                select(CaseEvent.kind)
                .join(Case)
                .where(Case.reference == first_ref)
                .order_by(CaseEvent.id)
            )
        )
    services.db.dispose()
    for step in (
        "received",
        "draft_created",
        "ack_queued",
        "ack_sent",
        "follow_up_received",
        "draft_edited",
        "reply_queued",
        "reply_sent",
    ):
        assert step in kinds, f"{step} missing from the timeline {kinds}"
    assert kinds[-1] == "status"
