"""The token matrix: every kind of bearer token against a local IdP serving JWKS, over real sockets."""

import asyncio
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.auth.apikeys import digest
from gateway.testing import serve_gateway
from tests.gateway.auth.helpers import (
    FAKE,
    assert_invalid_token,
    assert_missing_credentials,
    assert_problem,
    bearer,
)
from tests.gateway.auth.idp import (
    AUDIENCE,
    LocalIdP,
    claims,
    hs256_with,
    public_pem,
    remember_token,
    rsa_key,
    unsigned,
)


def jwt_config(idp: LocalIdP, **issuer) -> dict:
    return {
        "upstreams": {"fake": {"type": FAKE}},
        "auth": {
            "jwt": {
                "issuers": [
                    {
                        "issuer": idp.issuer,
                        "audience": AUDIENCE,
                        "jwks_url": idp.jwks_url,
                        "algorithms": ["RS256"],
                        "leeway": 5,
                        **issuer,
                    }
                ],
                "roles_claim": "roles",
            }
        },
        "routes": [
            {"prefix": "/rx", "upstream": "fake", "auth": "jwt", "scopes": ["rx:read"]},
            {"prefix": "/admin", "upstream": "fake", "auth": "jwt", "roles": ["admin", "pharmacist"]},
            {"prefix": "/both", "upstream": "fake", "auth": "jwt", "scopes": ["rx:read", "rx:write"]},
        ],
    }


@pytest.fixture(scope="module")
async def gateway(idp):
    async with serve_gateway(jwt_config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def call(client, token, path="/rx/Echo"):
    return await client.post(path, json={}, headers=bearer(token))


async def test_a_valid_token_reaches_the_upstream_as_its_consumer(gateway, idp):
    response = await call(gateway, idp.token())
    assert response.status_code == 200
    assert response.json()["consumer"] == "ana"


async def test_a_token_expired_beyond_the_leeway_is_refused(gateway, idp):
    token = idp.token(exp=int(time.time()) - 60)
    assert_invalid_token(await call(gateway, token), token)


async def test_a_token_expired_within_the_leeway_is_accepted(gateway, idp):
    assert (await call(gateway, idp.token(exp=int(time.time()) - 2))).status_code == 200


async def test_a_token_not_valid_before_a_future_time_is_refused(gateway, idp):
    assert_invalid_token(await call(gateway, idp.token(nbf=int(time.time()) + 300)))


async def test_a_token_issued_in_the_future_is_refused(gateway, idp):
    assert_invalid_token(await call(gateway, idp.token(iat=int(time.time()) + 300)))


async def test_a_token_from_another_issuer_is_refused(gateway, idp):
    assert_invalid_token(await call(gateway, idp.token(iss="https://evil.test")))


async def test_a_token_for_another_audience_is_refused(gateway, idp):
    assert_invalid_token(await call(gateway, idp.token(aud="someone-else")))


@pytest.mark.parametrize("claim", ["exp", "aud", "iss", "sub"])
async def test_a_token_missing_a_required_claim_is_refused(gateway, idp, claim):
    assert_invalid_token(await call(gateway, idp.token(**{claim: None})))


async def test_a_token_with_a_tampered_signature_is_refused(gateway, idp):
    token = idp.token()
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-6]}{'AAAAAA' if signature[-6:] != 'AAAAAA' else 'BBBBBB'}"
    assert_invalid_token(await call(gateway, forged))


async def test_a_token_with_changed_claims_under_the_old_signature_is_refused(gateway, idp):
    head, _, signature = idp.token().split(".")
    _, payload, _ = idp.token(sub="admin", roles=["admin"]).split(".")
    assert_invalid_token(await call(gateway, f"{head}.{payload}.{signature}", "/admin/Echo"))


async def test_a_token_signed_by_a_key_the_idp_never_published_is_refused(gateway, idp):
    assert_invalid_token(await call(gateway, idp.token(kid=idp.current, key=rsa_key(2))))


async def test_a_token_naming_a_key_of_another_type_is_refused():
    idp = LocalIdP()
    ec_jwk = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    idp.extra_jwks.append({**ec_jwk, "kid": "ec-1"})
    idp.start()
    try:
        async with serve_gateway(jwt_config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
            assert_invalid_token(await call(client, idp.token(kid="ec-1", key=rsa_key(0))))
    finally:
        idp.stop()


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_an_unsigned_token_with_alg_none_is_refused(gateway, idp, alg):
    token = unsigned({"alg": alg, "typ": "JWT", "kid": idp.current}, claims())
    assert_invalid_token(await call(gateway, token))


async def test_an_hs256_token_signed_with_the_rsa_public_key_is_refused(gateway, idp):
    """Algorithm confusion: the public key (as PEM text) used as an HMAC secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.current}
    token = hs256_with(public_pem(idp.keys[idp.current]), header, claims())
    assert_invalid_token(await call(gateway, token))


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30", "eyJ.eyJ.sig", "%%%.%%%.%%%"],
)
async def test_a_malformed_token_is_refused(gateway, token):
    assert_invalid_token(await call(gateway, token))


async def test_a_token_whose_header_names_a_list_as_kid_is_refused(gateway, idp):
    token = idp.token()
    header = {"alg": "RS256", "kid": [idp.current]}
    forged = unsigned(header, claims()).rsplit(".", 1)[0] + "." + token.rsplit(".", 1)[1]
    assert_invalid_token(await call(gateway, forged))


async def test_a_bearer_header_without_a_token_is_refused(gateway):
    response = await gateway.post("/rx/Echo", json={}, headers={"Authorization": "Bearer"})
    assert_invalid_token(response)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda t: {"X-Token": t}, id="custom-header"),
        pytest.param(lambda t: {"Authorization": t}, id="no-scheme"),
        pytest.param(lambda t: {"Authorization": f"Basic {t}"}, id="basic-scheme"),
        pytest.param(lambda t: {"X-API-Key": t}, id="api-key-header"),
        pytest.param(lambda t: {"Cookie": f"token={t}"}, id="cookie"),
    ],
)
async def test_a_token_in_the_wrong_header_counts_as_no_credentials(gateway, idp, headers):
    token = idp.token()
    assert_missing_credentials(await gateway.post("/rx/Echo", json={}, headers=headers(token)))


async def test_a_token_in_the_query_string_counts_as_no_credentials(gateway, idp):
    response = await gateway.post("/rx/Echo", params={"access_token": idp.token()}, json={})
    assert_missing_credentials(response)


async def test_a_call_without_credentials_is_asked_for_a_bearer_token(gateway):
    assert_missing_credentials(await gateway.post("/rx/Echo", json={}))


async def test_a_token_over_the_size_limit_is_refused_unread(gateway, idp):
    token = idp.token(padding="x" * 5000)
    assert len(token) > 4096
    assert_invalid_token(await call(gateway, token))


async def test_a_token_over_the_front_doors_header_limit_is_a_problem_not_a_crash(gateway, idp):
    response = await call(gateway, idp.token(padding="x" * 20_000))
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_bearer_scheme_is_case_insensitive(gateway, idp):
    response = await gateway.post("/rx/Echo", json={}, headers={"Authorization": f"bearer {idp.token()}"})
    assert response.status_code == 200


async def test_a_valid_token_without_a_required_scope_is_forbidden(gateway, idp):
    response = await call(gateway, idp.token(scope="rx:write"))
    body = assert_problem(response, 403, "forbidden")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="rosetta", error="insufficient_scope", scope="rx:read"'
    )
    assert "rx:read" in body["detail"]


async def test_every_scope_of_a_route_is_required(gateway, idp):
    assert_problem(await call(gateway, idp.token(scope="rx:read"), "/both/Echo"), 403, "forbidden")
    assert (await call(gateway, idp.token(scope="rx:write rx:read"), "/both/Echo")).status_code == 200


async def test_scopes_may_come_as_a_list_in_scp(gateway, idp):
    token = idp.token(scope=None, scp=["rx:read", "rx:write"])
    assert (await call(gateway, token, "/both/Echo")).status_code == 200


@pytest.mark.parametrize(("roles", "status"), [(["nurse"], 403), (["pharmacist"], 200), ([], 403)])
async def test_one_of_the_route_roles_is_enough(gateway, idp, roles, status):
    response = await call(gateway, idp.token(roles=roles), "/admin/Echo")
    assert response.status_code == status


async def test_a_consumer_claim_that_is_not_a_string_is_refused(gateway, idp):
    assert_invalid_token(await call(gateway, idp.token(sub=["ana"])))


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "ana\r\nX-Consumer-Roles: admin"},  # would forge a header sent upstream
        {"sub": "ana\x00"},
        {"sub": "\ud800"},  # a lone surrogate: no valid Unicode, so no valid header, key or log line
        {"scope": "rx:read \ud800"},
        {"roles": ["pharmacist\x1b"]},
    ],
)
async def test_an_identity_claim_with_control_characters_or_invalid_unicode_is_refused(gateway, idp, claims):
    assert_invalid_token(await call(gateway, idp.token(**claims)))


async def test_a_consumer_claim_in_any_script_is_accepted(gateway, idp):
    response = await call(gateway, idp.token(sub="José Núñez 山田"))
    assert response.status_code == 200 and response.json()["consumer"] == "José Núñez 山田"


async def test_every_invalid_token_gets_the_same_answer(gateway, idp):
    tokens = [
        idp.token(exp=int(time.time()) - 60),
        idp.token(aud="x"),
        idp.token(iss="https://evil.test"),
        idp.token(kid=idp.current, key=rsa_key(2)),
        "garbage",
    ]
    bodies = [(await call(gateway, t)).json() for t in tokens]
    assert {(b["title"], b["detail"], b["type"]) for b in bodies} == {
        ("Unauthorized", "the bearer token is not valid", "urn:rosetta:problem:unauthorized")
    }


async def test_a_verified_token_is_not_trusted_past_its_expiry(idp):
    async with serve_gateway(jwt_config(idp, leeway=0)) as url, httpx.AsyncClient(base_url=url) as client:
        exp = int(time.time()) + 2
        token = idp.token(exp=exp)
        assert (await call(client, token)).status_code == 200
        await asyncio.sleep(exp - time.time() + 0.05)
        assert_invalid_token(await call(client, token))


# -- tokens answered from the verified-token cache, decided without awaiting --------------


async def test_a_cached_token_still_needs_the_routes_scopes(gateway, idp):
    """The second call finds the token verified and cached: its scopes are checked all the same."""
    token = idp.token(scope="rx:write")
    first, second = await call(gateway, token), await call(gateway, token)
    for response in (first, second):
        assert_problem(response, 403, "forbidden")
        assert response.headers["www-authenticate"] == (
            'Bearer realm="rosetta", error="insufficient_scope", scope="rx:read"'
        )
    assert first.json()["detail"] == second.json()["detail"]


async def test_a_cached_token_still_needs_one_of_the_routes_roles(gateway, idp):
    token = idp.token(roles=["nurse"])
    assert (await call(gateway, token, "/rx/Echo")).status_code == 200  # verified and cached here
    assert_problem(await call(gateway, token, "/admin/Echo"), 403, "forbidden")


async def test_a_cached_token_reaches_the_upstream_as_its_consumer_every_time(gateway, idp):
    token = idp.token(sub="bea")
    for _ in range(3):
        response = await call(gateway, token)
        assert response.status_code == 200
        assert response.json()["consumer"] == "bea"


async def test_a_route_trying_api_keys_first_is_decided_by_the_key_even_with_a_cached_token(idp):
    """The cached-token shortcut applies only where jwt is the first method a route tries."""
    key = "acme-3f9c1d2e7b6a4c58a1e0"
    config = jwt_config(idp)
    config["auth"]["api_keys"] = {"keys": [{"consumer": "acme", "sha256": digest(key), "scopes": ["rx:read"]}]}
    config["routes"] = [
        {"prefix": "/jwt", "upstream": "fake", "auth": "jwt", "scopes": ["rx:read"]},
        {"prefix": "/key-first", "upstream": "fake", "auth": ["api_key", "jwt"], "scopes": ["rx:read"]},
    ]
    token = idp.token()
    async with serve_gateway(config) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await call(client, token, "/jwt/Echo")).status_code == 200  # the token is now cached
        both = {**bearer(token), "X-API-Key": key}
        response = await client.post("/key-first/Echo", json={}, headers=both)
        assert response.status_code == 200
        assert response.json()["consumer"] == "acme"
        wrong_key = {**bearer(token), "X-API-Key": "not-a-key"}
        assert_problem(await client.post("/key-first/Echo", json={}, headers=wrong_key), 401, "unauthorized")


async def test_tokens_taking_turns_on_one_keep_alive_connection_are_each_judged(gateway, idp):
    """The connection remembers the last token it verified; any other header is judged afresh."""
    head, _, signature = idp.token().split(".")
    _, forged_payload, _ = idp.token(sub="admin", roles=["admin"]).split(".")
    ana, bob, unscoped = idp.token(), idp.token(sub="bob"), idp.token(scope="rx:write")
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=gateway.base_url, limits=limits) as one:
        consumers = []
        for token in (ana, ana, bob, ana):
            response = await call(one, token)
            assert response.status_code == 200
            consumers.append(response.json()["consumer"])
        assert consumers == ["ana", "ana", "bob", "ana"]
        assert_invalid_token(await call(one, f"{head}.{forged_payload}.{signature}", "/admin/Echo"))
        assert (await call(one, unscoped)).status_code == 403
        assert (await call(one, ana)).json()["consumer"] == "ana"


async def test_a_token_remembered_by_its_connection_still_expires():
    idp = LocalIdP().start()
    try:
        async with (
            serve_gateway(jwt_config(idp, leeway=0)) as url,
            httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=1)) as one,
        ):
            token = idp.token(exp=int(time.time()) + 2)
            assert (await call(one, token)).status_code == 200
            assert (await call(one, token)).status_code == 200
            await asyncio.sleep(max(0.0, int(time.time()) + 3 - time.time()))
            assert_invalid_token(await call(one, token))
    finally:
        idp.stop()


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
async def test_a_time_claim_that_is_not_a_json_number_is_refused(gateway, idp, claim):
    """RFC 7519 §2: a NumericDate is a JSON number; a string would be trusted from the cache
    past the time it names."""
    now = int(time.time())
    value = {"exp": now + 300, "nbf": now - 10, "iat": now - 10}[claim]
    assert_invalid_token(await call(gateway, idp.token(**{claim: str(value)})))


async def test_a_token_with_a_string_exp_is_not_trusted_past_it(idp):
    async with serve_gateway(jwt_config(idp, leeway=0)) as url, httpx.AsyncClient(base_url=url) as client:
        exp = int(time.time()) + 2
        token = idp.token(exp=str(exp))
        await call(client, token)
        await asyncio.sleep(exp - time.time() + 0.05)
        assert_invalid_token(await call(client, token))


async def test_a_token_expiring_beyond_any_float_is_a_valid_token_not_a_crash(gateway, idp):
    response = await call(gateway, idp.token(exp=10**400, sub="far"))
    assert response.status_code == 200 and response.json()["consumer"] == "far"


async def test_a_token_pointing_to_its_own_key_is_refused_and_the_pointer_never_fetched(gateway, idp):
    """`jku`, `x5u`, `jwk` and `x5c` name keys the caller chose: the key comes from config only."""
    attacker = LocalIdP()
    attacker.keys = {idp.current: rsa_key(2)}
    attacker.start()
    try:
        public = json.loads(RSAAlgorithm.to_jwk(rsa_key(2).public_key()))
        headers = {"kid": idp.current, "jku": attacker.jwks_url, "x5u": attacker.jwks_url, "jwk": public}
        token = remember_token(jwt.encode(claims(), rsa_key(2), algorithm="RS256", headers=headers))
        assert_invalid_token(await call(gateway, token))
        assert attacker.hits == 0
    finally:
        attacker.stop()


async def test_a_token_with_a_critical_header_extension_rosetta_does_not_know_is_refused(gateway, idp):
    """RFC 7515 §4.1.11: a `crit` extension the recipient does not understand makes the token invalid."""
    signing = idp.keys[idp.current]
    headers = {"kid": idp.current, "crit": ["urn:example:binding"], "urn:example:binding": True}
    token = remember_token(jwt.encode(claims(), signing, algorithm="RS256", headers=headers))
    assert_invalid_token(await call(gateway, token))
