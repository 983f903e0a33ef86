"""Web UI logins: scrypt password hashes, the Gradio auth check, and the open-bind warning."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings

SCHEME = "scrypt"
# scrypt cost: 2**15 * 8 * 128 bytes = 32 MiB and ~0.1 s per check on a laptop core, which is
# cheap for one login and expensive for guessing.
_N, _R, _P = 2**15, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024


class AuthConfigError(AssistantError):
    """The configured logins cannot be used (malformed hash or unreadable auth file)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A self-describing scrypt hash: `scrypt$n$r$p$salt$key` (base64 fields)."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    key = _derive(password, salt, _N, _R, _P)
    return "$".join([SCHEME, str(_N), str(_R), str(_P), _b64(salt), _b64(key)])


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches a hash made by `hash_password` (constant-time compare)."""
    n, r, p, salt, key = _parse(encoded)
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_KEY_BYTES
    )


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    parts = encoded.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise AuthConfigError("not a password hash from `assistant hash-password`")
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError as exc:
        raise AuthConfigError("malformed password hash") from exc
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or 128 * n * r > _MAX_MEMORY:
        raise AuthConfigError("password hash parameters out of range")
    return n, r, p, salt, key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_users(settings: Settings) -> dict[str, str]:
    """Username -> hash from `auth_users` and `auth_file`; every hash is checked for form."""
    users = {name: secret.get_secret_value() for name, secret in settings.auth_users.items()}
    if settings.auth_file is not None:
        users.update(_read_auth_file(settings.auth_file))
    for name, encoded in users.items():
        if not name.strip():
            raise AuthConfigError("a login has an empty username")
        try:
            _parse(encoded)
        except AuthConfigError as exc:
            raise AuthConfigError(f"login {name!r}: {exc}") from None
    return users


def _read_auth_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AuthConfigError(f"cannot read auth file {path}: {exc.strerror or exc}") from exc
    users = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, encoded = line.partition(":")
        if not sep:
            raise AuthConfigError(f"{path}:{number}: expected `username:hash`")
        users[name.strip()] = encoded.strip()
    return users


def make_auth(users: Mapping[str, str]) -> Callable[[str, str], bool] | None:
    """The `auth` callable for Gradio's launch(), or None when no logins are configured."""
    if not users:
        return None
    table = dict(users)
    # Unknown usernames still pay for one hash so timing does not reveal valid names.
    decoy = hash_password("decoy", salt=b"\0" * _SALT_BYTES)

    def check(username: str, password: str) -> bool:
        encoded = table.get(username)
        matched = verify_password(password, encoded or decoy)
        return encoded is not None and matched

    return check


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def open_bind_warning(host: str) -> str:
    """The loud warning printed when serving beyond this machine without logins."""
    lines = [
        "WARNING: the web chat is listening on "
        f"{host}, which other machines can reach, and NO LOGIN is configured.",
        "Anyone on the network can read every indexed document"
        " and, unless switched off, upload files.",
        "Set logins (ASSISTANT_AUTH_USERS or auth_file; see docs/ui.md) or bind to 127.0.0.1.",
    ]
    width = max(len(line) for line in lines)
    bar = "!" * (width + 4)
    return "\n".join([bar, *(f"! {line.ljust(width)} !" for line in lines), bar])
