"""Private Dovecot IMAP servers for the tests, each with its own config, port and Maildir.

Two kinds: ``dovecot`` advertises what Dovecot has (IDLE, MOVE, UIDPLUS ...);
``dovecot_basic`` advertises neither IDLE nor MOVE, like Office 365 and older
servers, so the polling and COPY/EXPUNGE fallbacks run against a real server.
One instance per test session (stopping takes ~2 s); tests start from an
empty mailbox.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.support.required import find_binary, free_port, port_open, require_service

USER, PASSWORD = "consult", "secret"
BASIC_CAPABILITIES = "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS"


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path
    tls_port: int | None = None

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        try:
            yield client
        finally:
            client.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)

    def deliver(self, raw: bytes) -> None:
        """Put ``raw`` into INBOX as a delivery agent does: a file in the Maildir, not APPEND.

        APPEND turns a NUL into 0x80; a file keeps every byte until Dovecot serves it.
        """
        maildir = self.root / "mail" / self.user / "Maildir"
        name = f"{time.time_ns()}.{os.getpid()}.cc-test"
        (maildir / "tmp" / name).write_bytes(raw)
        if os.geteuid() == 0:
            shutil.chown(maildir / "tmp" / name, "nobody", "nogroup")
        os.replace(maildir / "tmp" / name, maildir / "new" / name)

    def messages(self, folder: str) -> list[bytes]:
        """The raw bytes of every message in ``folder`` (empty if it does not exist)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            if not uids:
                return []
            fetched = client.fetch(uids, [b"BODY.PEEK[]"])
            return [fetched[uid][b"BODY[]"] for uid in sorted(fetched)]

    def flags(self, folder: str) -> list[tuple[bytes, ...]]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return [f for _, f in sorted(client.get_flags(uids).items())] if uids else []

    def kill(self) -> None:
        """SIGKILL the master and every child, as a crash of the server would: no goodbye."""
        master = _master_pid(self.root)
        doomed = [master, *_children(master)]
        for pid in doomed:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in doomed):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot processes {doomed} outlived SIGKILL")
            time.sleep(0.02)

    def restart(self) -> None:
        """Start the killed instance again: same config, port and mail directory."""
        # A killed master leaves its pid file, and Dovecot refuses to start over one
        # whose pid is still (or again) in use.
        (self.root / "run" / "master.pid").unlink(missing_ok=True)
        _launch(self.root, self.port)

    def reset(self) -> None:
        """Empty INBOX and remove every other folder."""
        with self.client() as client:
            for _flags, _delim, name in client.list_folders():
                if name.upper() != "INBOX":
                    client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()


@dataclass(frozen=True)
class Options:
    """What a test's Dovecot offers beyond plain IMAP with passwords."""

    capabilities: str | None = None
    tls: tuple[Path, Path] | None = None  # (certificate, key): STARTTLS and an imaps port
    oauth2_introspection_url: str | None = None  # XOAUTH2 checked against this endpoint


def _config(root: Path, port: int, tls_port: int | None, options: Options) -> str:
    if os.geteuid() == 0:
        user_lines = "mail_uid = nobody\nmail_gid = nogroup\nfirst_valid_uid = 1\n"
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        user_lines = (
            f"default_internal_user = {me}\ndefault_login_user = {me}\n"
            f"mail_uid = {me}\nfirst_valid_uid = 1\n"
        )
    extra = f"imap_capability = {options.capabilities}\n" if options.capabilities else ""
    ssl = "ssl = no\n"
    imaps = "port = 0"
    if options.tls:
        cert, key = options.tls
        ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
        imaps = f"address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes"
    mechanisms = "plain login"
    oauth2 = ""
    if options.oauth2_introspection_url:
        mechanisms += " xoauth2 oauthbearer"
        (root / "oauth2.conf.ext").write_text(
            "introspection_mode = post\n"
            f"introspection_url = {options.oauth2_introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
        )
        oauth2 = (
            "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {root}/oauth2.conf.ext\n}}\n"
        )
    return f"""instance_name = cc-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
# Refused logins are slowed down to deter guessing (a delay, and a penalty on the
# client's address for later logins); the tests refuse some on purpose.
auth_failure_delay = 0
auth_mechanisms = {mechanisms}
mail_location = maildir:{root}/mail/%u/Maildir
{user_lines}{extra}{oauth2}passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
"""


@contextmanager
def running_dovecot(options: Options | None = None) -> Iterator[Dovecot]:
    """A private Dovecot for as long as the context lasts."""
    options = options or Options()
    if find_binary("dovecot", "/usr/sbin") is None:
        require_service("Dovecot (install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="cc-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        shutil.chown(root / "mail", "nobody", "nogroup")
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    tls_port = free_port() if options.tls else None
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, tls_port, options))
    _launch(root, port)
    try:
        yield Dovecot("127.0.0.1", port, USER, PASSWORD, root, tls_port)
    finally:
        _stop(root)


def _launch(root: Path, port: int) -> None:
    """Start the instance configured in ``root`` and wait until it listens on ``port``."""
    binary = find_binary("dovecot", "/usr/sbin")
    assert binary is not None
    config = root / "dovecot.conf"
    # Dovecot daemonises and its children keep inherited pipes open: no capturing.
    started = subprocess.run(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if started.returncode != 0:
        require_service(f"Dovecot (did not start; `dovecot -c {config} -n` tells why)")
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            require_service(f"Dovecot (did not listen; see {root}/dovecot.log)")
        time.sleep(0.02)


def _master_pid(root: Path) -> int:
    return int((root / "run" / "master.pid").read_text().split()[0])


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Dovecot's services: login, imap, auth ...)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                # Field 4 of stat is the parent; the command name before it may hold spaces.
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie waiting for its parent to reap it counts as gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stop(root: Path) -> None:
    """Stop the instance and remove its folder once its master process has gone."""
    pid_file = root / "run" / "master.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().split()[0])
        with suppress(ProcessLookupError):  # killed by its test and not started again
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_basic_server() -> Iterator[Dovecot]:
    with running_dovecot(Options(capabilities=BASIC_CAPABILITIES)) as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The full-featured Dovecot, emptied for this test."""
    dovecot_server.reset()
    return dovecot_server


@pytest.fixture
def dovecot_basic(dovecot_basic_server: Dovecot) -> Dovecot:
    """A Dovecot without IDLE and MOVE, emptied for this test."""
    dovecot_basic_server.reset()
    return dovecot_basic_server
