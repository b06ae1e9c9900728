"""Credentials toward upstreams and identity headers: pure functions, and through a gateway."""

import base64

import httpx
import pytest
from pydantic import ValidationError

from gateway.auth.apikeys import digest
from gateway.auth.upstream import UpstreamAuth, outgoing_headers, with_upstream_auth
from gateway.config import build_config
from gateway.plugin import ANONYMOUS, Consumer
from gateway.testing import serve_gateway
from tests.e2e.log_capture import remember
from tests.gateway.auth.helpers import ECHO, sent_headers

TOKEN = remember("upstream-token-7d0c2b1a9e")
PASSWORD = remember("upstream-password-55aa")
KEY = remember("caller-key-0e1f2a3b4c")
ACME = Consumer(id="acme", scopes=frozenset({"rx:write", "rx:read"}), roles=frozenset({"pharmacist"}))


def test_a_bearer_credential_becomes_an_authorization_header():
    assert outgoing_headers(UpstreamAuth(bearer=TOKEN), ACME) == [("Authorization", f"Bearer {TOKEN}")]


def test_basic_credentials_are_encoded_per_rfc_7617():
    auth = UpstreamAuth(basic={"username": "rosetta", "password": PASSWORD})
    [(name, value)] = outgoing_headers(auth, ACME)
    assert name == "Authorization"
    assert base64.b64decode(value.removeprefix("Basic ")) == f"rosetta:{PASSWORD}".encode()


def test_a_fixed_header_is_sent_as_configured():
    auth = UpstreamAuth(header={"name": "X-Service-Key", "value": TOKEN})
    assert outgoing_headers(auth, ACME) == [("X-Service-Key", TOKEN)]


def test_identity_headers_name_the_consumer_its_scopes_and_roles_sorted():
    headers = outgoing_headers(UpstreamAuth(identity=True), ACME)
    assert headers == [
        ("X-Consumer-ID", "acme"),
        ("X-Consumer-Scopes", "rx:read rx:write"),
        ("X-Consumer-Roles", "pharmacist"),
    ]


def test_identity_values_can_never_inject_a_header_line():
    sneaky = Consumer(id="ana\r\nX-Admin: yes", scopes=frozenset({"ñ"}))
    values = [v for _, v in outgoing_headers(UpstreamAuth(identity=True), sneaky)]
    assert values[0] == "ana%0D%0AX-Admin: yes" and values[1] == "%C3%B1"
    assert all(v.isprintable() and v.isascii() for v in values)


def test_no_settings_means_no_headers():
    assert outgoing_headers(None, ACME) == []
    assert with_upstream_auth([("A", "1")], None, ACME) == [("A", "1")]


def test_our_headers_replace_same_named_request_headers():
    incoming = [("authorization", "Bearer caller"), ("x-consumer-id", "admin"), ("Accept", "*/*")]
    result = with_upstream_auth(incoming, UpstreamAuth(bearer=TOKEN, identity=True), ANONYMOUS)
    assert result[0] == ("Accept", "*/*")
    assert ("Authorization", f"Bearer {TOKEN}") in result and ("X-Consumer-ID", "anonymous") in result
    assert not any(v in ("Bearer caller", "admin") for _, v in result)


@pytest.mark.parametrize(
    "fields",
    [
        {"bearer": "a", "header": {"name": "X-K", "value": "b"}},
        {"bearer": "line\r\nbreak"},
        {"header": {"name": "bad name", "value": "v"}},
        {"basic": {"username": "a:b", "password": "p"}},
        {"bearer": ""},  # ${TOKEN} set to "": no credential would be sent under the header
        {"header": {"name": "X-K", "value": ""}},
    ],
    ids=["two-credentials", "line-break", "bad-header-name", "colon-in-username", "empty-bearer", "empty-header"],
)
def test_unsafe_or_ambiguous_upstream_credentials_are_refused(fields):
    with pytest.raises(ValidationError):
        UpstreamAuth(**fields)


def test_upstream_secrets_never_show_in_the_config(tmp_path):
    raw = {"upstreams": {"u": {"type": ECHO, "auth": {"bearer": TOKEN, "basic": None}}}}
    config = build_config(raw, tmp_path)
    assert TOKEN not in repr(config) and TOKEN not in str(config.model_dump())


async def test_the_upstream_gets_our_credential_and_the_callers_identity_not_the_callers_key():
    config = {
        "upstreams": {"echo": {"type": ECHO, "auth": {"bearer": TOKEN, "identity": True}}},
        "auth": {"api_keys": {"keys": [{"consumer": "acme", "sha256": digest(KEY), "scopes": ["rx:read"]}]}},
        "routes": [{"prefix": "/e", "upstream": "echo"}],
    }
    async with serve_gateway(config) as url, httpx.AsyncClient(base_url=url) as client:
        headers = {"X-API-Key": KEY, "X-Consumer-ID": "admin", "Authorization": "Bearer caller-own"}
        sent = sent_headers(await client.post("/e/x", json={}, headers=headers))
    assert sent["authorization"] == [f"Bearer {TOKEN}"]
    assert sent["x-consumer-id"] == ["acme"] and sent["x-consumer-scopes"] == ["rx:read"]
    assert "x-api-key" not in sent
