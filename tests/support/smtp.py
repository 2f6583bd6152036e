"""A real SMTP server for the tests (aiosmtpd), recording what it accepts.

Tests can make it misbehave the ways real servers do: answer a temporary
(4xx) or permanent (5xx) error for the next N messages, refuse one
recipient, drop the connection after the message was handed over (having
accepted it, or not), hold a message until the test lets it go, or run a
test's function just before it answers 250. Deliveries are counted by
Message-ID, so a test can say that nothing arrived twice.
"""

from __future__ import annotations

import email
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.support.required import free_port
from tests.support.waiting import wait_until


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    peer: tuple[str, int] | None = None  # the client's end of the connection it came on

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


# Plans for the next messages, besides an SMTP reply line such as "451 4.3.0 later":
DROP = "drop"  # close the connection after the message arrived, without accepting it
ACCEPT_AND_DROP = "accept-and-drop"  # accept it (it will be delivered), then close, no reply
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.I | re.M)


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> RCPT reply
    hold: threading.Event | None = None  # while set to an unset Event, DATA waits
    held: threading.Event = field(default_factory=threading.Event)  # a message is waiting
    before_accept: Callable[[Received], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        with self.lock:
            reply = self.refused.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = Received(
            envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, session.peer
        )
        hold = self.hold
        if hold is not None:
            self.held.set()
            await server.loop.run_in_executor(None, hold.wait)
        with self.lock:
            plan = self.failures.pop(0) if self.failures else None
        if plan == DROP:
            server.transport.close()
            return "421 closing"  # never reaches the client
        if plan is not None and plan != ACCEPT_AND_DROP:
            return plan
        if self.before_accept is not None:
            await server.loop.run_in_executor(None, self.before_accept, message)
        with self.lock:
            self.received.append(message)
        if plan == ACCEPT_AND_DROP:
            server.transport.close()
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
        """Answer the next ``times`` messages with ``reply`` (e.g. ``451 4.3.0 try later``),
        or ``DROP`` / ``ACCEPT_AND_DROP`` them."""
        with self.handler.lock:
            self.handler.failures.extend([reply] * times)

    def refuse(self, recipient: str, reply: str = "550 5.1.1 User unknown") -> None:
        """Refuse ``recipient`` at RCPT with ``reply``."""
        with self.handler.lock:
            self.handler.refused[recipient.lower()] = reply

    def deliveries(self) -> Counter[str]:
        """How often each Message-ID was accepted."""
        counts: Counter[str] = Counter()
        for message in self.received:
            found = _MESSAGE_ID.search(message.raw)
            counts[found.group(1).decode() if found else "(none)"] += 1
        return counts

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until at least ``count`` messages arrived; fail the test after ``timeout``."""
        wait_until(lambda: len(self.received) >= count, f"{count} message(s) by SMTP", timeout)
        return self.received

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()
            self.handler.failures.clear()
            self.handler.refused.clear()
            self.handler.hold = None
            self.handler.held.clear()
            self.handler.before_accept = None


class ClosingController(Controller):
    """aiosmtpd's controller, which on ``stop`` first hangs up on the clients still connected.

    The sending side keeps its connection between messages; a server stopped
    under it would otherwise leave its end of each to the garbage collector.
    """

    def factory(self) -> SMTP:
        session = super().factory()
        self.sessions = [*getattr(self, "sessions", []), session]
        return session

    def stop(self, no_assert: bool = False) -> None:
        done = threading.Event()

        def hang_up() -> None:
            for session in getattr(self, "sessions", []):
                if session.transport is not None:
                    session.transport.abort()  # no TLS goodbye: the client may never answer
            # The sockets close in the loop's next turns: wait for those first.
            self.loop.call_soon(self.loop.call_soon, done.set)

        if self._thread is not None:
            self.loop.call_soon_threadsafe(hang_up)
            done.wait(5)
        super().stop(no_assert)


@pytest.fixture(scope="session")
def smtp_server_session() -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = ClosingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, handler)
    controller.stop()


@pytest.fixture
def smtp_server(smtp_server_session: SmtpServer) -> SmtpServer:
    """The SMTP server with nothing received and no failures planned."""
    smtp_server_session.reset()
    return smtp_server_session
