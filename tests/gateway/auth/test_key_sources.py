"""Where issuer keys come from: a PEM file (key or certificate), an HMAC secret from the environment."""

import datetime
import json

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from gateway.auth.jwks import parse_jwks
from gateway.config import build_config, load_config
from gateway.runtime import StartupError, build_runtime
from gateway.testing import serve_gateway
from tests.e2e.log_capture import remember
from tests.gateway.auth.helpers import (
    FAKE,
    assert_invalid_token,
    bearer,
    counting,
    one_connection_call,
)
from tests.gateway.auth.idp import claims, public_pem, remember_token, rsa_key

EC_KEY = ec.generate_private_key(ec.SECP256R1())
WEAK_RSA = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def pem_config(path, algorithms):
    issuer = {"issuer": "https://idp.test", "audience": "rosetta", "public_key_file": str(path), "algorithms": algorithms}
    return {
        "upstreams": {"fake": {"type": FAKE}},
        "auth": {"jwt": {"issuers": [issuer]}},
        "routes": [{"prefix": "/f", "upstream": "fake"}],
    }


def self_signed(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


async def status(config, token):
    async with serve_gateway(config) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/f/Echo", json={}, headers=bearer(token))
    return response


async def test_an_rsa_key_from_a_pem_file_verifies_tokens(tmp_path):
    (tmp_path / "idp.pem").write_bytes(public_pem(rsa_key(0)))
    token = remember_token(jwt.encode(claims(), rsa_key(0), algorithm="RS256"))
    assert (await status(pem_config(tmp_path / "idp.pem", ["RS256"]), token)).status_code == 200


async def test_an_ec_key_in_a_certificate_verifies_es256_tokens(tmp_path):
    (tmp_path / "idp.crt").write_bytes(self_signed(EC_KEY))
    token = remember_token(jwt.encode(claims(), EC_KEY, algorithm="ES256"))
    assert (await status(pem_config(tmp_path / "idp.crt", ["ES256"]), token)).status_code == 200


async def test_a_token_signed_by_another_key_fails_against_the_pem_file(tmp_path):
    (tmp_path / "idp.pem").write_bytes(public_pem(rsa_key(0)))
    token = remember_token(jwt.encode(claims(), rsa_key(1), algorithm="RS256"))
    assert_invalid_token(await status(pem_config(tmp_path / "idp.pem", ["RS256"]), token))


async def test_a_pem_key_that_does_not_fit_the_algorithms_is_a_start_up_error(tmp_path):
    (tmp_path / "idp.pem").write_bytes(public_pem(rsa_key(0)))
    with pytest.raises(StartupError) as raised:
        await status(pem_config(tmp_path / "idp.pem", ["RS256", "ES256"]), "x")
    assert raised.value.errors == ["auth.jwt.issuers[0]: a RSA key cannot verify ES256"]


async def test_a_file_that_is_not_a_pem_key_is_a_start_up_error(tmp_path):
    (tmp_path / "idp.pem").write_text("hello")
    with pytest.raises(StartupError) as raised:
        await status(pem_config(tmp_path / "idp.pem", ["RS256"]), "x")
    assert "not a PEM public key or certificate" in raised.value.errors[0]


async def test_an_hmac_secret_from_the_environment_verifies_hs256_tokens(tmp_path):
    secret = remember("e" * 40)
    (tmp_path / "rosetta.yaml").write_text(
        f'upstreams: {{fake: {{type: "{FAKE}"}}}}\n'
        "auth: {jwt: {issuers: [{issuer: 'https://idp.test', audience: rosetta, secret: '${HS_SECRET}', algorithms: [HS256]}]}}\n"
        "routes: [{prefix: /f, upstream: fake}]\n"
    )
    config = load_config(tmp_path / "rosetta.yaml", env={"HS_SECRET": secret})
    good = remember_token(jwt.encode(claims(), secret, algorithm="HS256"))
    bad = remember_token(jwt.encode(claims(), "f" * 40, algorithm="HS256"))
    assert (await status(config, good)).status_code == 200
    assert_invalid_token(await status(config, bad))


def test_a_jwks_keeps_only_usable_signing_keys():
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(0).public_key()))
    keys = parse_jwks(
        {
            "keys": [
                {**rsa_jwk, "kid": "good", "alg": "RS256"},
                {**rsa_jwk, "kid": "enc", "use": "enc"},
                {"kty": "RSA", "kid": "broken", "n": "AQAB"},
                {"kid": "no-kty"},
                "not-an-object",
            ]
        }
    )
    assert list(keys) == ["good"]
    assert keys["good"].key_type == "RSA" and keys["good"].algorithm == "RS256"


@pytest.mark.parametrize("raw", [[], {"keys": "x"}, {"nokeys": []}])
def test_a_document_that_is_not_a_jwks_is_refused(raw):
    with pytest.raises(ValueError):
        parse_jwks(raw)


async def test_a_connection_remembers_its_last_verified_token_for_its_own_verifier_only(tmp_path):
    """The second call on a connection skips the token cache's SHA-256; another runtime's
    verifier (after a reload) never takes the first one's word for it."""
    (tmp_path / "idp.pem").write_bytes(public_pem(rsa_key(0)))
    token = remember_token(jwt.encode(claims(), rsa_key(0), algorithm="RS256"))
    config = build_config(pem_config(tmp_path / "idp.pem", ["RS256"]), tmp_path)
    first, second = await build_runtime(config), await build_runtime(config)
    try:
        exchange = one_connection_call(first, ("authorization", f"Bearer {token}"), "/f/Echo")
        await first.auth.authenticate(exchange)
        looked_up = counting(first.auth.jwt, "cached_entry")
        assert [first.auth.known(exchange).id for _ in range(3)] == ["ana"] * 3
        assert len(looked_up) == 1
        exchange.runtime, exchange.endpoint = second, second.routes.match("POST", "/f/Echo")[0]
        assert second.auth.known(exchange) is None  # not verified by this runtime yet
    finally:
        await first.close()
        await second.close()


def test_a_jwks_key_whose_key_ops_exclude_verify_is_not_a_signing_key():
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(0).public_key()))
    keys = parse_jwks(
        {
            "keys": [
                {**rsa_jwk, "kid": "verify", "key_ops": ["verify"]},
                {**rsa_jwk, "kid": "encrypt", "key_ops": ["encrypt", "wrapKey"]},
                {**rsa_jwk, "kid": "odd", "key_ops": "verify"},
            ]
        }
    )
    assert list(keys) == ["verify"]


def test_a_jwks_key_holding_private_material_is_never_used():
    """A published private key lets anybody sign: Rosetta does not trust it (nor crash on it)."""
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(0)))
    ec_private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY))
    secret = {"kty": "oct", "k": "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWI"}
    assert parse_jwks({"keys": [{**private, "kid": "rsa"}, {**ec_private, "kid": "ec"}, {**secret, "kid": "oct"}]}) == {}


def test_a_jwks_rsa_key_under_2048_bits_is_not_a_signing_key():
    weak = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(WEAK_RSA.public_key()))
    strong = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(0).public_key()))
    assert list(parse_jwks({"keys": [{**weak, "kid": "weak"}, {**strong, "kid": "strong"}]})) == ["strong"]


async def test_a_pem_rsa_key_under_2048_bits_is_a_start_up_error(tmp_path):
    (tmp_path / "idp.pem").write_bytes(public_pem(WEAK_RSA))
    with pytest.raises(StartupError) as raised:
        await status(pem_config(tmp_path / "idp.pem", ["RS256"]), "x")
    assert raised.value.errors == ["auth.jwt.issuers[0]: a 1024-bit RSA key is too weak (2048 bits at least)"]
