"""Fallbacks through a real gateway: to an upstream, to a path route, and when they must not happen."""

import httpx
import pytest

from gateway.errors import GatewayTimeout, ServiceUnavailable
from gateway.plugin import Reply
from gateway.resilience.fallback import takes_over
from gateway.resilience.guard import CircuitOpen
from gateway.testing import serve_gateway

FAKE = "gateway.testing:FakeTranslator"
CONFIG = {
    "upstreams": {
        "down": {"type": FAKE, "fail": "unreachable"},
        "fake": {"type": FAKE},
        "slow": {"type": FAKE, "fail": "slow", "timeout": 0.2},
    },
    "routes": [
        {"prefix": "/v2", "upstream": "down", "auth": "none", "fallback": {"upstream": "fake"}},
        {"path": "/v2/echo/{who}", "upstream": "down", "operation": "Echo", "auth": "none",
         "fallback": {"route": "/v1/echo/{who}"}},
        {"path": "/v1/echo/{who}", "upstream": "fake", "operation": "Echo", "auth": "none"},
        {"prefix": "/slow", "upstream": "slow", "auth": "none", "fallback": {"upstream": "fake"}},
    ],
}


@pytest.fixture(scope="module")
async def gateway():
    async with serve_gateway(CONFIG) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_an_unreachable_upstream_hands_the_call_to_the_fallback_upstream(gateway):
    response = await gateway.post("/v2/Echo", json={"drug": "aspirin"})
    assert response.status_code == 200 and response.json()["args"] == {"drug": "aspirin"}
    assert response.headers["rosetta-fallback"] == "upstream=fake"


async def test_a_path_route_falls_back_to_a_path_route_with_its_parameters(gateway):
    response = await gateway.post("/v2/echo/ana?x=1", json={"n": 2})
    assert response.json()["args"] == {"who": "ana", "x": "1", "n": 2}
    assert response.headers["rosetta-fallback"] == "route=/v1/echo/{who}"


async def test_a_timeout_never_falls_back(gateway):
    response = await gateway.post("/slow/Echo", json={})
    assert response.status_code == 504 and "rosetta-fallback" not in response.headers


def test_what_hands_a_call_to_the_fallback():
    assert takes_over(CircuitOpen("open"), idempotent=False)
    assert takes_over(ServiceUnavailable("refused"), idempotent=False)
    assert takes_over(Reply(status=503), idempotent=True)
    assert not takes_over(Reply(status=503), idempotent=False)
    assert not takes_over(GatewayTimeout("slow"), idempotent=True)
    assert not takes_over(Reply(status=500), idempotent=True)


def test_a_streamed_body_goes_to_the_fallback_only_when_the_breaker_sent_none_of_it():
    assert takes_over(CircuitOpen("open"), idempotent=False, streamed=True)
    assert not takes_over(ServiceUnavailable("refused"), idempotent=False, streamed=True)
    assert not takes_over(Reply(status=503), idempotent=True, streamed=True)
