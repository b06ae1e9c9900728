"""Redis dies mid-run: the configured mode applies at once, one log line says so, nothing hangs."""

import asyncio
import logging
import time
import uuid
from contextlib import asynccontextmanager

import httpx
import pytest

from gateway.app import create_app, start_server
from gateway.config import build_config
from tests.e2e.log_capture import remember
from tests.redis_proc import RedisProcess

FAKE = "gateway.testing:FakeTranslator"


@pytest.fixture
def redis(redis_server):
    """A redis-server of this test's own, so it can be killed."""
    server = RedisProcess.start(redis_server.binary)
    yield server
    server.stop()


@pytest.fixture
def log_lines():
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep(level=logging.INFO)
    logger = logging.getLogger("rosetta")
    yield lines, handler, logger
    logger.removeHandler(handler)


@asynccontextmanager
async def gateway(redis_url, mode, log_lines):
    lines, handler, logger = log_lines
    config = build_config(
        {
            "limits": {"storage": redis_url, "on_storage_error": mode, "storage_timeout": 0.2, "storage_recheck": 0.3},
            "upstreams": {"fake": {"type": FAKE}},
            "routes": [{"prefix": "/v1/rx", "upstream": "fake", "auth": "none", "rate_limit": "1000/minute"}],
        },
        base_dir=__import__("pathlib").Path("."),
    )
    app = create_app(config)
    running = await start_server(app)
    logger.addHandler(handler)  # after start-up: Rosetta's logging set-up replaces handlers
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.port}", timeout=5) as client:
            yield client, app.ctx.runtime.limiter
    finally:
        await running.stop()


async def timed_calls(client, n):
    started = time.monotonic()
    responses = await asyncio.gather(*(client.post("/v1/rx/Echo", json={}) for _ in range(n)))
    return responses, time.monotonic() - started


async def test_with_allow_calls_go_through_uncounted_when_redis_is_killed(redis, log_lines):
    async with gateway(redis.url(), "allow", log_lines) as (client, limiter):
        before = await client.post("/v1/rx/Echo", json={})
        assert before.status_code == 200 and "ratelimit" in before.headers
        redis.stop()
        responses, took = await timed_calls(client, 20)
        assert [r.status_code for r in responses] == [200] * 20
        assert all("ratelimit" not in r.headers for r in responses)
        assert took < 2
        assert limiter.metrics.storage_errors >= 1
        assert limiter.metrics.allowed_without_storage == 20
    failures = [line for line in log_lines[0] if "rate-limit storage" in line and "failed" in line]
    assert len(failures) == 1 and "letting calls through uncounted" in failures[0]


async def test_with_deny_calls_are_refused_with_a_503_problem_when_redis_is_killed(redis, log_lines):
    async with gateway(redis.url(), "deny", log_lines) as (client, limiter):
        assert (await client.post("/v1/rx/Echo", json={})).status_code == 200
        redis.stop()
        responses, took = await timed_calls(client, 20)
        assert took < 2
        assert [r.status_code for r in responses] == [503] * 20
        body = responses[0].json()
        assert body["type"] == "urn:rosetta:problem:limits-unavailable"
        assert body["request_id"] == responses[0].headers["x-request-id"]
        assert responses[0].headers["retry-after"] == "1"
        assert limiter.metrics.denied_without_storage == 20
    assert any("refusing calls with 503" in line for line in log_lines[0])


async def test_counting_resumes_when_redis_comes_back(redis, log_lines):
    async with gateway(redis.url(), "deny", log_lines) as (client, _):
        redis.stop()
        assert (await client.post("/v1/rx/Echo", json={})).status_code == 503
        back = redis.restart()
        try:
            await asyncio.sleep(0.35)  # storage_recheck
            response = await client.post("/v1/rx/Echo", json={})
            assert response.status_code == 200 and "ratelimit" in response.headers
        finally:
            back.stop()
    assert any("answers again" in line for line in log_lines[0])


async def test_a_frozen_redis_delays_calls_by_about_one_storage_timeout(redis, log_lines):
    async with gateway(redis.url(), "allow", log_lines) as (client, limiter):
        assert (await client.post("/v1/rx/Echo", json={})).status_code == 200
        redis.pause()
        try:
            responses, took = await timed_calls(client, 20)
            assert [r.status_code for r in responses] == [200] * 20
            assert took < 2.0  # a frozen server never holds a call: 0.2 s for all, not per call
            failed = limiter.metrics.storage_errors
            again, _ = await timed_calls(client, 5)
            assert [r.status_code for r in again] == [200] * 5
            assert limiter.metrics.storage_errors == failed  # within storage_recheck it is not asked
        finally:
            redis.resume()


async def test_a_redis_restarted_while_the_gateway_was_idle_refuses_no_call(redis, log_lines):
    async with gateway(redis.url(), "deny", log_lines) as (client, limiter):
        assert (await client.post("/v1/rx/Echo", json={})).status_code == 200
        redis.stop()
        back = redis.restart()
        try:
            response = await client.post("/v1/rx/Echo", json={})
            assert response.status_code == 200 and "ratelimit" in response.headers
            assert limiter.metrics.storage_errors == 0
        finally:
            back.stop()
    assert not any("rate-limit storage" in line for line in log_lines[0])


async def test_the_outage_log_line_shows_no_password_of_the_storage_uri(log_lines):
    secret = remember("limits-pass-" + uuid.uuid4().hex)
    async with gateway(f"redis://127.0.0.1:1/0?db=0&password={secret}", "allow", log_lines) as (client, _):
        assert (await client.post("/v1/rx/Echo", json={})).status_code == 200
    failures = [line for line in log_lines[0] if "rate-limit storage" in line]
    assert failures and all(secret not in line for line in failures)
    assert "redis://127.0.0.1:1/0?db=0&password=*** failed" in failures[0]
