"""A directory (LDAP) as a second source of users and groups, behind `Accounts`.

A directory user signs in by binding as themselves: the directory checks the password, nothing
is stored here. Their groups are read from the directory (with the service account when one is
configured, else as the user at sign-in and anonymously after) and kept `ldap_cache_seconds`,
so a group change in the directory applies within that time. An unreachable directory raises
`DirectoryUnavailableError`, which callers tell apart from a wrong password (None).
"""

from __future__ import annotations

import contextlib
import logging
import math
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ldap3 import AUTO_BIND_NONE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPStartTLSError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from pydantic import SecretStr

from assistant.errors import DirectoryUnavailableError
from assistant.settings import Settings

_log = logging.getLogger(__name__)
_INVALID_CREDENTIALS = 49
_NEEDS_TLS = 13  # confidentialityRequired


@dataclass(frozen=True)
class DirectoryConfig:
    """Where the directory is and how users and groups are found in it (from the settings)."""

    url: str
    user_dn_template: str | None = None
    user_search_base: str | None = None
    user_filter: str = "(uid={username})"
    bind_dn: str | None = None
    bind_password: SecretStr | None = None
    group_search_base: str | None = None
    group_filter: str = "(|(member={dn})(uniqueMember={dn})(memberUid={username}))"
    group_attribute: str = "cn"
    timeout: float = 5.0
    cache_seconds: float = 60.0
    start_tls: bool = False
    ca_file: Path | None = None
    admin_groups: tuple[str, ...] = ()  # members of these are admins

    @classmethod
    def from_settings(cls, settings: Settings) -> DirectoryConfig | None:
        """The `ldap_*` settings, or None when no directory is configured."""
        if settings.ldap_url is None:
            return None
        return cls(
            url=settings.ldap_url,
            user_dn_template=settings.ldap_user_dn_template,
            user_search_base=settings.ldap_user_search_base,
            user_filter=settings.ldap_user_filter,
            bind_dn=settings.ldap_bind_dn,
            bind_password=settings.ldap_bind_password,
            group_search_base=settings.ldap_group_search_base,
            group_filter=settings.ldap_group_filter,
            group_attribute=settings.ldap_group_attribute,
            timeout=settings.ldap_timeout,
            cache_seconds=settings.ldap_cache_seconds,
            start_tls=settings.ldap_start_tls,
            ca_file=settings.ldap_ca_file,
            admin_groups=tuple(settings.ldap_admin_groups),
        )

    @property
    def tls(self) -> Tls:
        """TLS for ldaps:// and StartTLS: the server's certificate must chain to the CA file
        (or the system's CAs) and name the host of `url`."""
        ca_file = str(self.ca_file) if self.ca_file is not None else None
        return Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)


@dataclass(frozen=True)
class DirectoryUser:
    """A user found in the directory: their name, entry and the names of their groups."""

    name: str
    dn: str
    groups: tuple[str, ...] = ()


class Directory:
    """Checks passwords against the directory and reads group membership, cached briefly."""

    def __init__(self, config: DirectoryConfig) -> None:
        self.config = config
        self._cache: dict[str, tuple[float, DirectoryUser | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, name: str, password: str) -> DirectoryUser | None:
        """The user when the directory accepts the password (a bind as them), else None;
        DirectoryUnavailableError when the directory cannot say."""
        if not password:  # an empty password is an unauthenticated bind, which succeeds
            return None
        needs_service = self.config.user_search_base or self.config.bind_dn
        service = self._service() if needs_service else None
        try:
            dn = self._user_dn(service, name)
            if dn is None:
                return None
            connection = self._bind(dn, password, service=False)
            if connection is None:
                return None
            try:
                found = DirectoryUser(name, dn, self._groups(service or connection, dn, name))
            finally:
                connection.unbind()
        finally:
            if service is not None:
                service.unbind()
        self._remember(name, found)
        return found

    def lookup(self, name: str) -> DirectoryUser | None:
        """A directory user by name with their groups (kept `cache_seconds`), None if there is
        none; DirectoryUnavailableError when the directory cannot say."""
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        service = self._service()
        try:
            dn = self._user_dn(service, name)
            found = None if dn is None else DirectoryUser(name, dn, self._groups(service, dn, name))
        finally:
            service.unbind()
        self._remember(name, found)
        return found

    def _remember(self, name: str, found: DirectoryUser | None) -> None:
        with self._lock:
            self._cache[name] = (time.monotonic() + self.config.cache_seconds, found)

    def _service(self) -> Connection:
        """A connection bound as the service account, or anonymously without one."""
        secret = self.config.bind_password
        connection = self._bind(
            self.config.bind_dn or "", secret.get_secret_value() if secret else "", service=True
        )
        assert connection is not None  # a refused service bind raises
        return connection

    def _bind(self, dn: str, password: str, *, service: bool) -> Connection | None:
        """A bound connection; None when the directory refuses a user's password."""
        server = Server(
            self.config.url,
            connect_timeout=self.config.timeout,
            get_info=NONE,
            tls=self.config.tls,
        )
        connection = Connection(
            server,
            user=dn or None,
            password=password or None,
            auto_bind=AUTO_BIND_NONE,
            read_only=True,
            receive_timeout=math.ceil(self.config.timeout),  # ldap3 packs it as an integer
            raise_exceptions=False,
        )
        try:
            if self.config.start_tls:
                connection.open()
                connection.start_tls()  # before the bind: the password goes over TLS only
            if connection.bind():
                return connection
        except LDAPException as exc:
            _close_quietly(connection)
            raise self._unreachable(exc) from None
        code = connection.result.get("result")
        description = connection.result.get("description", "error")
        connection.unbind()
        if code == _INVALID_CREDENTIALS and not service:
            return None
        who = "the service account (ldap_bind_dn)" if service else "a user"
        hint = " (it wants TLS: set ldap_start_tls or use ldaps://)" if code == _NEEDS_TLS else ""
        raise DirectoryUnavailableError(
            f"the user directory at {self.config.url} refused the bind of {who}: "
            f"{description}{hint}"
        )

    def _user_dn(self, service: Connection | None, name: str) -> str | None:
        """The DN of `name`'s entry: from the template, or searched for (None: no such user)."""
        if self.config.user_dn_template is not None:
            return self.config.user_dn_template.replace("{username}", escape_rdn(name))
        assert service is not None
        assert self.config.user_search_base is not None
        query = self.config.user_filter.replace("{username}", escape_filter_chars(name))
        entries = self._search(service, self.config.user_search_base, query, [])
        return entries[0][0] if len(entries) == 1 else None

    def _groups(self, connection: Connection, dn: str, name: str) -> tuple[str, ...]:
        """The names of the groups `dn` is a member of (none without a group search base)."""
        base = self.config.group_search_base
        if base is None:
            return ()
        query = self.config.group_filter.replace("{dn}", escape_filter_chars(dn))
        query = query.replace("{username}", escape_filter_chars(name))
        attribute = self.config.group_attribute
        names = set()
        for _, attributes in self._search(connection, base, query, [attribute]):
            value = attributes.get(attribute)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item:
                    names.add(item)
        return tuple(sorted(names))

    def _search(
        self, connection: Connection, base: str, query: str, attributes: list[str]
    ) -> list[tuple[str, dict[str, object]]]:
        """(dn, attributes) of every entry found; an absent base finds nothing."""
        try:
            connection.search(base, query, search_scope=SUBTREE, attributes=attributes or None)
        except LDAPException as exc:
            raise self._unreachable(exc) from None
        code = connection.result.get("result")
        if code not in (0, 32):  # 32: no such object (the base is not there)
            raise DirectoryUnavailableError(
                f"the user directory at {self.config.url} refused a search: "
                f"{connection.result.get('description', 'error')}"
            )
        return [
            (entry["dn"], dict(entry.get("attributes", {})))
            for entry in connection.response or []
            if entry.get("type") == "searchResEntry"
        ]

    def _unreachable(self, exc: LDAPException) -> DirectoryUnavailableError:
        _log.warning("user directory %s: %s", self.config.url, type(exc).__name__)
        if _is_tls_failure(exc):
            return DirectoryUnavailableError(
                f"the user directory at {self.config.url} failed the TLS handshake (is its "
                "certificate signed by ldap_ca_file or a system CA, for this host name?)"
            )
        return DirectoryUnavailableError(
            f"the user directory at {self.config.url} cannot be reached ({type(exc).__name__})"
        )


def _close_quietly(connection: Connection) -> None:
    """Close a connection that failed (its socket may be gone already: a failed handshake)."""
    with contextlib.suppress(LDAPException, OSError):
        connection.unbind()


def _is_tls_failure(exc: LDAPException) -> bool:
    """Whether ldap3 failed on TLS (a certificate not trusted, a wrong name, no StartTLS)."""
    if isinstance(exc, LDAPStartTLSError):
        return True
    text = str(exc).lower()
    return "certificate" in text or "ssl" in text or "tls" in text
