"""Certificates for the tests' TLS servers (nginx, slapd), made with the `openssl` command: a
test CA and a server certificate it signed for 127.0.0.1, valid two days."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    """A CA's certificate and a server's certificate and key, as PEM files."""

    ca: Path
    cert: Path
    key: Path


def make_certificates(folder: Path, names: str = "IP:127.0.0.1,DNS:localhost") -> Certificates:
    """A test CA and a certificate it signed for the server at `names` (subjectAltName)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, request = folder / "server.pem", folder / "server.key", folder / "server.csr"
    extensions = folder / "server.ext"
    extensions.write_text(
        f"subjectAltName={names}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        encoding="utf-8",
    )
    commands = [
        [*("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA"),
         *("-keyout", str(ca_key), "-out", str(ca))],
        [*("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"),
         *("-keyout", str(key), "-out", str(request))],
        [*("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key)),
         *("-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert))],
    ]  # fmt: skip
    for command in commands:
        subprocess.run(["openssl", *command], check=True, capture_output=True)
    return Certificates(ca, cert, key)


def spki_pin(cert: Path) -> str:
    """The base64 SHA-256 of a certificate's public key (SubjectPublicKeyInfo, DER): what
    Chromium's `--ignore-certificate-errors-spki-list` takes."""
    public = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"],
        check=True,
        capture_output=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"],
        input=public,
        check=True,
        capture_output=True,
    ).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
