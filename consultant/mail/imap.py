"""Opening an authenticated IMAP connection as the settings describe.

Used by the poller and by the Sent-folder copy. TLS is ``ssl`` (port 993),
``starttls`` or ``none`` (only for a server on localhost, such as the tests'
Dovecot); login is a password or XOAUTH2 with a token the operator's own
command prints (msal, google-auth, oauth2l ...), run for every connection so
that a refreshed token is always used.
"""

from __future__ import annotations

import logging
import re
import shlex
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from config import Settings
from consultant.mail.transport import tls_context


class ImapAuthError(Exception):
    """Raised when the server refuses our credentials; says which user and server."""


def _enable_keepalive(client: IMAPClient) -> None:
    """TCP keepalive so that a silently dropped connection is noticed during IDLE.

    A server that dies closes the connection and the poller sees that at once;
    a connection dropped on the way (a NAT or firewall forgetting it) sends
    nothing, and without probes IDLE would wait on it until its renewal. These
    values give up after about a minute of silence.
    """
    sock = client.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def _quiet_protocol_log(client: IMAPClient) -> None:
    """Stop imaplib formatting responses for a protocol log nobody reads.

    imapclient sets imaplib's debug level to 5, at which imaplib formats every
    untagged response into a log string before asking the logger, literals
    included: each fetched 30 MB message became two more strings of its size.
    With DEBUG on for ``imapclient.imaplib`` the protocol log stays as it was.
    """
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


def _oauth2_token(command: str) -> str:
    result = subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise ImapAuthError(
            f"CONSULTANT_IMAP_OAUTH2_TOKEN_COMMAND exited {result.returncode} "
            "without printing a token"
        )
    return result.stdout.strip()


def _server_text(error: Exception) -> str:
    """The server's words from a refused login, not the ``b'...'`` repr imaplib leaves there."""
    text = str(error)
    quoted = re.fullmatch(r"b(['\"])(.*)\1", text, re.DOTALL)
    return quoted.group(2) if quoted else text


def ensure_folder(client: IMAPClient, folder: str) -> bool:
    """Create ``folder`` unless it exists; True if this call created it.

    Another process may create it between our check and our CREATE (two
    workers filing their first Sent copy at once): that is not an error.
    """
    if client.folder_exists(folder):
        return False
    try:
        client.create_folder(folder)
    except IMAPClientError:
        if client.folder_exists(folder):
            return False
        raise
    return True


def describe(settings: Settings) -> str:
    """``user@host:port`` for log lines; never includes a secret."""
    return f"{settings.imap_user}@{settings.imap_host}:{settings.imap_port}"


@contextmanager
def imap_connection(settings: Settings) -> Iterator[IMAPClient]:
    """A logged-in client; logs out (or just closes) on the way out, whatever happened."""
    assert settings.imap_host and settings.imap_user
    context = tls_context(settings.imap_ca_file) if settings.imap_tls != "none" else None
    client = IMAPClient(
        settings.imap_host,
        port=settings.imap_port,
        ssl=settings.imap_tls == "ssl",
        ssl_context=context,
        timeout=settings.imap_timeout_seconds,
    )
    try:
        _enable_keepalive(client)
        _quiet_protocol_log(client)
        if settings.imap_tls == "starttls":
            client.starttls(context)
        try:
            if settings.imap_auth == "xoauth2":
                assert settings.imap_oauth2_token_command
                client.oauth2_login(
                    settings.imap_user, _oauth2_token(settings.imap_oauth2_token_command)
                )
            else:
                assert settings.imap_password is not None
                client.login(settings.imap_user, settings.imap_password.get_secret_value())
        except LoginError as error:
            raise ImapAuthError(
                f"IMAP login as {describe(settings)} refused: {_server_text(error)}"
            ) from None
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; closing is all that is left
            with suppress(Exception):
                client.shutdown()
