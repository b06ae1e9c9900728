"""The response cache: keys, what may be stored, and both stores."""

import asyncio
import uuid

import pytest

from gateway.plugin import Consumer, Operation, Reply
from gateway.resilience.cache import (
    CachedReply,
    ResponseCache,
    cache_key,
    client_bypasses,
    open_store,
)
from gateway.resilience.cache.memory import MemoryStore
from gateway.resilience.settings import CacheSettings
from gateway.testing import make_call

OP = Operation(name="*", method="*", path="/{p=**}")
GET_DRUG = Operation(name="GetDrug", method="POST")


def key_of(**kwargs):
    call = make_call(kwargs.pop("op", OP), **kwargs)
    return cache_key("/v1/rx", call, kwargs.get("parsed"))


def test_the_key_ignores_the_order_of_parameters_but_not_of_one_parameters_values():
    assert key_of(method="GET", query="a=1&b=2") == key_of(method="GET", query="b=2&a=1")
    assert key_of(method="GET", query="a=1") != key_of(method="GET", query="a=2")
    # tags=b&tags=a may be another request (a repeated gRPC field keeps its order)
    assert key_of(method="GET", query="tags=a&tags=b") != key_of(method="GET", query="tags=b&tags=a")


def test_the_key_separates_negotiated_representations():
    json, xml = key_of(method="GET", headers=[("Accept", "application/json")]), key_of(method="GET", headers=[("Accept", "application/xml")])
    assert json != xml != key_of(method="GET")
    assert key_of(method="GET", headers=[("Accept-Encoding", "gzip")]) != key_of(method="GET")
    assert key_of(method="GET", headers=[("X-Trace", "1")]) == key_of(method="GET")


def test_the_key_separates_consumers_paths_and_methods():
    base = key_of(method="GET", path="/drugs/1")
    assert base != key_of(method="GET", path="/drugs/2")
    assert base != key_of(method="HEAD", path="/drugs/1")
    assert base != key_of(method="GET", path="/drugs/1", consumer=Consumer("acme"))


async def test_json_bodies_with_the_same_content_share_a_key():
    cache = ResponseCache("/soap", CacheSettings(ttl=5, operations=("GetDrug",)), open_store("memory://", 10))
    one = await cache.key(make_call(GET_DRUG, body=b'{"a": 1, "b": [1, 2]}'))
    two = await cache.key(make_call(GET_DRUG, body=b'{"b":[1,2],"a":1}'))
    assert one == two and one is not None


async def test_a_body_that_is_not_json_is_not_cached():
    cache = ResponseCache("/soap", CacheSettings(ttl=5, operations=("GetDrug",)), open_store("memory://", 10))
    assert await cache.key(make_call(GET_DRUG, body=b"{nope")) is None


def test_only_safe_reads_and_listed_operations_apply():
    cache = ResponseCache("/r", CacheSettings(ttl=5, operations=("GetDrug",)), open_store("memory://", 10))
    assert cache.applies(make_call(OP, method="GET")) and cache.applies(make_call(OP, method="HEAD"))
    assert not cache.applies(make_call(OP, method="POST"))
    assert cache.applies(make_call(GET_DRUG, method="POST"))
    assert not cache.applies(make_call(Operation(name="Refill"), method="POST"))


@pytest.mark.parametrize("kind", ["client", "bidi"])
def test_a_streamed_request_body_is_never_cached_even_when_listed(kind):
    cache = ResponseCache("/r", CacheSettings(ttl=5, operations=("Upload",)), open_store("memory://", 10))
    assert not cache.applies(make_call(Operation(name="Upload", streaming=kind), method="POST"))
    assert not cache.applies(make_call(Operation(name="Upload", streaming=kind), method="GET"))


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=201, json={}),
        Reply(status=500, json={}),
        Reply(json={}, headers=[("Set-Cookie", "s=1")]),
        Reply(json={}, headers=[("Cache-Control", "private, max-age=60")]),
        Reply(json={}, headers=[("cache-control", "no-store")]),
        Reply(json={}, headers=[("Vary", "Cookie")]),
        Reply(json={}, headers=[("Vary", "Accept, Authorization")]),
        Reply(json={}, headers=[("vary", "*")]),
        Reply(body=b"x" * 101),
    ],
)
async def test_replies_that_must_not_be_shared_are_not_stored(reply):
    cache = ResponseCache("/r", CacheSettings(ttl=5, max_body_bytes=100), open_store("memory://", 10))
    assert not await cache.store_reply("k", reply)


async def test_a_reply_varying_only_on_negotiation_headers_is_stored():
    cache = ResponseCache("/r", CacheSettings(ttl=5), open_store("memory://", 10))
    assert await cache.store_reply("k", Reply(json={}, headers=[("Vary", "Accept-Encoding, accept")]))


async def test_a_stored_json_reply_comes_back_as_the_same_bytes():
    cache = ResponseCache("/r", CacheSettings(ttl=5), open_store("memory://", 10))
    reply = Reply(json={"name": "aspirin"}, headers=[("ETag", '"1"')])
    assert await cache.store_reply("k", reply)
    entry = await cache.lookup("k")
    again = entry.to_reply()
    assert again.body == b'{"name":"aspirin"}' and again.content_type == "application/json"
    assert again.headers == [("ETag", '"1"')] and reply.body == again.body


def test_no_cache_skips_the_lookup_and_no_store_skips_both():
    assert client_bypasses(make_call(OP, headers=[("Cache-Control", "no-cache")])) == (True, False)
    assert client_bypasses(make_call(OP, headers=[("cache-control", "max-age=0, no-store")])) == (True, True)
    assert client_bypasses(make_call(OP)) == (False, False)


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    uri = "memory://" if request.param == "memory" else request.getfixturevalue("redis_server").url(1)
    store = open_store(uri, max_entries=2)
    yield store
    await store.close()


async def test_entries_expire_after_their_ttl(store):
    key = uuid.uuid4().hex
    await store.put(key, CachedReply(200, b"body", "text/plain", [("A", "1")], 123.0), ttl=0.1)
    entry = await store.get(key)
    assert entry == CachedReply(200, b"body", "text/plain", [("A", "1")], 123.0)
    await asyncio.sleep(0.15)
    assert await store.get(key) is None


async def test_the_memory_store_drops_the_least_recently_used():
    store = open_store("memory://", max_entries=2)
    for key in ("a", "b"):
        await store.put(key, CachedReply(200, b"", None), ttl=60)
    await store.get("a")
    await store.put("c", CachedReply(200, b"", None), ttl=60)
    assert await store.get("b") is None and await store.get("a") is not None


async def test_a_dead_redis_cache_is_a_miss_not_an_error():
    store = open_store("redis://127.0.0.1:1/0", max_entries=1)
    await store.put("k", CachedReply(200, b"", None), ttl=1)
    assert await store.get("k") is None
    await store.close()


@pytest.mark.parametrize(
    "headers",
    [
        [("Cache-Control", "no-cache")],
        [("Cache-Control", "max-age=0")],
        [("Cache-Control", "max-age=60, s-maxage=0")],
        [("cache-control", "public, max-age=10"), ("Age", "10")],
    ],
)
async def test_a_reply_the_upstream_marks_stale_or_to_revalidate_is_not_stored(headers):
    cache = ResponseCache("/r", CacheSettings(ttl=30), open_store("memory://", 10))
    assert not await cache.store_reply("k", Reply(json={}, headers=headers))
    assert await cache.lookup("k") is None


@pytest.mark.parametrize(
    ("headers", "fresh_for"),
    [
        ([("Cache-Control", "max-age=5")], 5),
        ([("Cache-Control", "max-age=0, s-maxage=20")], 20),
        ([("Cache-Control", "max-age=600")], 30),
        ([("Cache-Control", "max-age=5"), ("Age", "2")], 5),
        ([("Cache-Control", "max-age=bogus")], 30),
        ([], 30),
    ],
)
async def test_an_entry_is_fresh_for_the_route_ttl_or_the_upstream_lifetime_whichever_is_shorter(headers, fresh_for):
    cache = ResponseCache("/r", CacheSettings(ttl=30), open_store("memory://", 10))
    assert await cache.store_reply("k", Reply(json={}, headers=headers))
    entry = await cache.lookup("k")
    assert entry.ttl == fresh_for


async def test_the_age_of_a_cached_reply_counts_the_age_it_had_upstream_and_is_sent_once():
    cache = ResponseCache("/r", CacheSettings(ttl=30), open_store("memory://", 10))
    assert await cache.store_reply("k", Reply(json={}, headers=[("Age", "7"), ("ETag", '"1"')]))
    entry = await cache.lookup("k")
    assert 7 <= entry.age() < 8 and 22 < entry.ttl_left() <= 23
    assert entry.to_reply().headers == [("ETag", '"1"')]


def test_the_key_separates_callers_by_the_credentials_forwarded_to_the_upstream():
    def key(*headers):
        return cache_key("/v1/rx", make_call(OP, method="GET", headers=headers), None, ("authorization",))

    alice, bob = key(("Authorization", "Bearer alice")), key(("authorization", "Bearer bob"))
    assert len({alice, bob, key()}) == 3
    assert key(("Authorization", "Bearer alice"), ("X-Trace", "1")) == alice


async def test_the_memory_store_keeps_at_most_max_bytes_dropping_the_least_recently_used():
    store = MemoryStore(max_entries=100, max_bytes=1_000)
    body = b"x" * 300
    for key in ("a", "b", "c"):
        await store.put(key, CachedReply(200, body, None, []), ttl=10)
    assert len(store) == 3 and store.size == 903
    await store.get("a")  # now the most recently used
    await store.put("d", CachedReply(200, body, None, []), ttl=10)
    assert await store.get("b") is None and await store.get("a") is not None
    assert store.size <= 1_000


async def test_the_memory_store_does_not_keep_a_reply_larger_than_max_bytes_and_counts_replacements_once():
    store = MemoryStore(max_entries=100, max_bytes=1_000)
    await store.put("big", CachedReply(200, b"x" * 1_001, None, []), ttl=10)
    assert await store.get("big") is None and store.size == 0
    for _ in range(5):
        await store.put("k", CachedReply(200, b"x" * 100, None, [("A", "1")]), ttl=10)
    assert len(store) == 1 and store.size == 1 + 100 + 2
