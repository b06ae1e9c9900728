"""https: the pool speaks TLS with the context it is given, and verifies by default."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from tests.gateway.auth.certs import issue, make_ca
from tests.translators.http.conftest import raw_server, read_request, reply
from translators._http import ConnectError, HttpPool


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the CA file that trusts it."""
    folder = tmp_path_factory.mktemp("tls")
    ca = make_ca("Rosetta test CA")
    cert, key = issue(ca, "127.0.0.1", server=True).write(folder, "server")
    ca_file, _ = ca.write(folder, "ca")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ca_file


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(reply(b"secure"))


async def test_https_requests_use_the_given_context_and_keep_the_connection(tls) -> None:
    server_context, ca_file = tls
    async with raw_server(_serve, server_context) as server:
        pool = HttpPool(server.url, ssl=ssl.create_default_context(cafile=str(ca_file)))
        for _ in range(2):
            assert await (await pool.request("GET", "/", [], timeout=5)).read() == b"secure"
        assert server.connections == 1
        await pool.aclose()


async def test_an_untrusted_server_certificate_is_a_connect_error(tls) -> None:
    server_context, _ = tls
    async with raw_server(_serve, server_context) as server:
        pool = HttpPool(server.url)  # the system's trust store does not know the test CA
        with pytest.raises(ConnectError):
            await pool.request("GET", "/", [], timeout=5)
        await pool.aclose()
