"""API keys: bearer tokens checked against the SHA-256 hashes in settings, in constant time.

A presented token is hashed once with SHA-256 and compared with every configured digest
(`hmac.compare_digest`, no early exit), so a check takes microseconds and its time does not
depend on which key matched. Keys are never logged, stored or echoed.

Keys hashed with scrypt by earlier versions (`scrypt$...`) are still accepted: such a key is
checked with scrypt (about 0.3 s) until it is first presented, then its SHA-256 digest takes the
scrypt hash's place for the rest of the run. Start-up logs one warning naming those keys (never
a key or a hash); docs/api.md says how to re-hash them.

A user may also send their name and password (`Authorization: Basic`): the way for directory
(LDAP) users, who have no personal keys. A wrong password is a 401 `invalid_credentials`, a
directory that cannot be reached a 503 `directory_unavailable`.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.account_types import User, loggable_name
from assistant.accounts import Accounts
from assistant.api.errors import AUTHENTICATION, SERVER, ApiError, api_error_for
from assistant.api.limits import refuse, under
from assistant.api.requestid import request_id_of
from assistant.errors import DirectoryUnavailableError
from assistant.proxyauth import TrustedProxy, peer_of
from assistant.security import api_key_digest, check_hashes, parse_api_key_hash, verify_password
from assistant.settings import Settings

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_log = logging.getLogger(__name__)


class ApiKeys:
    """The configured API keys (name -> hash) and the check of a presented token."""

    def __init__(self, hashes: Mapping[str, str]) -> None:
        check_hashes(hashes, "API key", parse_api_key_hash)
        self._digests: dict[str, bytes] = {}
        self._scrypt: dict[str, str] = {}  # hashed before SHA-256; until first presented
        for name, encoded in hashes.items():
            digest = parse_api_key_hash(encoded)
            if digest is None:
                self._scrypt[name] = encoded
            else:
                self._digests[name] = digest
        self._lock = threading.Lock()
        if self._scrypt:
            _log.warning(
                "API keys with a deprecated scrypt hash: %s; re-hash each with "
                "`assistant hash-api-key --stdin`, or replace it (docs/api.md)",
                ", ".join(sorted(self._scrypt)),
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        """The keys of the `api_keys` setting (hashes checked for form)."""
        return cls({name: secret.get_secret_value() for name, secret in settings.api_keys.items()})

    @property
    def required(self) -> bool:
        """Whether any key is configured (then every /v1 request needs one)."""
        return bool(self._digests or self._scrypt)

    @property
    def scrypt_hashed(self) -> list[str]:
        """The names of the keys still checked with scrypt (not presented yet), sorted."""
        with self._lock:
            return sorted(self._scrypt)

    def check(self, token: str) -> str | None:
        """The name of the key `token` is, or None."""
        digest = api_key_digest(token)
        with self._lock:
            digests = list(self._digests.items())
            scrypt = list(self._scrypt.items())
        found = None
        for name, known in digests:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(known, digest):
                found = name
        if found is not None or not scrypt:
            return found
        for name, encoded in scrypt:
            if verify_password(token, encoded):
                found = name
        if found is not None:
            with self._lock:  # from now on this key is checked by its digest
                if self._scrypt.pop(found, None) is not None:
                    self._digests[found] = digest
        return found


_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made by `assistant hash-api-key`, as `Authorization: Bearer`.",
)


class _Password(HTTPBasic):
    """A user's name and password as `Authorization: Basic`, or None; malformed ones are a 401
    in the API's own error format."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        try:
            return await super().__call__(request)
        except HTTPException:
            raise ApiError(
                401,
                "malformed Basic credentials: send base64 of `name:password`",
                code="invalid_credentials",
                kind=AUTHENTICATION,
                headers=_CHALLENGE,
            ) from None


_PASSWORD = _Password(
    auto_error=False,
    scheme_name="Password",
    description="A user's name and password (a catalog or directory user), as "
    "`Authorization: Basic`.",
)


def user_for_password(
    accounts: Accounts, credentials: HTTPBasicCredentials, request_id: str | None = None
) -> User:
    """The user signing in with Basic credentials; a 401 for a wrong name or password, a 503
    when the directory that would check them cannot be reached. Each attempt is audited."""
    tried = loggable_name(credentials.username)
    try:
        user = accounts.verify(credentials.username, credentials.password)
    except DirectoryUnavailableError as exc:
        accounts.record(
            "login_failed",
            None,
            request_id,
            method="basic",
            name=tried,
            reason="directory_unavailable",
        )
        raise ApiError(
            503,
            f"cannot check the password: {exc}; try again later",
            code="directory_unavailable",
            kind=SERVER,
            headers={"Retry-After": "30"},
        ) from None
    if user is None:
        accounts.record("login_failed", None, request_id, method="basic", name=tried)
        raise ApiError(
            401,
            "invalid user name or password",
            code="invalid_credentials",
            kind=AUTHENTICATION,
            headers=_CHALLENGE,
        )
    accounts.record("login", user.name, request_id, method="basic", source=user.source)
    return user


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a service key of the settings (reads everything), a user's personal
    key or password (reads what the user may read), or nobody on an API without keys."""

    key_name: str | None = None
    user: User | None = None
    request_id: str | None = None  # the request's (assistant.api.requestid)


def caller_check(
    keys: ApiKeys, accounts: Accounts, proxy: TrustedProxy | None = None
) -> Callable[[Request], Awaitable[Caller]]:
    """The check naming a request's caller; it admits a request without a valid key only when
    no key is configured and no user exists (checked per request: adding the first user closes
    the API at once). Behind a trusted SSO proxy, the user its header names (on a request from
    one of the proxies) comes first. Raises the 401 (or 503) as an `ApiError`."""

    def identify(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        password: HTTPBasicCredentials | None,
    ) -> Caller:
        request_id = request_id_of(request)
        identity = None if proxy is None else proxy.identity(peer_of(request), request.headers)
        if identity is not None:
            proxied = accounts.proxy_user(identity.name, identity.groups)
            if proxied is not None:
                accounts.record(
                    "login",
                    proxied.name,
                    request_id,
                    method="proxy",
                    source=proxied.source,
                )
                return Caller(user=proxied, request_id=request_id)
        needed = keys.required or accounts.any_users() or proxy is not None
        if password is not None:
            user = user_for_password(accounts, password, request_id)
            return Caller(user=user, request_id=request_id)
        if credentials is None or not credentials.credentials:
            if not needed:
                return Caller(request_id=request_id)
            raise ApiError(
                401,
                "missing API key: send the header `Authorization: Bearer <key>` "
                "(or a user's `Authorization: Basic` name and password)",
                code="missing_api_key",
                kind=AUTHENTICATION,
                headers=_CHALLENGE,
            )
        token = credentials.credentials
        name = keys.check(token) if keys.required else None
        if name is not None:
            # The key's name (never the key itself).
            accounts.record("api_key_used", None, request_id, key=name, kind="service")
            return Caller(key_name=name, request_id=request_id)
        personal = accounts.personal_key(token)
        if personal is not None:
            key_id, user = personal
            accounts.record("api_key_used", user.name, request_id, key=key_id, kind="personal")
            return Caller(user=user, request_id=request_id)
        if not needed:
            return Caller(request_id=request_id)
        accounts.record("login_failed", None, request_id, method="api_key")
        raise ApiError(
            401, "invalid API key", code="invalid_api_key", kind=AUTHENTICATION, headers=_CHALLENGE
        )

    async def check(request: Request) -> Caller:
        credentials = await _BEARER(request)
        password = await _PASSWORD(request)
        # A password or a directory may take a while (scrypt, LDAP): not on the event loop.
        return await run_in_threadpool(identify, request, credentials, password)

    return check


class AuthMiddleware:
    """Name the caller of every request under `prefix` before anything reads its body, so a
    request without a valid key learns nothing from the API: not whether its body parses,
    nor which endpoints exist (401, not 400, 404 or 405). The caller is left in the request's
    state, where `caller_of` hands it to the endpoints."""

    def __init__(
        self, app: ASGIApp, check: Callable[[Request], Awaitable[Caller]], prefix: str
    ) -> None:
        self.app = app
        self.check = check
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its caller named, or answer the 401."""
        if not under(scope, self.prefix):
            await self.app(scope, receive, send)
            return
        try:
            caller = await self.check(Request(scope))
        except Exception as exc:  # a 401, or a catalog or directory that cannot be reached
            await refuse(api_error_for(exc), scope, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def caller_of(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    password: Annotated[HTTPBasicCredentials | None, Depends(_PASSWORD)],
) -> Caller:
    """The FastAPI dependency giving an endpoint the caller `AuthMiddleware` named. (The two
    schemes are parameters so that the OpenAPI document lists them.)"""
    caller = getattr(request.state, "caller", None)
    if not isinstance(caller, Caller):
        raise RuntimeError("the API's AuthMiddleware did not run")
    return caller
