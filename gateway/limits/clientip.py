"""Who is calling, by address: the client IP anonymous callers are counted by.

The peer address is the client unless the peer is a trusted proxy. Then the
one header the proxies write (``limits.client_ip_header``: ``X-Forwarded-For``
by default, or ``Forwarded``, RFC 7239) is read from the right: each hop a
trusted proxy added is skipped, and the first address not in
``trusted_proxies`` is the client. Entries left of it are whatever the caller
sent and are never believed, and so is the other header, which the proxies
pass on as the caller wrote it. Example::

    trusted = (ip_network("10.0.0.0/8"),)
    client_ip("10.0.0.5", [("X-Forwarded-For", "6.6.6.6, 203.0.113.9")], trusted)
    # '203.0.113.9'  (6.6.6.6 was written by the caller itself)

An address is compared and counted as what it is, not as it is written: an
IPv4-mapped IPv6 address (``::ffff:10.0.0.5``, how a gateway listening on
``::`` sees IPv4 peers) is its IPv4 address. An IPv6 client is counted by
its network (:func:`bucket`): one host usually holds a whole /64 and may send
from any address in it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from gateway.limits.settings import Network

__all__ = ["bucket", "client_ip", "forwarded_for"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(
    peer: str, headers: Iterable[tuple[str, str]], trusted: Sequence[Network], header: str = "x-forwarded-for"
) -> str:
    """The client address of a request from ``peer`` with ``headers``, reading ``header``."""
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = forwarded_for(headers, header)
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def forwarded_for(headers: Iterable[tuple[str, str]], header: str = "x-forwarded-for") -> list[str]:
    """The hop addresses, leftmost first, from ``header`` (``x-forwarded-for`` or ``forwarded``)."""
    hops: list[str] = []
    for name, value in headers:
        if name.lower() != header:
            continue
        if header == "forwarded":
            hops += _forwarded_fors(value)
        else:
            hops += [_bare(part) for part in value.split(",") if part.strip()]
    return hops


def _forwarded_fors(value: str) -> list[str]:
    hops = []
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, val = pair.strip().partition("=")
            if key.lower() == "for" and val:
                hops.append(_bare(val))
    return hops


def _bare(token: str) -> str:
    """An address without quotes, brackets or port: ``"[2001:db8::1]:47"`` → ``2001:db8::1``."""
    token = token.strip().strip('"')
    if token.startswith("["):
        return token[1:].partition("]")[0]
    if token.count(":") == 1:
        return token.partition(":")[0]
    return token


def bucket(address: str, ipv6_prefix: int) -> str:
    """What client ``address`` is counted as: an IPv4 address, an IPv6 ``/ipv6_prefix`` network,
    or, for what is no address (an obfuscated ``Forwarded`` identifier), the text itself.

    >>> bucket("::ffff:203.0.113.9", 64), bucket("2001:db8:1:2:3:4:5:6", 64)
    ('203.0.113.9', '2001:db8:1:2::/64')
    """
    ip = _address(address)
    if ip is None:
        return address
    if ip.version == 4:
        return str(ip)
    return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))


def _address(text: str) -> IPAddress | None:
    """The address ``text`` names (an IPv4-mapped IPv6 address as IPv4); ``None`` if it names none."""
    try:
        ip: IPAddress = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip.version == net.version and ip in net for net in trusted)
