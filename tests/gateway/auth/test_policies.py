"""Route policies: loaded at start-up by import path or name, run after auth, refuse with their own status."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.auth.apikeys import digest
from gateway.auth.policies import TimeOfDay
from gateway.runtime import StartupError
from gateway.testing import serve_gateway
from tests.e2e import log_capture
from tests.e2e.log_capture import remember
from tests.gateway.auth import sample_policies
from tests.gateway.auth.helpers import FAKE, assert_problem

KEY = remember("policy-key-93be1c0f44a1")
SAMPLES = "tests.gateway.auth.sample_policies"


def closed_window() -> dict:
    """A TimeOfDay window that opened two hours from now (UTC) and closes an hour later."""
    start = datetime.now(UTC) + timedelta(hours=2)
    return {"start": f"{start:%H}:00", "end": f"{(start + timedelta(hours=1)):%H}:00"}


def config(routes, policies=None):
    return {
        "upstreams": {"fake": {"type": FAKE}},
        "auth": {
            "api_keys": {"keys": [{"consumer": "acme", "sha256": digest(KEY)}]},
            "policies": policies or {},
        },
        "routes": routes,
    }


POLICIES = {
    "small": {"use": "gateway.auth.policies:MaxBodySize", "options": {"max_bytes": 100}},
    "office": {"use": "gateway.auth.policies:SourceNetwork", "options": {"allow": ["10.0.0.0/8"]}},
    "loopback": {"use": "gateway.auth.policies:SourceNetwork", "options": {"allow": ["127.0.0.0/8", "::1/128"]}},
    "closed": {"use": "gateway.auth.policies:TimeOfDay", "options": closed_window()},
}
ROUTES = [
    {"prefix": "/small", "upstream": "fake", "auth": "none", "policies": ["small"]},
    {"prefix": "/office", "upstream": "fake", "auth": "none", "policies": ["office"]},
    {"prefix": "/local", "upstream": "fake", "policies": ["loopback", f"{SAMPLES}:Recorder"]},
    {"prefix": "/closed", "upstream": "fake", "auth": "none", "policies": ["closed"]},
    {"prefix": "/legal", "upstream": "fake", "auth": "none", "policies": [f"{SAMPLES}:Unavailable451"]},
    {"prefix": "/buggy", "upstream": "fake", "auth": "none", "policies": [f"{SAMPLES}:Crashes"]},
]


@pytest.fixture(scope="module")
async def gateway():
    async with serve_gateway(config(ROUTES, POLICIES)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_a_body_within_the_limit_passes(gateway):
    assert (await gateway.post("/small/Echo", content=b'{"a": 1}')).status_code == 200


async def test_a_body_over_the_limit_is_a_413_before_the_upstream(gateway):
    response = await gateway.post("/small/Echo", content=b'{"a": "' + b"x" * 200 + b'"}')
    body = assert_problem(response, 413, "payload-too-large")
    assert body["detail"] == "this route accepts bodies up to 100 bytes"


async def test_a_body_of_unknown_length_needs_a_content_length(gateway):
    async def chunks():
        yield b'{"a": 1}'

    response = await gateway.post("/small/Echo", content=chunks())
    assert_problem(response, 411, "bad-request")


async def test_a_caller_outside_the_allowed_networks_is_forbidden(gateway):
    assert_problem(await gateway.post("/office/Echo", json={}), 403, "forbidden")


async def test_policies_run_after_auth_and_see_the_consumer_but_no_credentials(gateway):
    sample_policies.Recorder.seen.clear()
    response = await gateway.post("/local/Echo?q=1", json={}, headers={"X-API-Key": KEY, "X-Trace": "t"})
    assert response.status_code == 200
    request, consumer = sample_policies.Recorder.seen[-1]
    assert consumer.id == "acme" and consumer.method == "api_key"
    assert (request.method, request.path, request.route, request.query_string) == ("POST", "/local/Echo", "/local", "q=1")
    assert request.client_ip == "127.0.0.1" and request.request_id == response.headers["x-request-id"]
    assert request.header("x-trace") == "t" and request.header("x-api-key") is None


async def test_policies_do_not_run_for_callers_without_credentials(gateway):
    sample_policies.Recorder.seen.clear()
    assert_problem(await gateway.post("/local/Echo", json={}), 401, "unauthorized")
    assert sample_policies.Recorder.seen == []


async def test_a_route_outside_its_opening_hours_is_forbidden(gateway):
    body = assert_problem(await gateway.post("/closed/Echo", json={}), 403, "forbidden")
    assert "open from" in body["detail"]


async def test_a_policy_refuses_with_its_own_status(gateway):
    body = assert_problem(await gateway.post("/legal/Echo", json={}), 451, "internal")
    assert body["detail"] == "blocked for legal reasons"


async def test_a_crashing_policy_is_a_logged_500_never_an_open_door(gateway):
    response = await gateway.post("/buggy/Echo", json={})
    body = assert_problem(response, 500, "internal")
    assert "tests.gateway.auth.sample_policies:Crashes" in body["detail"] and "policy bug" not in body["detail"]
    assert any("policy bug" in line for line in log_capture.LINES if response.headers["x-request-id"] in line)


@pytest.mark.parametrize(
    ("policies", "routes_policies", "error"),
    [
        ({}, ["no.such.module:Policy"], "routes[0].policies[0]: cannot import 'no.such.module'"),
        ({}, [f"{SAMPLES}:Missing"], f"routes[0].policies[0]: '{SAMPLES}' has no class 'Missing'"),
        ({}, [f"{SAMPLES}:NotAPolicy"], "it needs 'async def check(self, request, consumer)'"),
        ({}, ["nameless"], "routes[0].policies[0]: no policy named 'nameless' under auth.policies"),
        (
            {"bad": {"use": "gateway.auth.policies:MaxBodySize", "options": {"max_bites": 1}}},
            [],
            "auth.policies.bad: policy 'gateway.auth.policies:MaxBodySize' refused its options",
        ),
        (
            {"net": {"use": "gateway.auth.policies:SourceNetwork", "options": {"allow": ["10.0.0.300/8"]}}},
            [],
            "auth.policies.net: policy 'gateway.auth.policies:SourceNetwork' refused its options",
        ),
        (
            {"tz": {"use": "gateway.auth.policies:TimeOfDay", "options": {"start": "08:00", "end": "18:00", "timezone": "Mars/Base"}}},
            [],
            "unknown timezone 'Mars/Base'",
        ),
    ],
    ids=["no-module", "no-class", "not-a-policy", "unknown-name", "bad-option", "bad-network", "bad-timezone"],
)
async def test_a_policy_that_cannot_load_is_a_start_up_error_naming_it(policies, routes_policies, error):
    routes = [{"prefix": "/f", "upstream": "fake", "auth": "none", "policies": routes_policies}]
    with pytest.raises(StartupError) as raised:
        async with serve_gateway(config(routes, policies)):
            pass
    assert any(error in line for line in raised.value.errors), raised.value.errors


@pytest.mark.parametrize(
    ("start", "end", "moment", "open_"),
    [
        ("08:00", "18:00", "2026-03-02T12:00", True),
        ("08:00", "18:00", "2026-03-02T18:00", False),
        ("08:00", "18:00", "2026-03-02T07:59", False),
        ("22:00", "06:00", "2026-03-02T23:30", True),
        ("22:00", "06:00", "2026-03-02T05:59", True),
        ("22:00", "06:00", "2026-03-02T12:00", False),
    ],
)
def test_an_opening_window_may_span_midnight(start, end, moment, open_):
    window = TimeOfDay(start, end, timezone="UTC")
    assert window.is_open(datetime.fromisoformat(moment).replace(tzinfo=UTC)) is open_


def test_an_opening_window_may_skip_weekdays():
    weekdays = TimeOfDay("00:00", "23:59", timezone="Europe/Berlin", weekdays=[0, 1, 2, 3, 4])
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert not weekdays.is_open(saturday_noon)
    assert weekdays.is_open(saturday_noon - timedelta(days=1))
