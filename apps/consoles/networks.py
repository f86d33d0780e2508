"""Which hosts the console proxy may open a TCP connection to: the compute networks (STRATUS_CONSOLE_ALLOWED_NETWORKS).

A console target names the compute node's VNC server as Nova's console auth token gives it (an address or a host
name). The proxy resolves it once, keeps only the addresses inside an allowed network, and connects to one of
those very addresses (no second lookup that DNS could answer differently). Link-local addresses (169.254.0.0/16,
fe80::/10: cloud metadata services) are never in the default list.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _parse(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"STRATUS_CONSOLE_ALLOWED_NETWORKS: {entry!r} is not a network ({exc})") from exc
    return tuple(networks)


def allowed_networks() -> tuple[Network, ...]:
    return _parse(tuple(e for e in settings.STRATUS_CONSOLE_ALLOWED_NETWORKS if e.strip()))


def is_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in allowed_networks())


def allowed_address(host: str, port: int) -> str | None:
    """The first address of `host` inside an allowed network, or None (also when the name does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for _family, _type, _proto, _name, sockaddr in infos:
        if is_allowed(str(sockaddr[0])):
            return str(sockaddr[0])
    return None
