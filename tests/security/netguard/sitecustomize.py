"""Put first on PYTHONPATH of a subprocess: refuse and record every non-loopback connection.

Python imports `sitecustomize` at start-up, so this wraps the socket layer before any of the
program's code runs. Every attempt to reach another host (connect, connect_ex, sendto,
create_connection, or a name lookup other than localhost) is appended as one JSON line to the
file named by NETGUARD_RECORD and then fails as if the network were down. Unix sockets and
loopback addresses pass.

uvloop is hidden: it resolves names and connects in C (libuv), past these wrappers, so uvicorn
falls back to asyncio's own loop, whose every lookup and connect goes through `socket`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import traceback
from typing import Any

_RECORD = os.environ.get("NETGUARD_RECORD", "")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _record(kind: str, target: object) -> None:
    stack = traceback.format_stack(limit=12)[:-2]
    line = json.dumps({"pid": os.getpid(), "kind": kind, "target": repr(target), "stack": stack})
    with open(_RECORD, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _host_is_local(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard or loopback of this machine
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%")[0].lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _address_is_local(sock: socket.socket, address: Any) -> bool:
    if getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX:
        return True
    if isinstance(address, tuple) and address:
        return _host_is_local(address[0])
    return False


if _RECORD:
    sys.modules["uvloop"] = None  # type: ignore[assignment]  # makes `import uvloop` fail
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _sendto = socket.socket.sendto
    _getaddrinfo = socket.getaddrinfo
    _create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if not _address_is_local(self, address):
            _record("connect", address)
            raise OSError(101, "Network is unreachable (netguard)")
        return _connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _address_is_local(self, address):
            _record("connect_ex", address)
            return 101
        return _connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        address = args[-1]
        if not _address_is_local(self, address):
            _record("sendto", address)
            raise OSError(101, "Network is unreachable (netguard)")
        return _sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _host_is_local(host):
            try:  # a literal address needs no lookup; connect() judges it
                ipaddress.ip_address(str(host).strip("[]").split("%")[0])
            except ValueError:
                _record("getaddrinfo", host)
                raise socket.gaierror(socket.EAI_NONAME, "lookup refused (netguard)") from None
        return _getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not (isinstance(address, tuple) and _host_is_local(address[0])):
            _record("create_connection", address)
            raise OSError(101, "Network is unreachable (netguard)")
        return _create_connection(address, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    socket.create_connection = create_connection
