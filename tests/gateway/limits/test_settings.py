"""``limits:`` config: rate strings, storages, plans and the worker rule, each error with its path."""

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, build_config

FAKE = "gateway.testing:FakeTranslator"
UPSTREAMS = {"fake": {"type": FAKE}}


def errors_of(raw):
    with pytest.raises(ConfigError) as caught:
        build_config(raw, Path("."))
    return caught.value.errors


def route(**extra):
    return {"prefix": "/f", "upstream": "fake", "auth": "none", **extra}


def test_the_documented_shape_loads():
    config = build_config(
        {
            "limits": {"storage": "redis://127.0.0.1:6379/0", "on_storage_error": "allow"},
            "upstreams": UPSTREAMS,
            "routes": [route(rate_limit="20/minute")],
        },
        Path("."),
    )
    assert config.limits.storage == "redis://127.0.0.1:6379/0"
    assert config.routes[0].rate_limit == "20/minute"


def test_storage_defaults_to_memory_and_storage_errors_to_allow():
    limits = build_config({}, Path(".")).limits
    assert limits.storage == "memory://" and limits.on_storage_error == "allow"


def test_a_malformed_route_rate_names_the_route():
    errors = errors_of({"upstreams": UPSTREAMS, "routes": [route(rate_limit="30/minut")]})
    assert errors[0].startswith("routes[0].rate_limit: ") and "'30/minut' is not a rate limit" in errors[0]


@pytest.mark.parametrize("rate", ["", "0/minute", "minute", "5/second;;x"])
def test_rates_that_are_not_rates_are_refused(rate):
    errors = errors_of({"limits": {"global": rate}})
    assert errors[0].startswith("limits.global: ")


def test_several_windows_and_long_forms_are_rates():
    config = build_config({"limits": {"global": "5/second;1000/day", "plans": {"p": {"quota": "10 per 2 hours"}}}}, Path("."))
    assert config.limits.global_limit == "5/second;1000/day"


def test_an_unknown_storage_scheme_lists_the_known_ones():
    errors = errors_of({"limits": {"storage": "memcached://x"}})
    assert errors[0].startswith("limits.storage: ") and "redis+sentinel://" in errors[0]


def test_on_storage_error_is_allow_or_deny():
    assert errors_of({"limits": {"on_storage_error": "maybe"}})[0].startswith("limits.on_storage_error: ")


def test_trusted_proxies_are_cidrs():
    config = build_config({"limits": {"trusted_proxies": ["10.0.0.0/8", "::1", "192.168.1.7"]}}, Path("."))
    assert [str(n) for n in config.limits.trusted_proxies] == ["10.0.0.0/8", "::1/128", "192.168.1.7/32"]
    assert errors_of({"limits": {"trusted_proxies": ["10.0.0.0/33"]}})[0].startswith("limits.trusted_proxies")


def test_a_default_plan_must_exist():
    errors = errors_of({"limits": {"default_plan": "gold"}})
    assert errors == ["limits.default_plan: no plan named 'gold' under limits.plans"]


def test_consumers_must_name_existing_plans_and_well_formed_rates():
    errors = errors_of(
        {
            "limits": {"plans": {"gold": {"rate_limit": "10/second"}}},
            "auth": {"consumers": [{"id": "a", "plan": "silver"}, {"id": "b", "quota": "lots"}]},
        }
    )
    assert "auth.consumers[0].plan: no plan named 'silver' under limits.plans" in errors
    assert any(e.startswith("auth.consumers[1].quota: 'lots' is not a rate limit") for e in errors)


def test_memory_storage_with_several_workers_is_refused_when_anything_is_limited():
    errors = errors_of({"server": {"workers": 2}, "upstreams": UPSTREAMS, "routes": [route(rate_limit="5/second")]})
    assert errors[0].startswith("limits.storage: memory:// keeps counters inside each process")
    assert "2 × the limit" in errors[0] and "redis://" in errors[0]


@pytest.mark.parametrize("own", [{"rate_limit": "5/minute"}, {"quota": "100/day"}])
def test_memory_storage_with_several_workers_is_refused_for_a_consumer_s_own_limit(own):
    """Counted per worker, a consumer's own limit would let through N × as many calls."""
    consumers = [{"id": "acme", "api_keys": ["a" * 64], **own}]
    errors = errors_of({"server": {"workers": 2}, "auth": {"consumers": consumers}, "upstreams": UPSTREAMS,
                        "routes": [route(auth="api_key")]})
    assert errors[0].startswith("limits.storage: memory:// keeps counters inside each process")


def test_several_workers_are_fine_with_redis_or_without_limits():
    build_config({"server": {"workers": 2}, "upstreams": UPSTREAMS, "routes": [route()]}, Path("."))
    build_config(
        {"server": {"workers": 2}, "limits": {"storage": "redis://127.0.0.1:1/0"}, "upstreams": UPSTREAMS,
         "routes": [route(rate_limit="5/second")]},
        Path("."),
    )


def test_the_command_line_worker_count_is_checked_too(tmp_path, capsys):
    config = tmp_path / "rosetta.yaml"
    config.write_text(
        "upstreams: {fake: {type: 'gateway.testing:FakeTranslator'}}\n"
        "routes: [{prefix: /f, upstream: fake, auth: none, rate_limit: 5/second}]\n"
    )
    assert main(["run", "--config", str(config), "--workers", "3"]) == 1
    err = capsys.readouterr().err
    assert "error: limits.storage: memory:// keeps counters inside each process" in err
    assert "server.workers = 3" in err


def test_a_route_cost_no_limit_over_it_could_ever_admit_is_refused():
    errors = errors_of(
        {
            "limits": {"global": "100/second;50/minute", "plans": {"free": {"rate_limit": "3/minute"}}},
            "auth": {"consumers": [{"id": "acme", "quota": "100/day;4/second"}]},
            "upstreams": UPSTREAMS,
            "routes": [route(rate_limit="10/minute", cost=60), {"prefix": "/k", "upstream": "fake", "cost": 5}],
        }
    )
    assert errors == [
        "routes[0].cost: a call costs 60, more than routes[0].rate_limit '10/minute' allows: no call could ever pass",
        "routes[0].cost: a call costs 60, more than limits.global '100/second;50/minute' allows: "
        "no call could ever pass",
        "routes[1].cost: a call costs 5, more than limits.plans.free.rate_limit '3/minute' allows: "
        "no call could ever pass",
        "routes[1].cost: a call costs 5, more than auth.consumers[0].quota '100/day;4/second' allows: "
        "no call could ever pass",
    ]


def test_a_route_cost_within_every_limit_loads():
    build_config(
        {"limits": {"plans": {"free": {"rate_limit": "3/minute"}}}, "upstreams": UPSTREAMS,
         "routes": [route(rate_limit="10/minute", cost=10), route(prefix="/z", cost=0), route(prefix="/o", cost=50)]},
        Path("."),
    )
