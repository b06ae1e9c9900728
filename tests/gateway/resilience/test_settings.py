"""Resilience config: per upstream and per route, each error with its path."""

from pathlib import Path

import pytest

from gateway.config import ConfigError, build_config

FAKE = "gateway.testing:FakeTranslator"


def errors_of(raw):
    with pytest.raises(ConfigError) as caught:
        build_config(raw, Path("."))
    return caught.value.errors


def base(routes=(), **upstream):
    return {
        "upstreams": {"v2": {"type": FAKE, **upstream}, "v1": {"type": FAKE}},
        "routes": list(routes) or [{"prefix": "/v2", "upstream": "v2", "auth": "none"}],
    }


def test_every_resilience_part_is_off_by_default():
    config = build_config(base(), Path("."))
    resilience = config.upstreams["v2"].resilience
    assert resilience.retry is None and resilience.breaker is None and resilience.bulkhead is None
    assert resilience.attempt_timeout is None


def test_the_documented_resilience_block_loads():
    config = build_config(
        base(resilience={
            "attempt_timeout": 2,
            "bulkhead": {"max_concurrent": 50, "max_wait": 0.1},
            "retry": {"attempts": 3, "backoff": 0.05, "max_backoff": 1},
            "breaker": {"failures": 5, "open_for": 30},
        }),
        Path("."),
    )
    assert config.upstreams["v2"].resilience.bulkhead.max_concurrent == 50


def test_a_typo_inside_resilience_names_its_path():
    errors = errors_of(base(resilience={"retry": {"attempt": 3}}))
    assert errors[0].startswith("upstreams.v2.resilience.retry.attempt: unknown key")


def test_a_bulkhead_needs_its_cap():
    assert errors_of(base(resilience={"bulkhead": {}}))[0].startswith("upstreams.v2.resilience.bulkhead.max_concurrent")


def test_a_fallback_names_exactly_one_existing_target():
    routes = [
        {"prefix": "/v2", "upstream": "v2", "auth": "none", "fallback": {"route": "/v0"}},
        {"prefix": "/v3", "upstream": "v2", "auth": "none", "fallback": {"upstream": "v9"}},
        {"prefix": "/v4", "upstream": "v2", "auth": "none", "fallback": {"route": "/v1", "upstream": "v1"}},
        {"prefix": "/v1", "upstream": "v1", "auth": "none", "fallback": {"route": "/v1"}},
    ]
    errors = errors_of(base(routes))
    assert errors[0].startswith("routes[2].fallback: ") and "exactly one of 'route' or 'upstream'" in errors[0]


def test_fallback_references_are_checked_against_the_config():
    routes = [
        {"prefix": "/v2", "upstream": "v2", "auth": "none", "fallback": {"route": "/v0"}},
        {"prefix": "/v3", "upstream": "v2", "auth": "none", "fallback": {"upstream": "v9"}},
        {"prefix": "/v1", "upstream": "v1", "auth": "none", "fallback": {"route": "/v1"}},
        {"path": "/echo", "upstream": "v2", "operation": "Echo", "auth": "none", "fallback": {"route": "/v1"}},
    ]
    errors = errors_of(base(routes))
    assert errors == [
        "routes[0].fallback.route: no route with prefix or path '/v0'",
        "routes[1].fallback.upstream: no upstream named 'v9'",
        "routes[2].fallback: a route cannot fall back to itself",
        "routes[3].fallback.route: a path route falls back to a path route or an upstream",
    ]


def test_a_cache_needs_a_positive_ttl_and_a_known_storage():
    routes = [{"prefix": "/v2", "upstream": "v2", "auth": "none", "cache": {"ttl": 0, "storage": "disk://x"}}]
    errors = errors_of(base(routes))
    assert any(e.startswith("routes[0].cache.ttl: ") for e in errors)
    assert any(e.startswith("routes[0].cache.storage: ") and "unknown cache storage" in e for e in errors)


def test_an_error_rate_breaker_needs_min_calls_that_fit_in_its_window():
    breaker = {"error_rate": 0.5, "window": 10, "min_calls": 20}
    errors = errors_of(base(resilience={"breaker": breaker}))
    assert errors[0].startswith("upstreams.v2.resilience.breaker: ") and "min_calls" in errors[0]
