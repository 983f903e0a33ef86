"""Whose conversations a chat page shows: the signed-in user's when logins are on, otherwise
this browser's, named by a random id kept in its local storage (the sidebar that shows them:
`assistant/ui/conversations.py`)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

_BROWSER_ID = re.compile(r"[0-9a-f]{32}")


def _browser_id(value: object) -> str | None:
    return value if isinstance(value, str) and _BROWSER_ID.fullmatch(value) else None


def first_visit_id(secret: str, session_hash: str | None) -> str | None:
    """The id a browser without one takes: made from the page's Gradio session with a server
    secret, so every event of that page agrees on it whichever runs first (a question asked
    before the page's load event is kept under the id the load event then stores), and nobody
    can work it out from the session alone."""
    if not session_hash:
        return None
    return hmac.new(secret.encode(), session_hash.encode(), hashlib.sha256).hexdigest()[:32]


def owner_of(
    username: str | None, browser: Mapping[str, Any] | None, first_visit: str | None = None
) -> str | None:
    """Whose conversations these are: `user:NAME` behind a login, else `browser:ID` (the id the
    browser keeps, else `first_visit`: see `first_visit_id`)."""
    if username:
        return f"user:{username}"
    browser_id = _browser_id((browser or {}).get("id")) or _browser_id(first_visit)
    return f"browser:{browser_id}" if browser_id else None


def with_browser_id(
    browser: Mapping[str, Any] | None, first_visit: str | None = None
) -> dict[str, Any]:
    """The browser's stored state, given an id on its first visit (`first_visit`, else random)."""
    state = dict(browser or {})
    if not _browser_id(state.get("id")):
        state["id"] = _browser_id(first_visit) or secrets.token_hex(16)
    return state
