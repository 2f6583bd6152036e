"""Mail intake in tests: questions as bytes, services and pollers reading a Dovecot, rows stored."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import undefer

from config import Settings
from consultant.mail.imap_poller import ImapPoller
from consultant.mail.intake import Cursor, FetchedMessage, Intake
from consultant.mail.sources import Source
from consultant.models import InboundMessage
from consultant.services import Services, build_services
from tests.conftest import CONSULT_ADDRESS
from tests.support.corpus import question_files
from tests.support.dovecot import Dovecot

QUESTIONS = [path.read_bytes() for path in question_files()]


# -- messages -------------------------------------------------------------------


def message_id(raw: bytes) -> str:
    value = BytesHeaderParser().parsebytes(raw)["Message-ID"]
    assert value, "every corpus message used here has a Message-ID"
    return str(value).strip()


def with_message_id(raw: bytes, value: bytes) -> bytes:
    """``raw`` with its Message-ID header replaced by ``value`` (any bytes)."""
    return re.sub(rb"(?im)^message-id:[^\r\n]*", b"Message-ID: " + value, raw, count=1)


def padded(raw: bytes, size: int) -> bytes:
    """``raw`` grown to about ``size`` bytes by a body of plain ASCII lines."""
    line = b"Padding so that the message is as large as the test needs it to be.\r\n"
    return raw + line * max(0, (size - len(raw)) // len(line))


def folder_message_ids(server: Dovecot, folder: str) -> list[str]:
    return [message_id(raw) for raw in server.messages(folder)]


# -- the rows stored ------------------------------------------------------------


class RecordingIntake(Intake):
    """The real intake, noting the sizes of the messages of each batch it is handed."""

    def __init__(self, services: Services) -> None:
        super().__init__(services.db, services.dispatch)
        self.batches: list[list[int]] = []

    def store(
        self, mailbox: str, messages: Sequence[FetchedMessage], cursor: Cursor | None = None
    ) -> list[int]:
        self.batches.append([len(m.raw) for m in messages])
        return super().store(mailbox, messages, cursor)


def inbound_rows(services: Services) -> list[InboundMessage]:
    with services.db.session() as session:
        return list(
            session.scalars(
                select(InboundMessage)
                .options(undefer(InboundMessage.raw))
                .order_by(InboundMessage.id)
            )
        )


def inbound_count(services: Services) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


@contextmanager
def row_counter(database_url: str) -> Iterator[Callable[[], int]]:
    """Counts inbound rows without SQLite's write lock (the application's sessions take it
    at BEGIN), so that watching a poller process never holds it back."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))

    def count() -> int:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(InboundMessage)) or 0

    try:
        yield count
    finally:
        engine.dispose()


# -- services and pollers reading a Dovecot -------------------------------------


@contextmanager
def services_builder(
    make_settings: Callable[..., Settings], database_url: str
) -> Iterator[Callable[..., Services]]:
    built: list[Services] = []

    def make(server: Dovecot, **overrides: object) -> Services:
        values: dict[str, object] = {
            "database_url": database_url,
            "imap_host": server.host,
            "imap_port": server.port,
            "imap_user": server.user,
            "imap_password": server.password,
            "imap_tls": "none",
            "imap_idle_check_seconds": 0.2,
        }
        values.update(overrides)
        services = build_services(make_settings(**values))
        built.append(services)
        return services

    try:
        yield make
    finally:
        for services in built:
            services.db.dispose()


def fast_poller(services: Services) -> ImapPoller:
    """The poller with reconnect delays short enough for a test to see several attempts."""
    intake = Intake(services.db, services.dispatch)
    return ImapPoller(services.settings, intake, backoff_first=0.05, backoff_ceiling=0.2)


@contextmanager
def running(poller: Source) -> Iterator[threading.Thread]:
    """``poller.run`` in a thread; on leaving, stop it and check it ended without an error."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            poller.run(stop)
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    thread = threading.Thread(target=target, name="imap-poller", daemon=True)
    thread.start()
    try:
        yield thread
        assert thread.is_alive(), f"run() returned before it was stopped: {errors}"
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive(), "run() did not return after the stop event was set"
    assert errors == []


def poller_environment(server: Dovecot, database_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTANT_")}
    env.update(
        {
            "CONSULTANT_DATABASE_URL": database_url,
            "CONSULTANT_VAR_DIR": str(var_dir),
            "CONSULTANT_CONSULT_ADDRESS": CONSULT_ADDRESS,
            "CONSULTANT_IMAP_HOST": server.host,
            "CONSULTANT_IMAP_PORT": str(server.port),
            "CONSULTANT_IMAP_USER": server.user,
            "CONSULTANT_IMAP_PASSWORD": server.password,
            "CONSULTANT_IMAP_TLS": "none",
            "CONSULTANT_IMAP_BATCH_SIZE": "1",
            "CONSULTANT_IMAP_IDLE_CHECK_SECONDS": "0.2",
            "CONSULTANT_LOG_LEVEL": "INFO",
        }
    )
    return env
