"""Every counter storage decides the same way: atomically, exactly, for all rules at once.

The same checks run against memory:// and a real redis-server.
"""

import asyncio
import inspect
import time
import uuid

import pytest
import redis.exceptions as rx
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.limits.storage import BACKENDS, StorageError, open_storage
from gateway.limits.storage.memory import MemoryStorage
from gateway.limits.storage.redis import ERROR_TABLE, map_error
from gateway.limits.window import Rule, remaining, reset_after

MINUTE = Rule("route-60s", amount=20, window=60)
DAY = Rule("quota-86400s", amount=30, window=86400)


@pytest.fixture(params=["memory", "redis"])
async def storage(request):
    uri = "memory://" if request.param == "memory" else request.getfixturevalue("redis_server").url()
    store = open_storage(uri, timeout=1.0)
    await store.start()
    yield store
    await store.close()


def fresh(name: str = "k") -> str:
    return "{test}:" + name + ":" + uuid.uuid4().hex


async def test_exactly_the_amount_of_concurrent_calls_is_admitted(storage):
    key = fresh()
    results = await asyncio.gather(*(storage.hit([key], [MINUTE], 1) for _ in range(100)))
    assert sum(admitted for admitted, _ in results) == 20


async def test_a_call_refused_by_one_rule_spends_none_of_the_others(storage):
    tight, loose = fresh("tight"), fresh("loose")
    rules = [Rule("plan-60s", 2, 60), DAY]
    outcomes = [await storage.hit([tight, loose], rules, 1) for _ in range(5)]
    assert [admitted for admitted, _ in outcomes] == [True, True, False, False, False]
    admitted, counts = await storage.hit([loose], [DAY], 0)
    assert counts[0].current == 2


async def test_counts_after_the_decision_are_returned(storage):
    key = fresh()
    admitted, counts = await storage.hit([key], [MINUTE], 3)
    assert admitted and counts[0].current == 3 and counts[0].previous == 0
    assert 0 <= counts[0].elapsed < 60


async def test_a_cost_weight_counts_as_that_many_calls(storage):
    key = fresh()
    results = [await storage.hit([key], [MINUTE], 7) for _ in range(4)]
    assert [admitted for admitted, _ in results] == [True, True, False, False]
    assert results[-1][1][0].current == 14


async def test_keys_are_counted_apart(storage):
    a, b = fresh("a"), fresh("b")
    for _ in range(20):
        await storage.hit([a], [MINUTE], 1)
    assert (await storage.hit([b], [MINUTE], 1))[0]
    assert not (await storage.hit([a], [MINUTE], 1))[0]


async def test_keys_that_are_not_valid_unicode_are_counted_apart(storage):
    # Callers write key parts (a token's subject); the server decodes stray bytes to lone surrogates.
    odd, odder = fresh("\udcff"), fresh("\ud800")
    assert (await storage.hit([odd], [Rule("r-60s", 1, 60)], 1))[0]
    assert (await storage.hit([odder], [Rule("r-60s", 1, 60)], 1))[0]
    assert not (await storage.hit([odd], [Rule("r-60s", 1, 60)], 1))[0]


async def test_memory_counters_roll_over_with_the_clock():
    now = [60 * 16_667 + 20.0]  # 20 s into a minute window
    store = MemoryStorage(clock=lambda: now[0])
    for _ in range(20):
        assert (await store.hit(["k"], [MINUTE], 1))[0]
    now[0] += 40.5  # 0.5 s into the next window: the previous 20 still weigh 19.8
    assert not (await store.hit(["k"], [MINUTE], 1))[0]
    now[0] += 3.0  # 3.5 s in: they weigh 18.83, so one more fits
    admitted, counts = await store.hit(["k"], [MINUTE], 1)
    assert admitted and counts[0].previous == 20 and counts[0].current == 1
    now[0] += 120  # two windows on: all forgotten
    assert (await store.hit(["k"], [MINUTE], 20))[0]


async def test_memory_forgets_expired_counters(monkeypatch):
    import gateway.limits.storage.memory as memory

    monkeypatch.setattr(memory, "_SWEEP_EVERY", 3)
    now = [0.0]
    store = MemoryStorage(clock=lambda: now[0])
    await store.hit(["old"], [Rule("r", 5, 1)], 1)
    now[0] = 10.0
    await store.hit(["new-1"], [Rule("r", 5, 1)], 1)
    await store.hit(["new-2"], [Rule("r", 5, 1)], 1)
    assert len(store) == 2


def test_every_scheme_names_an_importable_backend():
    for scheme in BACKENDS:
        uri = f"{scheme}://127.0.0.1:1/0" if scheme != "redis+sentinel" else f"{scheme}://127.0.0.1:1/svc"
        assert open_storage(uri, timeout=0.1) is not None


async def test_an_unreachable_redis_is_a_storage_error_at_once():
    store = open_storage("redis://127.0.0.1:1/0", timeout=0.5)
    await store.start()
    started = time.monotonic()
    with pytest.raises(StorageError, match="unreachable"):
        await store.hit([fresh()], [MINUTE], 1)
    assert time.monotonic() - started < 2.0  # refused at once; never a hang
    await store.close()


async def test_a_frozen_redis_costs_at_most_the_storage_timeout(redis_server):
    from tests.redis_proc import RedisProcess

    frozen = RedisProcess.start(redis_server.binary)
    store = open_storage(frozen.url(), timeout=0.2)
    await store.start()
    try:
        assert (await store.hit([fresh()], [MINUTE], 1))[0]
        frozen.pause()
        started = time.monotonic()
        with pytest.raises(StorageError, match="in time"):
            await store.hit([fresh()], [MINUTE], 1)
        assert time.monotonic() - started < 2.0  # the 0.2 s timeout, not a hang
    finally:
        frozen.stop()
        await store.close()


async def test_redis_loads_the_script_again_after_a_flush(redis_server):
    store = open_storage(redis_server.url(), timeout=1.0)
    await store.start()
    assert (await store.hit([fresh()], [MINUTE], 1))[0]
    redis_server.command("SCRIPT", "FLUSH")
    assert (await store.hit([fresh()], [MINUTE], 1))[0]
    await store.close()


async def test_redis_closing_an_idle_connection_costs_no_decision(redis_server):
    # As Redis's `timeout` setting or a restart does: the next decision reconnects and is made.
    store = open_storage(redis_server.url(), timeout=1.0)
    await store.start()
    key = fresh()
    try:
        assert (await store.hit([key], [MINUTE], 1))[0]
        assert redis_server.command("CLIENT", "KILL", "TYPE", "normal") != b":0\r\n"
        admitted, counts = await store.hit([key], [MINUTE], 1)
        assert admitted and counts[0].current == 2  # counted once
    finally:
        await store.close()


def test_the_redis_error_table_covers_every_redis_exception():
    rows = [kind for kind, _ in ERROR_TABLE]
    for name, cls in inspect.getmembers(rx, inspect.isclass):
        if not issubclass(cls, Exception) or cls.__module__ != rx.__name__:
            continue
        assert any(issubclass(cls, row) for row in rows), f"{name} is not mapped"
        error = map_error(cls.__new__(cls))
        assert isinstance(error, StorageError) and error.args[0].startswith("redis ")


def test_specific_redis_errors_map_before_general_ones():
    assert "in time" in str(map_error(rx.TimeoutError("x")))
    assert "credentials" in str(map_error(rx.AuthenticationError("x")))
    assert "unreachable" in str(map_error(rx.ConnectionError("x")))
    assert "refused the command" in str(map_error(rx.ResponseError("x")))


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(1, 50),
    window=st.sampled_from([1, 7, 60, 86400]),
    steps=st.lists(st.tuples(st.floats(0, 40), st.integers(0, 9)), min_size=1, max_size=40),
)
def test_the_single_rule_path_decides_and_reports_like_the_general_one(
    amount: int, window: int, steps: list[tuple[float, int]]
) -> None:
    """decide_one (the limiter's hot path) and decide + window formulas agree call by call."""
    rule, now = Rule("route", amount, window), [1_000_000.0]
    fast, general = MemoryStorage(clock=lambda: now[0]), MemoryStorage(clock=lambda: now[0])
    for advance, cost in steps:
        now[0] += advance
        rest, reset, refused = fast.decide_one("k", rule, cost)
        admitted, counts = general.decide(["k"], [rule], cost)
        assert (refused is None) == admitted
        assert (rest, reset) == (remaining(rule, counts[0]), reset_after(rule, counts[0]))
        if refused is not None:
            assert refused == counts[0]
