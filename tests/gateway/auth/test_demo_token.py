"""The demo's printed token works against the demo's issuer settings."""

import time

import httpx

from gateway.auth.demo import DEMO_AUDIENCE, DEMO_ISSUER, DEMO_SECRET_ENV, demo_secret, demo_token
from gateway.config import load_config
from gateway.testing import serve_gateway
from tests.e2e.log_capture import remember
from tests.gateway.auth.helpers import FAKE, assert_invalid_token, bearer

DEMO_AUTH = (
    "auth:\n"
    "  jwt:\n"
    "    issuers:\n"
    f"      - {{issuer: {DEMO_ISSUER}, audience: {DEMO_AUDIENCE}, secret: '${{{DEMO_SECRET_ENV}}}', algorithms: [HS256]}}\n"
)


def demo_config(tmp_path, secret):
    (tmp_path / "demo.yaml").write_text(
        f'upstreams: {{pharmacy: {{type: "{FAKE}"}}}}\n' + DEMO_AUTH
        + "routes: [{prefix: /v1/rx, upstream: pharmacy, scopes: ['rx:read']}]\n"
    )
    return load_config(tmp_path / "demo.yaml", env={DEMO_SECRET_ENV: secret})


def test_each_demo_secret_is_fresh_and_long_enough():
    first, second = demo_secret(), demo_secret()
    assert first != second and len(first.encode()) >= 32


async def test_the_demo_token_is_accepted_with_its_scopes(tmp_path):
    secret = remember(demo_secret())
    token = remember(demo_token(secret))
    async with serve_gateway(demo_config(tmp_path, secret)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/v1/rx/Echo", json={}, headers=bearer(token))
    assert response.status_code == 200 and response.json()["consumer"] == "demo"


async def test_a_token_from_another_demo_run_or_past_its_lifetime_is_refused(tmp_path):
    secret = remember(demo_secret())
    stale = remember(demo_token(secret, now=time.time() - 13 * 3600))
    foreign = remember(demo_token(remember(demo_secret())))
    async with serve_gateway(demo_config(tmp_path, secret)) as url, httpx.AsyncClient(base_url=url) as client:
        for token in (stale, foreign):
            assert_invalid_token(await client.post("/v1/rx/Echo", json={}, headers=bearer(token)))
