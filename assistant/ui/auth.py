"""Web UI logins: the catalog's users and the settings' logins, the Gradio auth check, who a
signed-in name reads as, and the open-bind warning.

A name in the catalog (`assistant users add`) is always that catalog user: their password,
their grants. The settings' logins (`auth_users`, `auth_file`) are the operator's own and read
every collection, like the API's service keys; a settings login whose name is also a catalog
user's is that user. Who a name reads as is looked up on every request, so grants, removals and
new users apply without a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException

from assistant.account_types import User, loggable_name
from assistant.accounts import Accounts
from assistant.audit import new_request_id
from assistant.errors import DirectoryUnavailableError
from assistant.proxyauth import TrustedProxy, headers_of, peer_of
from assistant.security import (
    AuthConfigError,
    check_hashes,
    hash_password,
    is_loopback,
    verify_password,
)
from assistant.settings import Settings

__all__ = [
    "NOBODY",
    "AuthConfigError",
    "WebLogins",
    "gradio_login_check",
    "hash_password",
    "is_loopback",
    "load_users",
    "open_bind_warning",
    "username_of",
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


# Reads nothing: no catalog user has this name, so `Accounts.readable` grants it no collection.
NOBODY = User(name="", role="member")


@dataclass(frozen=True)
class WebLogins:
    """Who may sign in to the web chat, and what a signed-in name reads."""

    accounts: Accounts
    logins: Mapping[str, str] = field(default_factory=dict)  # the settings' name -> hash
    proxy: TrustedProxy | None = None  # then a trusted SSO proxy signs users in, not a form
    # Who the proxy last said each name is (its groups come with every request).
    _proxied: dict[str, User] = field(default_factory=dict, repr=False, compare=False)

    @property
    def required(self) -> bool:
        """Whether the chat asks for a login (decided when it is mounted)."""
        return bool(self.logins) or self.accounts.any_users() or self.proxy is not None

    def proxy_login(self, request: object) -> str | None:
        """Gradio's `auth_dependency` behind a trusted proxy: the name its header gives when
        the request comes from one of `trusted_proxies`, else None (Gradio answers 401)."""
        if self.proxy is None:
            return None
        identity = self.proxy.identity(peer_of(request), headers_of(request))
        user = (
            None if identity is None else self.accounts.proxy_user(identity.name, identity.groups)
        )
        if user is None:
            return None
        if self._proxied.get(user.name) != user:  # the first request of a sign-in, not each
            self._audit("login", user.name, method="proxy", source=user.source)
        self._proxied[user.name] = user
        return user.name

    def check(self, username: str, password: str) -> bool:
        """Gradio's login check: one scrypt hash per attempt, whoever the name is (an unknown
        name is checked against a decoy), so timing does not tell which names exist. A name
        the catalog does not have is checked by the directory, if one is configured
        (DirectoryUnavailableError when it cannot be reached)."""
        encoded = self.logins.get(username)
        try:
            if encoded is not None and self.accounts.user(username) is None:
                ok, source = verify_password(password, encoded), "settings"
            else:
                user = self.accounts.verify(username, password)
                ok, source = user is not None, "catalog" if user is None else user.source
        except DirectoryUnavailableError:
            self._audit(
                "login_failed",
                None,
                method="password",
                name=loggable_name(username),
                reason="directory_unavailable",
            )
            raise
        if ok:
            self._audit("login", username, method="password", source=source)
        else:
            self._audit("login_failed", None, method="password", name=loggable_name(username))
        return ok

    def _audit(self, event: str, user: str | None, **details: object) -> None:
        # A sign-in form has no request of ours: each attempt is its own request id.
        self.accounts.record(event, user, new_request_id(), **details)

    def reader(self, username: str | None) -> User | None:
        """Who a request reads as: a catalog user, None (everything: a settings login, or a
        chat without logins on an index without users), or NOBODY (a removed user; anyone on
        a chat mounted without logins once users exist). Behind a trusted proxy: the user its
        header named on this name's latest request."""
        if self.proxy is not None:
            seen = self._proxied.get(username or "")
            if seen is None:
                return NOBODY
            return seen if seen.source == "proxy" else (self.accounts.user(seen.name) or NOBODY)
        if not username:
            return NOBODY if self.accounts.any_users() else None
        user = self.accounts.user(username)
        if user is not None:
            return user
        return None if username in self.logins else NOBODY

    def administers(self, username: str | None) -> bool:
        """Whether this name is signed in and reads everything (a catalog admin or a settings
        login): the Quality and Admin tabs are theirs. Never on a chat without logins."""
        if not username or not self.required:
            return False
        reader = self.reader(username)
        return reader is None or reader.admin

    def may_change_index(self, username: str | None) -> bool:
        """Whether this name may upload and re-index: whoever reads everything (admins, the
        settings' logins, anyone on an open chat without users), never a member."""
        reader = self.reader(username)
        return reader is None or reader.admin


def gradio_login_check(logins: WebLogins) -> Callable[[str, str], bool]:
    """`logins.check` for Gradio's `/login`: a wrong password is Gradio's 400, an unreachable
    directory a 503 whose detail the login page shows (assistant.ui.login)."""

    def check(username: str, password: str) -> bool:
        try:
            return logins.check(username, password)
        except DirectoryUnavailableError as exc:
            raise HTTPException(
                503,
                detail=f"Cannot check your password: {exc}. Try again later "
                "(accounts of this server's own catalog can still sign in).",
            ) from None

    return check


def username_of(request: object) -> str | None:
    """The signed-in name of a Gradio request (None without logins)."""
    name = getattr(request, "username", None)
    return name if isinstance(name, str) and name else None


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
