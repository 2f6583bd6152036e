"""A self-signed certificate for 127.0.0.1, for the tests' TLS servers (openssl CLI)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.required import find_binary, require_service


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files valid for IP 127.0.0.1; the certificate is its own CA."""
    openssl = find_binary("openssl")
    if openssl is None:
        require_service("the openssl command (to make a test certificate)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
