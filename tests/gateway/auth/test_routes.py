"""Route policy: deny by default, which credentials a route accepts, and start-up checks of route auth."""

import httpx
import pytest

from gateway.auth.apikeys import digest
from gateway.auth.demo import demo_secret, demo_token
from gateway.runtime import StartupError
from gateway.testing import serve_gateway
from tests.e2e import log_capture
from tests.e2e.log_capture import remember
from tests.gateway.auth.helpers import ECHO, FAKE, assert_problem, bearer, sent_headers

SECRET = remember(demo_secret())
KEY = remember("route-key-5b1e9a0c77d2")
HMAC_ISSUER = {"issuer": "rosetta-demo", "audience": "rosetta", "secret": SECRET, "algorithms": ["HS256"]}


def config(routes, **auth):
    return {"upstreams": {"fake": {"type": FAKE}, "echo": {"type": ECHO}}, "auth": auth, "routes": routes}


BOTH = {
    "jwt": {"issuers": [HMAC_ISSUER]},
    "api_keys": {"keys": [{"consumer": "acme", "sha256": digest(KEY), "scopes": ["rx:read"]}]},
}
ROUTES = [
    {"prefix": "/default", "upstream": "fake"},
    {"prefix": "/open", "upstream": "fake", "auth": "none"},
    {"prefix": "/jwt", "upstream": "fake", "auth": "jwt"},
    {"prefix": "/key", "upstream": "fake", "auth": "api_key"},
    {"prefix": "/either", "upstream": "fake", "auth": ["api_key", "jwt"]},
    {"prefix": "/echo", "upstream": "echo"},
]


@pytest.fixture(scope="module")
async def gateway():
    async with serve_gateway(config(ROUTES, **BOTH)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_a_route_without_auth_refuses_anonymous_calls_when_nothing_is_configured():
    async with serve_gateway(config([{"prefix": "/f", "upstream": "fake"}])) as url, httpx.AsyncClient() as client:
        response = await client.post(f"{url}/f/Echo", json={})
    body = assert_problem(response, 401, "unauthorized")
    assert "none are configured" in body["detail"]


async def test_a_route_without_auth_refuses_anonymous_calls_and_names_every_method(gateway):
    response = await gateway.post("/default/Echo", json={})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="rosetta", ApiKey realm="rosetta", header="X-API-Key"'
    )


@pytest.mark.parametrize("headers", [lambda: bearer(demo_token(SECRET)), lambda: {"X-API-Key": KEY}])
async def test_a_route_without_auth_accepts_any_configured_method(gateway, headers):
    assert (await gateway.post("/default/Echo", json={}, headers=headers())).status_code == 200


async def test_auth_none_lets_anyone_in_as_anonymous(gateway):
    response = await gateway.post("/open/Echo", json={})
    assert response.status_code == 200
    assert response.json()["consumer"] == "anonymous"


async def test_a_jwt_route_does_not_take_an_api_key(gateway):
    response = await gateway.post("/jwt/Echo", json={}, headers={"X-API-Key": KEY})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="rosetta"'


async def test_an_api_key_route_does_not_take_a_token(gateway):
    response = await gateway.post("/key/Echo", json={}, headers=bearer(demo_token(SECRET)))
    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("headers", "consumer"),
    [(lambda: bearer(demo_token(SECRET, subject="ana")), "ana"), (lambda: {"X-API-Key": KEY}, "acme")],
)
async def test_a_route_listing_methods_takes_each_of_them(gateway, headers, consumer):
    response = await gateway.post("/either/Echo", json={}, headers=headers())
    assert response.json()["consumer"] == consumer


async def test_the_first_credential_present_decides(gateway):
    headers = {"X-API-Key": "wrong", **bearer(demo_token(SECRET))}
    assert_problem(await gateway.post("/either/Echo", json={}, headers=headers), 401, "unauthorized")


async def test_the_callers_credentials_and_identity_claims_are_not_forwarded(gateway):
    token = demo_token(SECRET)
    headers = {**bearer(token), "X-Consumer-ID": "admin", "X-Consumer-Scopes": "all", "X-Other": "kept"}
    sent = sent_headers(await gateway.post("/echo/x", json={}, headers=headers))
    assert sent["x-other"] == ["kept"]
    assert not {"authorization", "x-consumer-id", "x-consumer-scopes"} & sent.keys()


async def test_a_refusal_is_logged_with_the_consumer_it_refused():
    routes = [{"prefix": "/k", "upstream": "fake", "auth": "api_key", "scopes": ["rx:admin"]}]
    async with serve_gateway(config(routes, **BOTH)) as url, httpx.AsyncClient() as client:
        response = await client.post(f"{url}/k/Echo", json={}, headers={"X-API-Key": KEY})
    assert response.status_code == 403
    request_id = response.headers["x-request-id"]
    lines = [line for line in log_capture.LINES if request_id in line and "rosetta.access" in line]
    assert lines and "'consumer': 'acme'" in lines[-1] and "'status': 403" in lines[-1]


@pytest.mark.parametrize(
    ("routes", "auth", "error"),
    [
        ([{"prefix": "/f", "upstream": "fake", "auth": "jwt"}], {}, "routes[0].auth: 'jwt' is not configured (add auth.jwt)"),
        (
            [{"prefix": "/f", "upstream": "fake", "auth": ["jwt", "api_key"]}],
            {"jwt": {"issuers": [HMAC_ISSUER]}},
            "routes[0].auth: 'api_key' is not configured (add auth.api_keys)",
        ),
        (
            [{"prefix": "/f", "upstream": "fake", "auth": "none", "scopes": ["a"]}],
            {},
            "routes[0]: scopes and roles need credentials; this route has auth: none",
        ),
        (
            [{"prefix": "/f", "upstream": "fake"}],
            {"mtls": {"subjects": {"cn": "acme"}}},
            "auth.mtls: needs server.tls with client_certificates: optional or required",
        ),
    ],
    ids=["unconfigured-method", "one-of-two-unconfigured", "scopes-on-open-route", "mtls-without-tls"],
)
async def test_route_auth_that_cannot_work_is_a_start_up_error(routes, auth, error):
    with pytest.raises(StartupError) as raised:
        async with serve_gateway(config(routes, **auth)):
            pass
    assert error in raised.value.errors


PARTNER_SECRET = remember(demo_secret())


def partner_token(subject: str) -> str:
    import time

    import jwt

    claims = {"iss": "partner-idp", "aud": "rosetta", "sub": subject, "exp": int(time.time()) + 300, "scope": ""}
    return jwt.encode(claims, PARTNER_SECRET, algorithm="HS256")


async def test_an_issuer_consumer_prefix_keeps_its_subjects_apart_from_other_consumers():
    """Without it, the partner's IdP could mint 'acme' and act with acme's configured scopes."""
    partner = {"issuer": "partner-idp", "audience": "rosetta", "secret": PARTNER_SECRET, "algorithms": ["HS256"]}
    routes = [
        {"prefix": "/scoped", "upstream": "fake", "auth": "jwt", "scopes": ["rx:read"]},
        {"prefix": "/jwt", "upstream": "fake", "auth": "jwt"},
    ]
    for prefix, scoped_status, consumer in (("", 200, "acme"), ("partner:", 403, "partner:acme")):
        auth = {
            "jwt": {"issuers": [HMAC_ISSUER, {**partner, "consumer_prefix": prefix}]},
            "consumers": [{"id": "acme", "scopes": ["rx:read"]}],
        }
        async with serve_gateway(config(routes, **auth)) as url, httpx.AsyncClient(base_url=url) as client:
            token = bearer(partner_token("acme"))
            assert (await client.post("/scoped/Echo", json={}, headers=token)).status_code == scoped_status
            assert (await client.post("/jwt/Echo", json={}, headers=token)).json()["consumer"] == consumer


def test_issuers_sharing_one_consumer_namespace_are_warned_of(caplog):
    from gateway.auth.consumers import ConsumerDirectory
    from gateway.auth.jwt import JwtVerifier
    from gateway.auth.settings import AuthSettings, JwtSettings

    partner = {"issuer": "partner-idp", "audience": "rosetta", "secret": PARTNER_SECRET, "algorithms": ["HS256"]}
    for prefix, warned in (("", True), ("partner:", False)):
        caplog.clear()
        settings = JwtSettings.model_validate({"issuers": [HMAC_ISSUER, {**partner, "consumer_prefix": prefix}]})
        with caplog.at_level("WARNING", logger="rosetta.auth"):
            JwtVerifier(settings, ConsumerDirectory(AuthSettings()))
        assert any("share one consumer namespace" in r.getMessage() for r in caplog.records) is warned
