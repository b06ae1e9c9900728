"""TLS to the upstream: server verified against a CA, and mutual TLS with a client certificate."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.errors import ServiceUnavailable
from gateway.testing import make_call
from tests.translators.grpc.conftest import op
from tests.translators.grpc.servers import start_test_server


def _pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert(subject, key, issuer_name, issuer_key, *, ca=False, san=None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    files = {
        "ca.pem": _cert("Test CA", ca_key, "Test CA", ca_key, ca=True),
        "server.pem": _cert("server", server_key, "Test CA", ca_key, san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
        "server.key": _pem(server_key),
        "client.pem": _cert("client", client_key, "Test CA", ca_key),
        "client.key": _pem(client_key),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


async def test_tls_with_a_ca_reaches_the_server(pki, make_translator):
    server = await start_test_server(tls=((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes(), None))
    try:
        translator = await make_translator(target=server.target, tls={"ca": str(pki / "ca.pem")})
        reply = await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": "secure"}'))
        assert reply.json["name"] == "secure"
    finally:
        await server.stop()


async def test_mutual_tls_needs_the_client_certificate(pki, make_translator):
    client_ca = (pki / "ca.pem").read_bytes()
    server = await start_test_server(tls=((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes(), client_ca))
    try:
        with_cert = await make_translator(
            target=server.target,
            tls={"ca": str(pki / "ca.pem"), "cert": str(pki / "client.pem"), "key": str(pki / "client.key")},
        )
        reply = await with_cert.handle(make_call(op(with_cert, "Echo"), body=b'{"name": "mtls"}'))
        assert reply.json["name"] == "mtls"
        without = await make_translator(target=server.target, tls={"ca": str(pki / "ca.pem")}, timeout=2)
        with pytest.raises(ServiceUnavailable):
            await without.handle(make_call(op(without, "Echo"), body=b"{}"))
    finally:
        await server.stop()


async def test_a_server_certificate_from_another_ca_is_refused(pki, tmp_path, make_translator):
    other_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "other.pem").write_bytes(_cert("Other CA", other_key, "Other CA", other_key, ca=True))
    server = await start_test_server(tls=((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes(), None))
    try:
        translator = await make_translator(target=server.target, tls={"ca": str(tmp_path / "other.pem")}, timeout=2)
        with pytest.raises(ServiceUnavailable):
            await translator.handle(make_call(op(translator, "Echo"), body=b"{}"))
    finally:
        await server.stop()
