"""API keys: bearer tokens checked against scrypt hashes from settings, in constant time.

A key is verified with scrypt (~0.1 s) the first time it is seen; after that its SHA-256 digest
is remembered in memory, so a client pays the slow hash once per server run, not per request.
Wrong keys are remembered the same way (a bounded number), so a client repeating a wrong key
does not cost a hash each time. Keys are never logged, stored or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.errors import AUTHENTICATION, ApiError
from assistant.security import check_hashes, verify_password
from assistant.settings import Settings

_REMEMBERED_WRONG_KEYS = 1024
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class ApiKeys:
    """The configured API keys (name -> scrypt hash) and the check of a presented token."""

    def __init__(self, hashes: Mapping[str, str]) -> None:
        check_hashes(hashes, "API key")
        self._hashes = dict(hashes)
        self._verified: list[tuple[bytes, str]] = []  # digest of a good token, its key's name
        self._wrong: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        """The keys of the `api_keys` setting (hashes checked for form)."""
        return cls({name: secret.get_secret_value() for name, secret in settings.api_keys.items()})

    @property
    def required(self) -> bool:
        """Whether any key is configured (then every /v1 request needs one)."""
        return bool(self._hashes)

    def check(self, token: str) -> str | None:
        """The name of the key `token` is, or None."""
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        with self._lock:
            verified = list(self._verified)
            wrong = digest in self._wrong
        found = None
        for known, name in verified:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(known, digest):
                found = name
        if found is not None or wrong:
            return found
        for name, encoded in self._hashes.items():
            if verify_password(token, encoded):
                found = name
        with self._lock:
            if found is not None:
                self._verified.append((digest, found))
            else:
                self._wrong[digest] = None
                while len(self._wrong) > _REMEMBERED_WRONG_KEYS:
                    self._wrong.popitem(last=False)
        return found


_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made by `assistant hash-api-key`, as `Authorization: Bearer`.",
)


def key_dependency(keys: ApiKeys) -> Callable[..., str]:
    """A FastAPI dependency that admits a request only with a valid bearer key."""

    def require_api_key(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> str:
        if credentials is None or not credentials.credentials:
            raise ApiError(
                401,
                "missing API key: send the header `Authorization: Bearer <key>`",
                code="missing_api_key",
                kind=AUTHENTICATION,
                headers=_CHALLENGE,
            )
        name = keys.check(credentials.credentials)
        if name is None:
            raise ApiError(
                401,
                "invalid API key",
                code="invalid_api_key",
                kind=AUTHENTICATION,
                headers=_CHALLENGE,
            )
        return name  # the key's name (never the key itself)

    return require_api_key
