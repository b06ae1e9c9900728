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
from collections.abc import Iterable, Iterator, Sequence

from gateway.limits.settings import Network

__all__ = ["bucket", "client_ip", "forwarded_for"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_KNOWN_KEPT = 4096  # addresses remembered per ``known`` map: a flood of new ones cannot grow it


def client_ip(
    peer: str,
    headers: Iterable[tuple[str, str]],
    trusted: Sequence[Network],
    header: str = "x-forwarded-for",
    known: dict[str, bool] | None = None,
) -> str:
    """The client address of a request from ``peer`` with ``headers``, reading ``header``;
    ``known`` remembers which addresses are trusted, across calls."""
    if not trusted or not _is_trusted(peer, trusted, known):
        return peer
    leftmost = peer
    for hop in _hops_from_the_right(headers, header):
        if not _is_trusted(hop, trusted, known):
            return hop
        leftmost = hop
    return leftmost


def forwarded_for(headers: Iterable[tuple[str, str]], header: str = "x-forwarded-for") -> list[str]:
    """The hop addresses, leftmost first, from ``header`` (``x-forwarded-for`` or ``forwarded``)."""
    return list(_hops_from_the_right(headers, header))[::-1]


def _hops_from_the_right(headers: Iterable[tuple[str, str]], header: str) -> Iterator[str]:
    """The hop addresses, rightmost first, read lazily: the caller stops at the first hop it
    does not trust, so a caller's own long list of addresses on the left costs nothing."""
    values = [value for name, value in headers if name.lower() == header]
    for value in reversed(values):
        for part in _parts_from_the_right(value):
            if header != "forwarded":
                yield _bare(part)
            else:
                yield from reversed(_forwarded_fors(part))


def _parts_from_the_right(value: str) -> Iterator[str]:
    """The non-blank comma-separated parts of ``value``, last first."""
    end = len(value)
    while end > 0:
        start = value.rfind(",", 0, end)
        part = value[start + 1 : end]
        if part.strip():
            yield part
        end = start if start >= 0 else 0


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


def _is_trusted(address: str, trusted: Sequence[Network], known: dict[str, bool] | None = None) -> bool:
    """Whether ``address`` is in ``trusted``; remembered in ``known`` when given (the same
    proxies and clients call again and again, and parsing an address costs µs)."""
    if known is not None:
        found = known.get(address)
        if found is None:
            found = _is_trusted(address, trusted)
            if len(known) < _KNOWN_KEPT:
                known[address] = found
        return found
    ip = _address(address)
    return ip is not None and any(ip.version == net.version and ip in net for net in trusted)
