"""A real SMTP server for the tests (aiosmtpd), recording what it accepts.

Tests can make it answer a temporary (4xx) or permanent (5xx) error for the
next N messages, to see retries and failures against a real server.
"""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.support.required import free_port
from tests.support.waiting import wait_until


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 2.0.0 Ok: queued as TEST"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def fail_next(self, reply: str, times: int = 1) -> None:
        """Answer the next ``times`` messages with ``reply`` (e.g. ``451 4.3.0 try later``)."""
        with self.handler.lock:
            self.handler.failures.extend([reply] * times)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until at least ``count`` messages arrived; fail the test after ``timeout``."""
        wait_until(lambda: len(self.received) >= count, f"{count} message(s) by SMTP", timeout)
        return self.received

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()
            self.handler.failures.clear()


@pytest.fixture(scope="session")
def smtp_server_session() -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, handler)
    controller.stop()


@pytest.fixture
def smtp_server(smtp_server_session: SmtpServer) -> SmtpServer:
    """The SMTP server with nothing received and no failures planned."""
    smtp_server_session.reset()
    return smtp_server_session
