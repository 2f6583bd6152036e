"""The SMTP transport keeps its connection between messages, and never at a message's cost.

Against real aiosmtpd servers: the session-wide one, and private ones that
drop idle connections the way Postfix's ``smtpd_timeout`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from config import Settings
from consultant.mail.transport import SmtpTransport, TransientSendError
from tests.support.required import free_port
from tests.support.smtp import ClosingController, RecordingHandler, SmtpServer
from tests.support.waiting import wait_until

TO = ["dana@example.com"]


def _message(n: int) -> bytes:
    return (
        f"From: consult@caseconsultant.example\r\nTo: dana@example.com\r\n"
        f"Message-ID: <m{n}@caseconsultant.example>\r\nSubject: n{n}\r\n\r\nbody {n}\r\n"
    ).encode()


@pytest.fixture
def transport_for(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., SmtpTransport]]:
    made: list[SmtpTransport] = []

    def make(host: str, port: int) -> SmtpTransport:
        settings = make_settings(smtp_host=host, smtp_port=port, smtp_tls="none")
        made.append(SmtpTransport(settings))
        return made[-1]

    yield make
    for transport in made:
        transport.close()


@contextmanager
def idle_dropping_server(seconds: float) -> Iterator[SmtpServer]:
    """A server that closes a connection idle for ``seconds``."""
    handler = RecordingHandler()
    port = free_port()
    controller = ClosingController(handler, hostname="127.0.0.1", port=port, timeout=seconds)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


def test_a_burst_goes_out_on_one_connection(
    transport_for: Callable[..., SmtpTransport], smtp_server: SmtpServer
) -> None:
    transport = transport_for(smtp_server.host, smtp_server.port)
    for n in range(5):
        assert transport.send(_message(n), "consult@caseconsultant.example", TO).startswith("250")
    received = smtp_server.received
    assert len(received) == 5 and len({r.peer for r in received}) == 1
    assert transport.keeps_a_connection
    transport.close()
    assert not transport.keeps_a_connection


def test_a_connection_the_server_closed_is_replaced_and_nothing_is_lost_or_doubled(
    transport_for: Callable[..., SmtpTransport],
) -> None:
    with idle_dropping_server(0.3) as server:
        transport = transport_for(server.host, server.port)
        transport.send(_message(1), "consult@caseconsultant.example", TO)
        time.sleep(1.0)  # the server hangs up on the idle connection
        transport.send(_message(2), "consult@caseconsultant.example", TO)
        assert server.deliveries() == {
            "<m1@caseconsultant.example>": 1,
            "<m2@caseconsultant.example>": 1,
        }
        assert len({r.peer for r in server.received}) == 2


def test_after_a_failure_the_next_message_gets_a_new_connection(
    transport_for: Callable[..., SmtpTransport], smtp_server: SmtpServer
) -> None:
    transport = transport_for(smtp_server.host, smtp_server.port)
    transport.send(_message(1), "consult@caseconsultant.example", TO)
    smtp_server.fail_next("451 4.3.0 try later")
    with pytest.raises(TransientSendError, match="451"):
        transport.send(_message(2), "consult@caseconsultant.example", TO)
    assert not transport.keeps_a_connection
    transport.send(_message(3), "consult@caseconsultant.example", TO)
    first, third = smtp_server.received
    assert first.peer != third.peer


def test_an_idle_connection_is_closed_by_its_timer(
    transport_for: Callable[..., SmtpTransport], smtp_server: SmtpServer
) -> None:
    transport = transport_for(smtp_server.host, smtp_server.port)
    transport.REUSE_SECONDS = 0.2
    transport.send(_message(1), "consult@caseconsultant.example", TO)
    assert transport.keeps_a_connection
    wait_until(lambda: not transport.keeps_a_connection, "the idle connection to be closed", 5)
    transport.send(_message(2), "consult@caseconsultant.example", TO)
    assert len({r.peer for r in smtp_server.received}) == 2
