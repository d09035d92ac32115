"""Only requests for this server's own names are served: the defence against DNS rebinding.

A web page on any site can make the browser send requests to ``127.0.0.1:8000`` under a
host name the attacker controls (the name first resolves to the attacker, then to
127.0.0.1); the browser then lets that page read the answers. Such requests carry the
attacker's name in ``Host``, so a server that answers only its own names is closed to them.
A reverse proxy forwarding a public name is allowed with ``--allow-host NAME``.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})


def allowed_hosts(bound_to: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` names (without port, lower case, IPv6 without brackets) to serve.

    Args:
        bound_to: the address the server listens on.
        extra: names given with ``--allow-host`` (``*`` allows any, for a trusted proxy
            that checks names itself).
    """
    names = set(LOOPBACK_NAMES)
    host = _bare(bound_to)
    if host not in LOOPBACK_NAMES:
        names.add(host)
        if host in ANY_ADDRESS or not _is_loopback(host):
            # Bound beyond loopback: the machine's own names reach it too, and, on every
            # address, the addresses those names have (a LAN client types the IP).
            own = {name.lower() for name in (socket.gethostname(), socket.getfqdn()) if name}
            names |= own
            if host in ANY_ADDRESS:
                names |= _addresses_of(own)
        names -= ANY_ADDRESS
    names.update(_bare(name) for name in extra if name)
    return frozenset(names)


def _addresses_of(names: set[str]) -> set[str]:
    found = set()
    for name in names:
        try:  # the machine's own names: /etc/hosts or the local resolver, not the network
            found |= {info[4][0].split("%")[0] for info in socket.getaddrinfo(name, None)}
        except (OSError, UnicodeError):
            continue
    return found


def _bare(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str | None:
    """The name in a ``Host`` header without its port; ``None`` when it is malformed."""
    value = header.strip().lower()
    if not value or len(value) > 255 or any(ch.isspace() or ch in "/\\@?#" for ch in value):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1:]
    else:
        name, _, port = value.partition(":")
        rest = ":" + port if port else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6):
        return None
    return name.rstrip(".") or None


class HostGuard:
    """ASGI middleware: 400 without a valid ``Host``, 421 for a name that is not allowed."""

    def __init__(self, app, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed
        self.state = app.state  # the service, for tests and the server
        self.any = "*" in allowed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.any:
            return await self.app(scope, receive, send)
        values = [v for k, v in scope["headers"] if k == b"host"]
        if len(values) != 1:
            return await _refuse(send, 400, "the request needs exactly one Host header")
        name = host_of(values[0].decode("latin-1"))
        if name is None:
            return await _refuse(send, 400, "the Host header is not a valid host name")
        if name not in self.allowed:
            scope.setdefault("digitkit.rejected", "host")
            return await _refuse(send, 421, "this server does not answer for that host name "
                                            "(start it with --allow-host NAME to allow one)")
        return await self.app(scope, receive, send)


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
