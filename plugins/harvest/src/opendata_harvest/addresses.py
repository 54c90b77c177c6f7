"""Which network addresses the harvester connects to: checked when the connection is made.

fetch.py only lets a run fetch from the hosts an administrator named (the source's own, its
data hosts), by name. A name is not an address: the source's DNS may answer (or, between
two requests, start answering) 127.0.0.1, 10.x, 169.254.169.254 (a cloud's metadata
service) or ::1, and the harvester would then read a service inside our own network and
publish its answer as a dataset. So every connection resolves the host itself and connects
only to an address it checked (no second lookup a rebinding DNS could answer differently):

- a host named by a literal IP address is connected to as named: the administrator chose
  that address, and no DNS answer can change it;
- a host named by a DNS name must resolve to public (globally routable) addresses only;
  a name with any private, loopback, link-local, shared, multicast or reserved address
  is refused (``refused_address``), unless the operator vouches for it in
  ``OPENDATA_HARVEST_PRIVATE_HOSTS`` (comma-separated ``host`` or ``host:port``: a
  provincial platform on the government network, say).

Connections are direct: environment proxies (HTTP_PROXY…) are not used, since behind a
proxy the address could not be checked. A deployment whose harvester must go through a
proxy names it in ``OPENDATA_HARVEST_PROXY`` (``http://proxy.internal:3128``): every
request then goes to that proxy, and the proxy (its egress rules) decides which addresses
may be reached; the hosts a source may name are still checked by fetch.py.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

PRIVATE_HOSTS_ENV = "OPENDATA_HARVEST_PRIVATE_HOSTS"
PROXY_ENV = "OPENDATA_HARVEST_PROXY"


class AddressRefused(Exception):
    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(f"{host}:{port} resolves to {address}, not a public address "
                         f"(name the host in {PRIVATE_HOSTS_ENV} to harvest from it)")


def vouched_hosts(environ: dict[str, str] | None = None) -> frozenset[str]:
    raw = (os.environ if environ is None else environ).get(PRIVATE_HOSTS_ENV, "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip


def is_public(address: str) -> bool:
    ip = _ip(address)
    return ip is not None and ip.is_global and not ip.is_multicast


def checked_addresses(host: str, port: int, vouched: Iterable[str] = (),
                      resolve: Any = socket.getaddrinfo) -> list[str]:
    """The addresses to connect to for ``host``, or AddressRefused."""
    if _ip(host) is not None:
        return [host.strip("[]")]
    found = list(dict.fromkeys(info[4][0] for info in resolve(host, port, type=socket.SOCK_STREAM)))
    if host.lower() in vouched or f"{host.lower()}:{port}" in vouched:
        return found
    for address in found:
        if not is_public(address):
            raise AddressRefused(host, port, address)
    return found


class _CheckedBackend(httpcore.SyncBackend):
    def __init__(self, vouched: frozenset[str], resolve: Any) -> None:
        self.vouched, self.resolve = vouched, resolve

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port, self.vouched, self.resolve)
        except OSError as exc:  # no such name: what httpcore's own lookup would raise
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        failed: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address of the name, as a resolver would
                failed = exc
        raise failed or httpcore.ConnectError(f"{host} has no address")


def checked_client(timeout: httpx.Timeout, headers: dict[str, str], *, resolve: Any = socket.getaddrinfo,
                   vouched: frozenset[str] | None = None) -> httpx.Client:
    """An httpx.Client whose every connection goes through ``checked_addresses`` (or,
    with ``OPENDATA_HARVEST_PROXY`` set, through that proxy)."""
    proxy = os.environ.get(PROXY_ENV, "").strip()
    if proxy:
        return httpx.Client(proxy=proxy, trust_env=False, timeout=timeout, headers=headers)
    transport = httpx.HTTPTransport()
    pool = transport._pool  # httpx takes no network backend; its pool (httpcore's) does
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx's transport has changed: the harvester cannot check addresses")
    pool._network_backend = _CheckedBackend(vouched_hosts() if vouched is None else vouched, resolve)
    return httpx.Client(transport=transport, timeout=timeout, headers=headers)
