"""IMAP over TLS (imaps and STARTTLS) and XOAUTH2 login, against real Dovecot servers."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from config import Settings
from consultant.mail.imap import ImapAuthError
from consultant.mail.imap_poller import ImapPoller
from consultant.mail.intake import Intake
from consultant.models import InboundMessage
from consultant.services import build_services
from tests.support.corpus import QUESTIONS
from tests.support.dovecot import Dovecot, Options, running_dovecot
from tests.support.tls import self_signed_certificate

GOOD_TOKEN = "ya29.valid-token-for-consult"
QUESTION = (QUESTIONS / "03.eml").read_bytes()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("imap-tls"))


@pytest.fixture(scope="module")
def tls_dovecot(certificate: tuple[Path, Path]) -> Iterator[Dovecot]:
    with running_dovecot(Options(tls=certificate)) as server:
        yield server


class _Introspection(BaseHTTPRequestHandler):
    """An OAuth2 token introspection endpoint (RFC 7662) that knows one token."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        token = parse_qs(self.rfile.read(length).decode()).get("token", [""])[0]
        body = {"active": True, "username": "consult"} if token == GOOD_TOKEN else {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet: the test output is not the place for request lines."""


@pytest.fixture(scope="module")
def oauth_dovecot() -> Iterator[Dovecot]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Introspection)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/introspect"
    try:
        with running_dovecot(Options(oauth2_introspection_url=url)) as dovecot:
            yield dovecot
    finally:
        server.shutdown()
        server.server_close()


def _poll(settings: Settings) -> list[InboundMessage]:
    services = build_services(settings)
    try:
        ImapPoller(settings, Intake(services.db, services.dispatch)).poll_once()
        with services.db.session() as session:
            return list(session.scalars(select(InboundMessage)))
    finally:
        services.db.dispose()


def _token_command(tmp_path: Path, token: str) -> str:
    script = tmp_path / "token.py"
    script.write_text(f"print({token!r})\n")
    return f"{sys.executable} {script}"


def test_imaps_with_the_servers_ca(
    make_settings: Callable[..., Settings],
    sqlite_url: str,
    tls_dovecot: Dovecot,
    certificate: tuple[Path, Path],
) -> None:
    tls_dovecot.reset()
    tls_dovecot.append(QUESTION)
    settings = make_settings(
        database_url=sqlite_url,
        imap_host=tls_dovecot.host,
        imap_port=tls_dovecot.tls_port,
        imap_user=tls_dovecot.user,
        imap_password=tls_dovecot.password,
        imap_tls="ssl",
        imap_ca_file=certificate[0],
    )
    (row,) = _poll(settings)
    assert row.message_id == "<s03.20261005@mail.example>"
    assert tls_dovecot.messages("INBOX") == []


def test_starttls_with_the_servers_ca(
    make_settings: Callable[..., Settings],
    sqlite_url: str,
    tls_dovecot: Dovecot,
    certificate: tuple[Path, Path],
) -> None:
    tls_dovecot.reset()
    tls_dovecot.append(QUESTION)
    settings = make_settings(
        database_url=sqlite_url,
        imap_host=tls_dovecot.host,
        imap_port=tls_dovecot.port,
        imap_user=tls_dovecot.user,
        imap_password=tls_dovecot.password,
        imap_tls="starttls",
        imap_ca_file=certificate[0],
    )
    assert len(_poll(settings)) == 1


def test_untrusted_certificate_is_refused(
    make_settings: Callable[..., Settings], sqlite_url: str, tls_dovecot: Dovecot
) -> None:
    tls_dovecot.reset()
    tls_dovecot.append(QUESTION)
    settings = make_settings(
        database_url=sqlite_url,
        imap_host=tls_dovecot.host,
        imap_port=tls_dovecot.tls_port,
        imap_user=tls_dovecot.user,
        imap_password=tls_dovecot.password,
        imap_tls="ssl",
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        _poll(settings)
    assert len(tls_dovecot.messages("INBOX")) == 1


def test_xoauth2_login_with_the_operators_token_command(
    make_settings: Callable[..., Settings],
    sqlite_url: str,
    oauth_dovecot: Dovecot,
    tmp_path: Path,
) -> None:
    oauth_dovecot.reset()
    oauth_dovecot.append(QUESTION)
    settings = make_settings(
        database_url=sqlite_url,
        imap_host=oauth_dovecot.host,
        imap_port=oauth_dovecot.port,
        imap_user="consult",
        imap_tls="none",
        imap_auth="xoauth2",
        imap_oauth2_token_command=_token_command(tmp_path, GOOD_TOKEN),
    )
    assert len(_poll(settings)) == 1


def test_xoauth2_with_a_rejected_token_is_an_auth_error(
    make_settings: Callable[..., Settings],
    sqlite_url: str,
    oauth_dovecot: Dovecot,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        database_url=sqlite_url,
        imap_host=oauth_dovecot.host,
        imap_port=oauth_dovecot.port,
        imap_user="consult",
        imap_tls="none",
        imap_auth="xoauth2",
        imap_oauth2_token_command=_token_command(tmp_path, "expired-token"),
    )
    with pytest.raises(ImapAuthError, match=f"consult@127.0.0.1:{oauth_dovecot.port}"):
        _poll(settings)


def test_failing_token_command_is_an_auth_error(
    make_settings: Callable[..., Settings], sqlite_url: str, oauth_dovecot: Dovecot
) -> None:
    settings = make_settings(
        database_url=sqlite_url,
        imap_host=oauth_dovecot.host,
        imap_port=oauth_dovecot.port,
        imap_user="consult",
        imap_tls="none",
        imap_auth="xoauth2",
        imap_oauth2_token_command="false",
    )
    with pytest.raises(ImapAuthError, match="TOKEN_COMMAND exited 1"):
        _poll(settings)
