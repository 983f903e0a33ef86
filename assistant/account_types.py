"""The value types of accounts (`User`, `Grant`, `ApiKeyInfo`) and what a user or group name
may be.

The chat, the API, the SSO proxy's sign-in and the answer flow pass these around without
reading or writing any account; here they need not load the account store (`assistant.accounts`)
to name a user or check a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assistant.errors import AccountError

Role = Literal["admin", "member"]
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


@dataclass(frozen=True)
class User:
    """Someone who signs in (or whose API key is used): their role and groups."""

    name: str
    role: Role = "member"
    groups: tuple[str, ...] = ()
    # Where they come from: the catalog, the directory (LDAP), or a trusted SSO proxy's
    # headers (then `groups` are the proxy's, current for the request that carried them).
    source: Literal["catalog", "directory", "proxy"] = "catalog"

    @property
    def admin(self) -> bool:
        """Whether the user may read everything and manage users, grants and documents."""
        return self.role == "admin"


@dataclass(frozen=True)
class Grant:
    """A collection readable by a group or a user."""

    collection: str
    kind: Literal["group", "user"]
    principal: str


@dataclass(frozen=True)
class ApiKeyInfo:
    """A personal API key as listed (never the key itself)."""

    key_id: str
    user: str
    created: float


MIN_PASSWORD_CHARS = 8


def check_password(password: str) -> str:
    """A password long enough for a login (a catalog user's or a settings login's)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    return password


def valid_name(name: object) -> bool:
    """Whether `name` is a valid user or group name (letters, digits, `_ . @ -`; at most 64)."""
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def loggable_name(name: str) -> str | None:
    """A name tried at a failed sign-in as the audit log keeps it: None unless it is a valid
    user name (so a password typed into the name field is not recorded)."""
    return name if valid_name(name) else None


def check_account_name(name: str, what: str = "user") -> str:
    """A valid user or group name (letters, digits, `_ . @ -`; at most 64)."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise AccountError(f"bad {what} name {name!r}: use letters, digits, '_', '.', '@' or '-'")
    return name
