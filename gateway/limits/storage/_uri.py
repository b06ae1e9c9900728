"""Parsing of multi-host Redis URIs: ``scheme://[user:password@]host:port[,host:port]/path``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["MultiHostURI", "parse_multi_host"]


@dataclass(frozen=True, slots=True)
class MultiHostURI:
    hosts: tuple[tuple[str, int], ...]
    username: str | None
    password: str | None
    path: tuple[str, ...]  # non-empty path segments


def parse_multi_host(uri: str, default_port: int) -> MultiHostURI:
    """Split ``uri`` into hosts, credentials and path segments; ``ValueError`` if it has no host."""
    rest = uri.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    userinfo, _, hostlist = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    hosts = tuple(_host(part, default_port) for part in hostlist.split(",") if part)
    if not hosts:
        raise ValueError(f"no host in {uri!r}")
    return MultiHostURI(
        hosts,
        unquote(username) or None,
        unquote(password) or None,
        tuple(segment for segment in path.split("?")[0].split("/") if segment),
    )


def _host(part: str, default_port: int) -> tuple[str, int]:
    if part.startswith("["):
        host, _, port = part[1:].partition("]")
        return host, int(port.lstrip(":") or default_port)
    host, _, port = part.partition(":")
    return host, int(port or default_port)
