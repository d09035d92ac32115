"""Knowing quickly whether a download can work at all.

Offline, tensorflow-datasets retries a download for minutes (10 retries with back-off,
about 205 s measured for ``mnist``) before it raises. One TCP connect with a short timeout
to the host the files come from (or to the HTTPS proxy, when one is configured) answers
the same question in at most :data:`CONNECT_TIMEOUT_S` seconds. A successful connect does
not promise a successful download; it only rules out the common case of no network.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse

CONNECT_TIMEOUT_S = 3.0
OFFLINE_ENV = "DIGITKIT_OFFLINE"

# Where tensorflow-datasets fetches each family from (tfds 4.9.10 sources); the port is the
# URL scheme's. Unknown names are checked against Google Cloud Storage, tfds' own mirror.
DOWNLOAD_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "mnist_corrupted": ("zenodo.org", 443),
    "emnist": ("biometrics.nist.gov", 443),
    "svhn_cropped": ("ufldl.stanford.edu", 80),
}
DEFAULT_HOST = ("storage.googleapis.com", 443)


def download_host(dataset: str) -> tuple[str, int]:
    """The (host, port) a tfds dataset downloads from; ``dataset`` may carry a config."""
    return DOWNLOAD_HOSTS.get(dataset.split("/")[0].split(":")[0], DEFAULT_HOST)


def _proxy_for(port: int) -> tuple[str, int] | None:
    names = ("HTTPS_PROXY", "https_proxy") if port == 443 else ("HTTP_PROXY", "http_proxy")
    for name in names:
        value = os.environ.get(name)
        if value:
            parsed = urllib.parse.urlsplit(value if "://" in value else f"http://{value}")
            if parsed.hostname:
                return parsed.hostname, parsed.port or 80
    return None


def unreachable_reason(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """Why ``host:port`` cannot be reached, or ``None`` when a TCP connect succeeds.

    ``DIGITKIT_OFFLINE=1`` answers "offline" without touching the network. With a proxy
    configured the proxy is checked instead, since that is what the download will use.
    """
    from digitkit._internal.settings import flag

    if flag(OFFLINE_ENV):
        return f"{OFFLINE_ENV} is set"
    target = _proxy_for(port) or (host, port)
    # Name resolution has no timeout of its own, so the whole check runs in a daemon thread
    # that is abandoned (not waited for) when it takes too long.
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            with socket.create_connection(target, timeout=timeout):
                outcome.append(None)
        except OSError as exc:  # DNS failure, refused, unreachable, timeout
            outcome.append(exc.strerror or str(exc) or exc.__class__.__name__)

    thread = threading.Thread(target=connect, name="digitkit-net-check", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if not outcome:
        return f"cannot reach {target[0]}:{target[1]} (no answer within {timeout:g} s)"
    if outcome[0] is None:
        return None
    return f"cannot reach {target[0]}:{target[1]} ({outcome[0]})"
