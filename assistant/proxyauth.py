"""Sign-in by a trusted SSO proxy (oauth2-proxy and the like): the user a proxy names in a
header, believed only when the request comes straight from one of the configured proxies.

The peer is the socket's own address (`assistant serve` runs uvicorn without proxy headers),
so an X-Forwarded-For cannot make a request look as if it came from a proxy. From any other
peer the header is ignored, as if it had not been sent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.account_types import valid_name
from assistant.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ProxyIdentity:
    """Who a trusted proxy says a request is from, and their groups (if it says)."""

    name: str
    groups: tuple[str, ...] | None = None  # None: the proxy sends no groups header


@dataclass(frozen=True)
class TrustedProxy:
    """The headers a proxy names users in, and the addresses they are believed from."""

    user_header: str
    groups_header: str | None
    networks: tuple[Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustedProxy | None:
        """The `trusted_*` settings, or None when no proxy signs users in."""
        if settings.trusted_user_header is None:
            return None
        return cls(
            settings.trusted_user_header,
            settings.trusted_groups_header,
            tuple(ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies),
        )

    def trusts(self, peer: str | None) -> bool:
        """Whether `peer` (an IP address) is one of the proxies."""
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def identity(self, peer: str | None, headers: Mapping[str, str]) -> ProxyIdentity | None:
        """Who the request is from, when a trusted proxy says so with a valid user name."""
        if not self.trusts(peer):
            return None
        name = (headers.get(self.user_header) or "").strip()
        if not valid_name(name):
            return None
        if self.groups_header is None:
            return ProxyIdentity(name)
        listed = (headers.get(self.groups_header) or "").split(",")
        return ProxyIdentity(
            name, tuple(sorted({g.strip() for g in listed if valid_name(g.strip())}))
        )


def peer_of(request: object) -> str | None:
    """The address a Starlette or Gradio request came from (the socket's peer)."""
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    return host if isinstance(host, str) else None


def headers_of(request: object) -> Mapping[str, str]:
    """The headers of a Starlette or Gradio request (case-insensitive), or none."""
    headers = getattr(request, "headers", None)
    return headers if isinstance(headers, Mapping) else {}
