"""Web UI logins: the users from settings, the Gradio auth check, and the open-bind warning."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from assistant.security import (
    SALT_BYTES,
    AuthConfigError,
    check_hashes,
    hash_password,
    is_loopback,
    verify_password,
)
from assistant.settings import Settings

__all__ = [
    "AuthConfigError",
    "hash_password",
    "is_loopback",
    "load_users",
    "make_auth",
    "open_bind_warning",
    "verify_password",
]


def load_users(settings: Settings) -> dict[str, str]:
    """Username -> hash from `auth_users` and `auth_file`; every hash is checked for form."""
    users = {name: secret.get_secret_value() for name, secret in settings.auth_users.items()}
    if settings.auth_file is not None:
        users.update(_read_auth_file(settings.auth_file))
    check_hashes(users, "login")
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
    decoy = hash_password("decoy", salt=b"\0" * SALT_BYTES)

    def check(username: str, password: str) -> bool:
        encoded = table.get(username)
        matched = verify_password(password, encoded or decoy)
        return encoded is not None and matched

    return check


def open_bind_warning(host: str, unguarded: Sequence[str] = ("the web chat",)) -> str:
    """The loud warning printed when serving beyond this machine without logins or keys."""
    what = " and ".join(unguarded)
    lines = [
        f"WARNING: serving on {host}, which other machines can reach, with NO LOGIN "
        f"for {what} (--allow-unauthenticated-remote).",
        "Anyone on the network can read every indexed document"
        " and, unless switched off, upload files.",
        "Set logins (auth_users or auth_file; docs/ui.md) and API keys (api_keys; docs/api.md),",
        "or bind to 127.0.0.1. docs/security.md explains the policy.",
    ]
    width = max(len(line) for line in lines)
    bar = "!" * (width + 4)
    return "\n".join([bar, *(f"! {line.ljust(width)} !" for line in lines), bar])
