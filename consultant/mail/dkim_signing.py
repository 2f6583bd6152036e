"""DKIM signatures on the messages we send, from the operator's key (``dkimpy``).

Receivers that see our replies signed by the consult address's domain deliver
them rather than file them as spam. The signature goes on the stored bytes at
compose time, so a retry, the Maildir outbox and the Sent copy carry the same
signed message. The key is read and tried once at start: a wrong path or a
key dkimpy cannot use stops the process with the setting's name, instead of
every reply failing later.
"""

from __future__ import annotations

from collections.abc import Callable

import dkim

from config import ConfigError, Settings
from config.settings import ENV_PREFIX

Signer = Callable[[bytes], bytes]
# Signed besides dkimpy's defaults (From, To, Subject, Date, Message-ID, References ...):
# the headers Outlook threads by and the marks of an automatic reply.
EXTRA_HEADERS = (b"thread-topic", b"thread-index", b"auto-submitted", b"x-loop")
_PROBE = (
    b"From: probe@example.invalid\r\nSubject: probe\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
    b"Message-ID: <probe@example.invalid>\r\n\r\nprobe\r\n"
)


def unsigned(raw: bytes) -> bytes:
    return raw


class DkimSigner:
    """Prepends a ``DKIM-Signature`` (relaxed/relaxed, rsa-sha256 or ed25519-sha256)."""

    def __init__(self, selector: str, domain: str, key: bytes) -> None:
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("idna")
        self.key = key
        self.headers = [*dkim.DKIM.SHOULD, *EXTRA_HEADERS]

    def __call__(self, raw: bytes) -> bytes:
        present = _header_names(raw)
        signature = dkim.sign(
            raw,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[name for name in self.headers if name in present],
        )
        return signature + raw


def _header_names(raw: bytes) -> set[bytes]:
    """The lower-cased names of the header fields of ``raw`` (CRLF line ends)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    return {
        line.split(b":", 1)[0].strip().lower()
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    }


def make_signer(settings: Settings) -> Signer:
    """The signer the settings ask for, tried on a probe; ``unsigned`` without a selector."""
    if not settings.dkim_selector or settings.dkim_private_key_file is None:
        return unsigned
    path = settings.dkim_private_key_file
    try:
        key = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"{ENV_PREFIX}DKIM_PRIVATE_KEY_FILE: cannot read {path}: {error.strerror}"
        ) from error
    domain = settings.dkim_domain or settings.consult_address.rsplit("@", 1)[1]
    signer = DkimSigner(settings.dkim_selector, domain, key)
    try:
        signer(_PROBE)
    except (dkim.DKIMException, ValueError, IndexError) as error:
        raise ConfigError(
            f"{ENV_PREFIX}DKIM_PRIVATE_KEY_FILE: {path} is not a private key DKIM can sign "
            f"with (PEM, RSA or Ed25519): {error}"
        ) from error
    return signer
