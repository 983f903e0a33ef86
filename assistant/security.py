"""Secrets at rest and who may connect: password and API key hashes, loopback checks.

Passwords (chosen by people, guessable) are stored as salted scrypt hashes. API keys are 256
random bits from `new_api_key`: nothing to guess, so a SHA-256 digest keeps one safe at rest and
checks it in microseconds. API keys hashed with scrypt before that are still accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping

from assistant.errors import AssistantError

SCHEME = "scrypt"
API_KEY_SCHEME = "sha256"
# scrypt cost: 2**15 * 8 * 128 bytes = 32 MiB and ~0.1 s per check on a laptop core, which is
# cheap for one login and expensive for guessing.
_N, _R, _P = 2**15, 8, 1
SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024
API_KEY_PREFIX = "qa-"


class AuthConfigError(AssistantError):
    """The configured logins or API keys cannot be used (malformed hash or unreadable file)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A self-describing scrypt hash of a password: `scrypt$n$r$p$salt$key`."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    key = _derive(password, salt, _N, _R, _P)
    return "$".join([SCHEME, str(_N), str(_R), str(_P), _b64(salt), _b64(key)])


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches a hash made by `hash_password` (constant-time compare)."""
    n, r, p, salt, key = parse_hash(encoded)
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """The scrypt parameters, salt and key of a hash; AuthConfigError when it is malformed."""
    parts = encoded.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise AuthConfigError("not a scrypt hash from `assistant hash-password`")
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError as exc:
        raise AuthConfigError("malformed hash") from exc
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or 128 * n * r > _MAX_MEMORY:
        raise AuthConfigError("hash parameters out of range")
    return n, r, p, salt, key


def check_hashes(
    hashes: Mapping[str, str], kind: str, parse: Callable[[str], object] = parse_hash
) -> None:
    """Raise AuthConfigError naming the entry when a name is empty or a hash malformed."""
    for name, encoded in hashes.items():
        if not name.strip():
            raise AuthConfigError(f"a {kind} has an empty name")
        try:
            parse(encoded)
        except AuthConfigError as exc:
            raise AuthConfigError(f"{kind} {name!r}: {exc}") from None


def new_api_key() -> str:
    """A fresh random API key (256 bits; the prefix helps secret scanners spot a leaked one)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of an API key: `sha256$<hex digest>` (no salt: the key is random)."""
    if not key:
        raise ValueError("the API key is empty")
    return f"{API_KEY_SCHEME}${api_key_digest(key).hex()}"


def api_key_digest(key: str) -> bytes:
    """The SHA-256 digest of an API key, as `hash_api_key` stores it."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def parse_api_key_hash(encoded: str) -> bytes | None:
    """The digest of a `sha256$<hex>` API key hash, or None for a scrypt one from before SHA-256
    (still accepted); AuthConfigError when it is malformed."""
    scheme, _, rest = encoded.strip().partition("$")
    if scheme == SCHEME:
        parse_hash(encoded)
        return None
    if scheme != API_KEY_SCHEME or not re.fullmatch(r"[0-9a-fA-F]{64}", rest):
        raise AuthConfigError("not a `sha256$<64 hex digits>` hash from `assistant hash-api-key`")
    return bytes.fromhex(rest)


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_KEY_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
