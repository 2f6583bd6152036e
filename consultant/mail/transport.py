"""Sending stored message bytes: over SMTP (aiosmtplib), or into a local Maildir outbox.

Both raise ``TransientSendError`` for what a later attempt may fix (4xx,
connection trouble, authentication) and ``PermanentSendError`` for a 5xx
answer about the message itself, so the outbox knows whether to retry.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib

from config import Settings

CLOSE_WAIT_SECONDS = 2.0
QUIT_SECONDS = 2.0
# A send ends within this share of the task's soft time limit (also in-process, where
# no worker enforces it), so that it never outlives the claim that protects it.
DEADLINE_SHARE = 0.8


class SendError(Exception):
    """Base of the errors a transport raises; the message is the server's text."""


class TransientSendError(SendError):
    """Raised when sending failed but may work later (4xx, network, authentication)."""


class PermanentSendError(SendError):
    """Raised when the server refused the message for good (a 5xx reply)."""


class OutcomeUnknownError(TransientSendError):
    """Raised when the connection ended after the message was handed over, before the reply.

    The server may have accepted it (and will deliver it) or not; only a new
    attempt, with the same Message-ID, makes sure it arrives.
    """


class Transport(Protocol):
    """Hands one message to whatever delivers it; returns the server's reply."""

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> str: ...


def _classify(code: int, text: str) -> SendError:
    message = f"{code} {text}".strip()
    return PermanentSendError(message) if 500 <= code < 600 else TransientSendError(message)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying TLS context, trusting ``ca_file`` in addition to the system store."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=str(ca_file))
    return context


async def _close(client: aiosmtplib.SMTP, protocol: Any = None) -> None:
    """Close the connection and wait (briefly) until it is really gone.

    aiosmtplib leaves the connection open when a login fails after STARTTLS,
    and a connection finishes closing only in later turns of the event loop,
    which closing the loop would otherwise end first, leaking the socket.
    ``protocol``: the connection's, taken before QUIT (which forgets it).
    """
    protocol = protocol or client.protocol
    client.close()
    deadline = asyncio.get_running_loop().time() + CLOSE_WAIT_SECONDS
    while protocol is not None and protocol.transport is not None:
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.01)


class _TrackedSMTP(aiosmtplib.SMTP):
    """An SMTP client that remembers whether the message itself was handed over (DATA)."""

    data_started = False

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(message, **kwargs)


class SmtpTransport:
    """Delivers through the configured SMTP server, over a connection kept between messages.

    A failure is reported by what it means for the message: refused for good
    (5xx), not sent and worth another try (4xx, no connection, a drop before
    the message was handed over), or handed over with no answer (a drop or a
    timeout during DATA), when nobody can know whether it was accepted.

    The connection is reused for the next message for ``REUSE_SECONDS`` after
    the last one and for at most ``REUSE_MESSAGES`` messages, then closed with
    QUIT (a timer closes it once idle): one TCP and TLS handshake and one
    login per burst instead of per message. A kept connection the server has
    meanwhile closed is noticed before the message is handed over, and the
    message goes out on a new one; after any failure the connection is
    dropped, never reused.
    """

    REUSE_SECONDS = 10.0
    REUSE_MESSAGES = 100

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host and settings.smtp_port
        self.settings = settings
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: _TrackedSMTP | None = None
        self._owner = os.getpid()  # a forked child starts with no connection of its own
        self._used_at = 0.0
        self._sent_on_it = 0
        self._closer: threading.Timer | None = None

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> str:
        with self._lock:
            if self._owner != os.getpid():
                self._loop, self._client, self._owner = None, None, os.getpid()
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
            accepted: list[str] = []
            try:
                return self._loop.run_until_complete(
                    self._deliver(raw, sender, recipients, accepted)
                )
            except Exception:
                if accepted:  # the server said 250: what stopped us afterwards changes nothing
                    return accepted[0]
                raise
            finally:
                if self._client is None:  # nothing kept: no loop left open either
                    self._close_now()

    @property
    def keeps_a_connection(self) -> bool:
        """Whether a connection is open for the next message."""
        return self._client is not None

    def close(self) -> None:
        """QUIT the kept connection (if any) and close the loop; the next send opens anew."""
        with self._lock:
            self._close_now()

    def _close_now(self) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        if self._client is not None and self._owner == os.getpid():
            self._loop.run_until_complete(self._goodbye(self._client))
        self._client = None
        self._loop.close()
        self._loop = None

    def _close_when_idle(self) -> None:
        """A timer's job: close the kept connection once nothing was sent on it for a while.

        So no connection outlives its use (the server would drop it anyway), and
        none is left for the garbage collector to find open.
        """
        with self._lock:
            self._closer = None
            idle = time.monotonic() - self._used_at
            if self._client is None:
                return
            if idle < self.REUSE_SECONDS:
                self._arm_closer(self.REUSE_SECONDS - idle)
                return
            self._close_now()

    def _arm_closer(self, delay: float) -> None:
        if self._closer is None:
            self._closer = threading.Timer(delay, self._close_when_idle)
            self._closer.daemon = True
            self._closer.start()

    async def _deliver(
        self, raw: bytes, sender: str, recipients: list[str], accepted: list[str]
    ) -> str:
        """On the kept connection if it is fresh enough, else a new one; once more on a new
        one when the kept one turns out closed before the message was handed over."""
        kept = self._client
        self._client = None
        fresh = time.monotonic() - self._used_at < self.REUSE_SECONDS
        if kept is not None and (not fresh or self._sent_on_it >= self.REUSE_MESSAGES):
            await self._goodbye(kept)
            kept = None
        if kept is not None:
            try:
                return await self._send(kept, raw, sender, recipients, accepted)
            except _StaleConnection:
                pass  # closed by the server while idle: nothing was handed over
        client = self._new_client()
        self._sent_on_it = 0
        return await self._send(client, raw, sender, recipients, accepted, new=True)

    def _new_client(self) -> _TrackedSMTP:
        s = self.settings
        return _TrackedSMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls == "ssl",
            start_tls=s.smtp_tls == "starttls",
            tls_context=tls_context(s.smtp_ca_file) if s.smtp_tls != "none" else None,
            timeout=s.smtp_timeout_seconds,
        )

    async def _goodbye(self, client: _TrackedSMTP) -> None:
        protocol = client.protocol
        with suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await asyncio.wait_for(client.quit(), QUIT_SECONDS)
        await _close(client, protocol)

    async def _send(
        self,
        client: _TrackedSMTP,
        raw: bytes,
        sender: str,
        recipients: list[str],
        accepted: list[str],
        new: bool = False,
    ) -> str:
        """Deliver within the task's soft time limit; the server's reply goes into ``accepted``
        the moment it comes, so that nothing after it can make the message look unsent."""
        s = self.settings
        client.data_started = False
        connected = not new
        try:
            async with asyncio.timeout(s.task_soft_time_limit_seconds * DEADLINE_SHARE):
                if new:
                    await client.connect()
                    connected = True
                    if s.smtp_user and s.smtp_password is not None:
                        await client.login(s.smtp_user, s.smtp_password.get_secret_value())
                errors, reply = await client.sendmail(sender, recipients, raw)
        except aiosmtplib.SMTPRecipientsRefused as error:
            await _close(client)
            worst = max(error.recipients, key=lambda r: r.code)
            raise _classify(worst.code, f"{worst.recipient}: {worst.message}") from None
        except aiosmtplib.SMTPAuthenticationError as error:
            await _close(client)
            raise TransientSendError(
                f"SMTP login as {s.smtp_user} failed: {error.code} {error.message}"
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            await _close(client)
            if not new and not client.data_started and error.code == 421:
                raise _StaleConnection from None  # "closing": a kept connection timed out
            raise _classify(error.code, error.message) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await _close(client)
            if not new and not client.data_started and not isinstance(error, TimeoutError):
                raise _StaleConnection from None
            where = f"SMTP server {s.smtp_host}:{s.smtp_port}"
            detail = str(error) or type(error).__name__
            if client.data_started:
                raise OutcomeUnknownError(
                    f"connection to {where} ended after the message was handed over and "
                    f"before its reply ({detail}): it may have been accepted"
                ) from None
            if connected:
                raise TransientSendError(
                    f"connection to {where} ended before the message was sent: {detail}"
                ) from None
            raise TransientSendError(f"cannot reach {where}: {detail}") from None
        except BaseException:
            await _close(client)
            raise
        # DATA succeeded, and its only success code is 250 (RFC 5321).
        refused = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in errors.items())
        accepted.append(f"250 {reply}; refused {refused}" if refused else f"250 {reply}")
        self._client, self._used_at = client, time.monotonic()
        self._sent_on_it += 1
        self._arm_closer(self.REUSE_SECONDS)
        return accepted[0]


class _StaleConnection(Exception):
    """A kept connection turned out closed before the message was handed over."""


class MaildirTransport:
    """The embedded outbox: each message becomes a file in ``<outbox>/new``."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        for sub in ("tmp", "new", "cur"):
            (outbox / sub).mkdir(parents=True, exist_ok=True)

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> str:
        # Maildir delivery: write under tmp/, then rename into new/ so readers never
        # see half a file.
        name = f"{time.time_ns()}.{os.getpid()}.{socket.gethostname()}"
        tmp = self.outbox / "tmp" / name
        try:
            tmp.write_bytes(raw)
            os.replace(tmp, self.outbox / "new" / name)
        except OSError as error:
            raise TransientSendError(f"cannot write to outbox {self.outbox}: {error}") from None
        return f"250 saved to {self.outbox / 'new' / name}"


def make_transport(settings: Settings) -> Transport:
    """SMTP when a host is configured, the Maildir outbox otherwise."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return MaildirTransport(settings.maildir_outbox)
