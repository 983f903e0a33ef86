"""Users, groups, grants and personal API keys, kept in the catalog: the index's SQLite file, or
the PostgreSQL database every replica shares (`assistant.accountstore`).

A user is an `admin` (reads every collection, manages the rest) or a `member` (reads the
collections granted to one of their groups or to them by name). Grants change what the next
question may read: nothing is cached across questions. Passwords are stored as scrypt hashes,
API keys as SHA-256 digests (`security.py`); neither is ever logged or shown again.

A directory (LDAP, `assistant.directory`) is a second source of users: a name that is not a
catalog user is looked up there, signs in with the directory's password check, and reads what
its directory groups are granted (a member, never an admin). A catalog user of the same name
wins, and signs in without the directory (so a local admin can when it is down). A trusted SSO
proxy's headers (`assistant.proxyauth`) are a third: its user is the catalog or directory user
of that name, else a member of the groups the proxy sends.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.account_types import (
    NAME,
    ApiKeyInfo,
    Grant,
    Role,
    User,
    check_account_name,
    check_password,
)
from assistant.accountstore import account_store, sqlite_accounts
from assistant.audit import AuditLog
from assistant.collections import check_name
from assistant.errors import AccountError, DirectoryUnavailableError
from assistant.security import api_key_digest, hash_password, new_api_key, verify_password
from assistant.sqlstore import DuplicateRowError, Statements, Store, holds_rows

if TYPE_CHECKING:
    from assistant.catalog import Catalog
    from assistant.directory import Directory
    from assistant.settings import Settings

_log = logging.getLogger(__name__)


class Accounts:
    """The users, groups, grants and personal keys of one index (one connection per thread)."""

    def __init__(
        self,
        store: Store | Path,
        directory: Directory | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        # A path: the accounts in that SQLite catalog file.
        self.store = sqlite_accounts(store) if isinstance(store, Path) else store
        self.directory = directory
        self.audit = audit  # where user, group, grant and key changes are recorded

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog | None = None) -> Accounts:
        """The accounts of the settings' catalog (the index's file, or the PostgreSQL database
        of `catalog_url`, through `catalog`'s connections when it is that database's), with the
        directory of the `ldap_*` settings."""
        store = account_store(settings, catalog)
        audit = AuditLog.from_settings(settings, catalog)
        if settings.ldap_url is None:
            return cls(
                store, audit=audit
            )  # ldap3 is not even imported (start-up time: tests/test_imports.py)
        from assistant.directory import Directory, DirectoryConfig

        config = DirectoryConfig.from_settings(settings)
        return cls(store, None if config is None else Directory(config), audit)

    def any_users(self) -> bool:
        """Whether any user exists, or a directory is configured (then the API asks every
        request for a key and the chat for a login)."""
        return self.directory is not None or holds_rows(self.store, "users")

    # -- users ----------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        password: str,
        groups: Iterable[str] = (),
        admin: bool = False,
        *,
        by: str | None = None,
        request_id: str | None = None,
    ) -> User:
        """Create a user; AccountError if the name is taken or the password too short."""
        check_account_name(name)
        check_password(password)
        wanted = _groups(groups)
        role: Role = "admin" if admin else "member"
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?)",
                    (name, hash_password(password), role, time.time()),
                )
                db.executemany("INSERT INTO user_groups VALUES (?, ?)", [(name, g) for g in wanted])
        except DuplicateRowError:
            raise AccountError(f"user {name!r} exists already") from None
        self.record("user_added", by, request_id, name=name, role=role, groups=wanted)
        return User(name, role, wanted)

    def remove_user(
        self, name: str, *, by: str | None = None, request_id: str | None = None
    ) -> None:
        """Delete a user with their groups, personal grants and API keys."""
        with self._transaction() as db:
            if db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise AccountError(f"no user {name!r}")
            db.execute("DELETE FROM grants WHERE kind = 'user' AND principal = ?", (name,))
        self.record("user_removed", by, request_id, name=name)

    def set_groups(
        self,
        name: str,
        groups: Iterable[str],
        *,
        by: str | None = None,
        request_id: str | None = None,
    ) -> User:
        """Replace a user's groups."""
        wanted = _groups(groups)
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise AccountError(f"no user {name!r}")
            db.execute('DELETE FROM user_groups WHERE "user" = ?', (name,))
            db.executemany("INSERT INTO user_groups VALUES (?, ?)", [(name, g) for g in wanted])
        self.record("groups_changed", by, request_id, name=name, groups=wanted)
        found = self.local_user(name)
        assert found is not None
        return found

    def set_role(
        self, name: str, admin: bool, *, by: str | None = None, request_id: str | None = None
    ) -> User:
        """Make a catalog user an admin or a member."""
        role: Role = "admin" if admin else "member"
        with self._transaction() as db:
            changed = db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
            if changed.rowcount == 0:
                raise AccountError(f"no user {name!r}")
        self.record("role_changed", by, request_id, name=name, role=role)
        found = self.local_user(name)
        assert found is not None
        return found

    def user(self, name: str) -> User | None:
        """A user by name: a catalog user, else a directory user (None when the directory is
        unreachable: they read nothing until it is back)."""
        local = self.local_user(name)
        if local is not None or self.directory is None or not NAME.fullmatch(name):
            return local
        try:
            found = self.directory.lookup(name)
        except DirectoryUnavailableError as exc:
            _log.warning("%s: directory user %r reads nothing", exc, name)
            return None
        return None if found is None else self._directory_user(found.name, found.groups)

    def proxy_user(self, name: str, groups: Iterable[str] | None) -> User | None:
        """Who a trusted SSO proxy's user is: the catalog user or directory user of that name,
        else a member of the groups the proxy sent (None: an invalid name)."""
        if not NAME.fullmatch(name):
            return None
        known = self.user(name)
        if known is not None or groups is None:
            return known or User(name, "member", (), "proxy")
        return User(
            name, "member", tuple(sorted({g for g in groups if NAME.fullmatch(g)})), "proxy"
        )

    def local_user(self, name: str) -> User | None:
        """A catalog user by name."""
        if not self.store.exists():
            return None
        row = self.store.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        groups = self.store.execute(
            'SELECT grp FROM user_groups WHERE "user" = ? ORDER BY grp', (name,)
        ).fetchall()
        return User(name, row[0], tuple(g for (g,) in groups))

    def users(self) -> list[User]:
        """Every user, by name."""
        if not self.store.exists():
            return []
        names = [n for (n,) in self.store.execute("SELECT name FROM users ORDER BY name")]
        return [u for u in (self.local_user(n) for n in names) if u is not None]

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is theirs, else None (same work for an unknown name).

        A name the catalog does not have is checked by the directory, when there is one:
        DirectoryUnavailableError when it cannot be asked (never for a catalog user)."""
        row = None
        if self.store.exists():
            row = self.store.execute(
                "SELECT password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        encoded = row[0] if row else _dummy_hash()
        ok = verify_password(password, encoded)
        if row is not None:
            return self.local_user(name) if ok else None
        if self.directory is None or not NAME.fullmatch(name):
            return None
        found = self.directory.authenticate(name, password)
        return None if found is None else self._directory_user(found.name, found.groups)

    # -- grants ---------------------------------------------------------------------------
    def grant(
        self,
        collection: str,
        *,
        group: str | None = None,
        user: str | None = None,
        by: str | None = None,
        request_id: str | None = None,
    ) -> Grant:
        """Let a group or a user read a collection (idempotent)."""
        grant = _grant(collection, group, user)
        if grant.kind == "user" and self.user(grant.principal) is None:
            raise AccountError(f"no user {grant.principal!r}")
        self.store.execute(
            "INSERT INTO grants VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (grant.collection, grant.kind, grant.principal),
        )
        self.record("grant_added", by, request_id, **asdict(grant))
        return grant

    def revoke(
        self,
        collection: str,
        *,
        group: str | None = None,
        user: str | None = None,
        by: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """Take a grant back; AccountError if there was none."""
        grant = _grant(collection, group, user)
        removed = self.store.execute(
            "DELETE FROM grants WHERE collection = ? AND kind = ? AND principal = ?",
            (grant.collection, grant.kind, grant.principal),
        ).rowcount
        if not removed:
            raise AccountError(f"no grant of {collection!r} to {grant.kind} {grant.principal!r}")
        self.record("grant_revoked", by, request_id, **asdict(grant))

    def grants(self) -> list[Grant]:
        """Every grant, by collection."""
        if not self.store.exists():
            return []
        rows = self.store.execute("SELECT * FROM grants ORDER BY collection, kind, principal")
        return [Grant(c, k, p) for c, k, p in rows]

    def readable(self, user: User) -> frozenset[str] | None:
        """The collections a user may read now (None: every collection, for admins)."""
        current = user if user.source == "proxy" else self.user(user.name)
        if current is None:
            return frozenset()  # removed since they signed in: nothing
        if current.admin:
            return None
        marks = ",".join("?" * len(current.groups))
        rows = self.store.execute(
            "SELECT collection FROM grants WHERE (kind = 'user' AND principal = ?)"
            + (f" OR (kind = 'group' AND principal IN ({marks}))" if current.groups else ""),
            (current.name, *current.groups),
        )
        return frozenset(c for (c,) in rows)

    # -- personal API keys ----------------------------------------------------------------
    def create_api_key(self, user: str) -> tuple[str, str]:
        """A new key for a user: (key id, key). The key is shown once and stored as a digest."""
        if self.local_user(user) is None:
            raise AccountError(f"no catalog user {user!r} (directory users sign in instead)")
        key = new_api_key()
        key_id = secrets.token_hex(4)
        self.store.execute(
            "INSERT INTO user_api_keys VALUES (?, ?, ?, ?)",
            (key_id, user, api_key_digest(key), time.time()),
        )
        self.record("api_key_created", key_id=key_id, owner=user)
        return key_id, key

    def api_keys(self) -> list[ApiKeyInfo]:
        """Every personal key (ids, owners and times only)."""
        if not self.store.exists():
            return []
        rows = self.store.execute(
            'SELECT key_id, "user", created FROM user_api_keys ORDER BY "user"'
        )
        return [ApiKeyInfo(k, u, c) for k, u, c in rows]

    def revoke_api_key(self, key_id: str) -> None:
        """Delete a personal key."""
        if not self.store.execute("DELETE FROM user_api_keys WHERE key_id = ?", (key_id,)).rowcount:
            raise AccountError(f"no API key {key_id!r}")
        self.record("api_key_revoked", key_id=key_id)

    def user_for_key(self, token: str) -> User | None:
        """The owner of a personal key (constant-time compare against every stored digest)."""
        found = self.personal_key(token)
        return None if found is None else found[1]

    def personal_key(self, token: str) -> tuple[str, User] | None:
        """The id and owner of the personal key `token` is (constant-time compare against
        every stored digest), or None."""
        if not self.store.exists():
            return None
        digest = api_key_digest(token)
        found = None
        for key_id, user, stored in self.store.execute(
            'SELECT key_id, "user", digest FROM user_api_keys'
        ):
            if hmac.compare_digest(bytes(stored), digest):
                found = (key_id, user)
        owner = None if found is None else self.local_user(found[1])
        return None if found is None or owner is None else (found[0], owner)

    def record(
        self, event: str, user: str | None = None, request_id: str | None = None, **details: object
    ) -> None:
        """Append an event to the audit log, when these accounts have one. Changes made on the
        command line (a trusted operator) have no acting user; the Admin tab names the admin."""
        if self.audit is not None:
            self.audit.record(event, user, request_id, **details)

    def _directory_user(self, name: str, groups: Iterable[str]) -> User:
        """A directory user: an admin when in one of `ldap_admin_groups`, else a member; with
        those of their groups whose names are valid here."""
        found = set(groups)
        admins = set() if self.directory is None else set(self.directory.config.admin_groups)
        role: Role = "admin" if found & admins else "member"
        return User(name, role, tuple(sorted(g for g in found if NAME.fullmatch(g))), "directory")

    def _transaction(self) -> AbstractContextManager[Statements]:
        return self.store.transaction()


@functools.cache
def _dummy_hash() -> str:
    """Checked against for unknown names, so that they take as long as known ones."""
    return hash_password("not a password of anyone", salt=b"0" * 16)


def _groups(groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({check_account_name(g, "group") for g in groups}))


def _grant(collection: str, group: str | None, user: str | None) -> Grant:
    check_name(collection)
    if (group is None) == (user is None):
        raise AccountError("grant to exactly one of a group or a user")
    if group is not None:
        return Grant(collection, "group", check_account_name(group, "group"))
    assert user is not None
    return Grant(collection, "user", check_account_name(user))


def visible(readable: frozenset[str] | None, existing: Sequence[str]) -> list[str]:
    """The existing collections a user may know about."""
    return [c for c in existing if readable is None or c in readable]
