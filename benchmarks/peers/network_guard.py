"""A process-wide guard that keeps a peer benchmark off the network.

Every SDK is measured offline: flags from a file, a dict or a bootstrap, never from a
service. To make that a checked fact rather than a hope, each benchmark process patches
``socket.socket.connect`` and ``connect_ex`` before it builds its SDK: a connection to a
loopback address or a Unix socket goes through, anything else raises ``OSError`` and is
counted. The counts go into every result row (``connections``), so a table row shows that its
SDK ran without a server.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["ConnectionLog", "install", "is_local"]


@dataclass
class ConnectionLog:
    """What the guard saw: connections let through (loopback) and refused (anything else)."""

    allowed: int = 0
    refused: int = 0
    refused_examples: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "refused": self.refused,
            "refused_examples": list(self.refused_examples),
        }


_LOG = ConnectionLog()
_LOCK = threading.Lock()


def is_local(address: Any) -> bool:
    """True for a Unix socket path or an IP address on the loopback interface.

    A host name is not resolved (resolving it could itself reach the network): only the
    literal name ``localhost`` counts as local."""
    if isinstance(address, (str, bytes)):
        return True
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _admit(address: Any) -> None:
    with _LOCK:
        if is_local(address):
            _LOG.allowed += 1
            return
        _LOG.refused += 1
        if len(_LOG.refused_examples) < 5:
            _LOG.refused_examples = (*_LOG.refused_examples, repr(address))
    raise OSError(f"peer benchmark network guard: connection to {address!r} refused")


def install() -> ConnectionLog:
    """Patch the socket class once per process; return the live log of what it saw."""
    if getattr(socket.socket, "_peer_bench_guard", False):
        return _LOG
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> None:
        _admit(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        _admit(address)
        return connect_ex(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.socket._peer_bench_guard = True  # type: ignore[attr-defined]
    return _LOG
