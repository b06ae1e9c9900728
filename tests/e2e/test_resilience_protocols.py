"""Resilience with gRPC and SOAP upstreams, over real sockets: retries, breaker, fallback, cache, timeouts.

The gRPC upstream is a real ``grpc.aio`` server of a small stock service whose
methods carry ``idempotency_level``; each call takes the next status of a
script (``OK`` once it is empty) and is counted. The SOAP upstream is the
scripted lxml service of the SOAP translator's tests.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import httpx
import pytest

from gateway.testing import serve_gateway
from tests.e2e.http_upstream import http_upstream
from tests.translators.soap.servers import start_scripted
from translators.grpc.descriptors import ServiceSet, compile_protos, load_services

ROOT = Path(__file__).resolve().parents[2]
SHAPES_WSDL = ROOT / "wsdl" / "test" / "shapes.wsdl"
SERVICE = "rosetta.resilience.v1.Stock"
PROTO = """
syntax = "proto3";
package rosetta.resilience.v1;
import "google/api/annotations.proto";

message Ask { string note = 1; double seconds = 2; }
message Answer { string note = 1; int32 served = 2; }

service Stock {
  rpc Look(Ask) returns (Answer) {
    option idempotency_level = NO_SIDE_EFFECTS;
    option (google.api.http) = { get: "/v1/items/{note}" };
  }
  rpc Order(Ask) returns (Answer) {
    option (google.api.http) = { post: "/v1/orders" body: "*" };
  }
  rpc Tally(stream Ask) returns (Answer) { option idempotency_level = IDEMPOTENT; }
  rpc Talk(stream Ask) returns (stream Answer) { option idempotency_level = IDEMPOTENT; }
  rpc List(Ask) returns (stream Answer) {
    option idempotency_level = NO_SIDE_EFFECTS;
    option (google.api.http) = { get: "/v1/list/{note}" };
  }
}
"""


class StockServer:
    """A real gRPC Stock service: each call takes the next code of ``script`` (``OK`` when empty)."""

    def __init__(self, services: ServiceSet) -> None:
        self.services = services
        self.script: list[str] = []
        self.calls: Counter[str] = Counter()
        self.notes: list[str] = []
        self.cancelled = 0
        self.server = grpc.aio.server()
        self.port = 0

    def _answer(self, note: str) -> Any:
        cls = self.services.method(f"{SERVICE}/Look").output
        return cls(note=note, served=sum(self.calls.values()))

    async def _verdict(self, method: str, context: grpc.aio.ServicerContext) -> None:
        self.calls[method] += 1
        code = self.script.pop(0) if self.script else "OK"
        if code != "OK":
            await context.abort(grpc.StatusCode[code], f"scripted {code}")

    async def unary(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.notes.append(request.note)
        await self._verdict(method, context)
        try:
            await asyncio.sleep(request.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return self._answer(request.note)

    async def streamed(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await self._verdict(method, context)
        for i in range(3):
            yield self._answer(f"{request.note}-{i}")
            if request.note == "break":
                await context.abort(grpc.StatusCode.UNAVAILABLE, "went away mid-stream")

    async def tally(self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        notes = [r.note async for r in requests]
        await self._verdict("Tally", context)
        return self._answer(",".join(notes))

    async def talk(self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await self._verdict("Talk", context)
        async for request in requests:
            self.notes.append(request.note)
            yield self._answer(request.note.upper())

    async def start(self) -> None:
        def io(name: str) -> dict[str, Any]:
            info = self.services.method(f"{SERVICE}/{name}")
            return {"request_deserializer": info.input.FromString, "response_serializer": info.output.SerializeToString}

        def bound(method: str, fn: Any) -> Any:
            async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await fn(method, request, context)
            return handler

        def bound_stream(method: str) -> Any:
            async def handler(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                async for answer in self.streamed(method, request, context):
                    yield answer
            return handler

        handlers = {
            "Look": grpc.unary_unary_rpc_method_handler(bound("Look", self.unary), **io("Look")),
            "Order": grpc.unary_unary_rpc_method_handler(bound("Order", self.unary), **io("Order")),
            "List": grpc.unary_stream_rpc_method_handler(bound_stream("List"), **io("List")),
            "Tally": grpc.stream_unary_rpc_method_handler(self.tally, **io("Tally")),
            "Talk": grpc.stream_stream_rpc_method_handler(self.talk, **io("Talk")),
        }
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def proto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("protos") / "stock.proto"
    path.write_text(PROTO)
    return path


@pytest.fixture
async def stock(proto: Path) -> AsyncIterator[StockServer]:
    server = StockServer(load_services(compile_protos([proto])))
    await server.start()
    try:
        yield server
    finally:
        await server.server.stop(grace=None)


@pytest.fixture
async def soap():
    backend = await start_scripted()
    try:
        yield backend
    finally:
        await backend.stop()


RETRY = {"attempts": 3, "backoff": 0.001, "max_backoff": 0.001}


def grpc_upstream(target: str, proto: Path, **resilience: Any) -> dict[str, Any]:
    return {"type": "grpc", "target": target, "protos": [str(proto)], "timeout": 5, "resilience": resilience}


def soap_upstream(url: str, **resilience: Any) -> dict[str, Any]:
    return {"type": "soap", "wsdl": str(SHAPES_WSDL), "address": f"{url}/shapes", "timeout": 5,
            "resilience": resilience}



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BREAKER = {"failures": 3, "open_for": 30}


def config(stock: StockServer, soap_url: str, rest_url: str, proto: Path, dead: int) -> dict[str, Any]:
    nowhere = f"127.0.0.1:{dead}"
    return {
        "upstreams": {
            "retrying": grpc_upstream(stock.target, proto, retry=RETRY),
            "guarded": grpc_upstream(stock.target, proto, breaker=BREAKER),
            "timed": grpc_upstream(stock.target, proto, attempt_timeout=0.2, bulkhead={"max_concurrent": 1}),
            "plain": grpc_upstream(stock.target, proto),
            "grpc_gone": grpc_upstream(nowhere, proto, retry=RETRY, breaker=BREAKER),
            "shapes": soap_upstream(soap_url, retry=RETRY, breaker=BREAKER, idempotent_operations=["Ping", "Echo"]),
            "soap_gone": soap_upstream(f"http://{nowhere}", retry=RETRY, breaker=BREAKER, idempotent_operations=["Ping"]),
            "rest": {"type": "rest", "url": rest_url},
        },
        "routes": [
            {"prefix": "/retrying", "upstream": "retrying", "auth": "none"},
            {"prefix": "/guarded", "upstream": "guarded", "auth": "none"},
            {"prefix": "/timed", "upstream": "timed", "auth": "none"},
            {"prefix": "/fallible", "upstream": "retrying", "auth": "none", "fallback": {"route": "/rest"}},
            {"prefix": "/cached", "upstream": "plain", "auth": "none",
             "cache": {"ttl": 0.4, "operations": [f"{SERVICE}/Look", f"{SERVICE}/Tally", f"{SERVICE}/Talk"]}},
            {"prefix": "/grpc-gone", "upstream": "grpc_gone", "auth": "none"},
            {"prefix": "/shapes", "upstream": "shapes", "auth": "none"},
            {"prefix": "/soap-gone", "upstream": "soap_gone", "auth": "none"},
            {"prefix": "/soap-spare", "upstream": "soap_gone", "auth": "none", "fallback": {"upstream": "rest"}},
            {"prefix": "/rest", "upstream": "rest", "auth": "none"},
        ],
    }


@pytest.fixture
async def gateway(stock: StockServer, soap, proto: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with http_upstream("rest") as rest:
        settings = config(stock, soap.url, rest.url, proto, free_port())
        async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
            yield client, rest


def look(note: str, **more: Any) -> dict[str, Any]:
    return {"note": note, **more}


# -- retries ---------------------------------------------------------------------------
async def test_an_idempotent_grpc_method_is_retried_on_unavailable_with_its_body_intact(gateway, stock):
    client, _ = gateway
    stock.script = ["UNAVAILABLE", "UNAVAILABLE"]
    answer = await client.post(f"/retrying/{SERVICE}/Look", json=look("intact"))
    assert answer.status_code == 200 and answer.json()["note"] == "intact"
    assert stock.calls["Look"] == 3 and stock.notes == ["intact"] * 3


@pytest.mark.parametrize("code", ["DEADLINE_EXCEEDED", "INTERNAL", "INVALID_ARGUMENT", "NOT_FOUND", "ABORTED"])
async def test_an_idempotent_grpc_method_is_not_retried_on_other_codes(gateway, stock, code):
    client, _ = gateway
    stock.script = [code]
    answer = await client.get("/retrying/v1/items/x")
    assert answer.status_code >= 400 and answer.json()["grpc_status"] == code
    assert stock.calls["Look"] == 1


async def test_a_grpc_method_without_idempotency_is_never_retried(gateway, stock):
    client, _ = gateway
    stock.script = ["UNAVAILABLE"]
    answer = await client.post("/retrying/v1/orders", json=look("one"))
    assert answer.status_code == 503 and stock.calls["Order"] == 1


@pytest.mark.parametrize("method", ["Tally", "Talk"])
async def test_client_and_bidi_streams_are_never_retried_even_when_marked_idempotent(gateway, stock, method):
    client, _ = gateway
    stock.script = ["UNAVAILABLE"]
    answer = await client.post(f"/retrying/{SERVICE}/{method}", content=b'{"note": "a"}\n{"note": "b"}\n')
    # A bidi call refused while its requests are still being written may end INTERNAL on grpc's side.
    assert answer.status_code in (500, 503)
    assert stock.calls[method] == 1


async def test_a_connect_error_is_retried_for_an_idempotent_grpc_method_only(gateway):
    client, _ = gateway
    # Three tries of one idempotent call are three failures: the breaker (failures: 3) opens.
    first = await client.get("/grpc-gone/v1/items/x")
    assert first.json()["type"] == "urn:rosetta:problem:upstream-unreachable"
    assert (await client.get("/grpc-gone/v1/items/x")).headers.get("retry-after") is not None


async def test_a_soap_operation_marked_idempotent_is_retried_on_a_connect_error(gateway):
    client, _ = gateway
    first = await client.post("/soap-gone/Ping", json={})
    assert first.json()["type"] == "urn:rosetta:problem:upstream-unreachable"
    second = await client.post("/soap-gone/Ping", json={})
    assert second.json()["title"] == "Upstream circuit open", "three tries opened the breaker"


async def test_a_soap_operation_not_marked_idempotent_is_tried_once(gateway):
    client, _ = gateway
    tries = [await client.post("/soap-gone/Echo", json={"shape": {"id": 1}}) for _ in range(3)]
    assert [t.json()["type"] for t in tries] == ["urn:rosetta:problem:upstream-unreachable"] * 3
    assert (await client.post("/soap-gone/Echo", json={"shape": {"id": 1}})).json()["title"] == "Upstream circuit open"


@pytest.mark.parametrize("shape_id", [-1, -2])
async def test_a_soap_fault_is_never_retried(gateway, soap, shape_id):
    client, _ = gateway
    answer = await client.post("/shapes/Echo", json={"shape": {"id": shape_id}})
    assert answer.status_code in (422, 502) and len(soap.seen) == 1


# -- fallback --------------------------------------------------------------------------
async def test_an_unavailable_grpc_upstream_falls_back_to_a_rest_route(gateway, stock):
    client, rest = gateway
    stock.script = ["UNAVAILABLE"] * 3
    answer = await client.get("/fallible/v1/items/x")
    assert answer.status_code == 200 and answer.json()["from"] == "rest"
    assert answer.json()["path"] == "/v1/items/x" and stock.calls["Look"] == 3
    assert answer.headers["rosetta-fallback"] == "route=/rest"


async def test_a_grpc_fault_does_not_fall_back(gateway, stock):
    client, rest = gateway
    stock.script = ["INTERNAL"]
    answer = await client.get("/fallible/v1/items/x")
    assert answer.status_code == 500 and "rosetta-fallback" not in answer.headers and rest.total == 0


async def test_a_grpc_stream_that_fails_after_its_first_message_cannot_fall_back(gateway, stock):
    client, rest = gateway
    answer = await client.get("/fallible/v1/list/break")
    lines = answer.text.splitlines()
    assert answer.status_code == 200 and "rosetta-fallback" not in answer.headers and rest.total == 0
    assert '"break-0"' in lines[0] and "upstream-unreachable" in lines[-1]


async def test_an_unreachable_soap_upstream_falls_back_to_a_rest_upstream(gateway):
    client, rest = gateway
    answer = await client.post("/soap-spare/Echo", json={"shape": {"id": 1}})
    assert answer.status_code == 200 and answer.json()["path"] == "/Echo"
    assert answer.headers["rosetta-fallback"] == "upstream=rest"


async def test_a_bidi_stream_on_a_route_with_a_fallback_is_sent_as_it_arrives(gateway, stock):
    client, _ = gateway

    seen_while_open: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'{"note": "first"}\n'
        for _ in range(50):  # the server sees the first message while the body is still open
            if stock.notes:
                break
            await asyncio.sleep(0.01)
        seen_while_open.extend(stock.notes)
        yield b'{"note": "second"}\n'

    answer = await client.post(f"/fallible/{SERVICE}/Talk", content=body())
    assert seen_while_open == ["first"], "the body was held back until it ended"
    assert answer.status_code == 200 and stock.notes == ["first", "second"]
    assert [line for line in answer.text.splitlines() if line][0].startswith('{"note":"FIRST"')


# -- cache -----------------------------------------------------------------------------
async def test_a_grpc_get_binding_is_cached_by_its_arguments_until_its_ttl(gateway, stock):
    client, _ = gateway
    first = await client.get("/cached/v1/items/a")
    again = await client.get("/cached/v1/items/a")
    other = await client.get("/cached/v1/items/b")
    assert again.headers["cache-status"].startswith("Rosetta; hit") and again.content == first.content
    assert other.json()["note"] == "b" and stock.calls["Look"] == 2
    await asyncio.sleep(0.45)
    assert (await client.get("/cached/v1/items/a")).headers["cache-status"] == "Rosetta; fwd=uri-miss; stored"
    assert stock.calls["Look"] == 3


async def test_a_grpc_operation_listed_in_the_cache_is_keyed_by_its_json_body(gateway, stock):
    client, _ = gateway
    first = await client.post(f"/cached/{SERVICE}/Look", json={"note": "n", "seconds": 0})
    same = await client.post(f"/cached/{SERVICE}/Look", json={"seconds": 0, "note": "n"})
    other = await client.post(f"/cached/{SERVICE}/Look", json={"note": "m"})
    assert same.headers["cache-status"].startswith("Rosetta; hit") and same.content == first.content
    assert other.json()["note"] == "m" and stock.calls["Look"] == 2


async def test_a_streamed_grpc_reply_is_never_cached(gateway, stock):
    client, _ = gateway
    for _ in range(2):
        answer = await client.get("/cached/v1/list/s")
        assert answer.status_code == 200 and "stored" not in answer.headers.get("cache-status", "")
    assert stock.calls["List"] == 2


@pytest.mark.parametrize("method", ["Tally", "Talk"])
async def test_a_streamed_request_body_is_never_cached(gateway, stock, method):
    client, _ = gateway
    for _ in range(2):
        answer = await client.post(f"/cached/{SERVICE}/{method}", content=b'{"note": "a"}\n')
        assert answer.status_code == 200 and "cache-status" not in answer.headers
    assert stock.calls[method] == 2


# -- circuit breaker -------------------------------------------------------------------
async def test_grpc_client_codes_never_open_the_breaker_and_server_side_codes_do(gateway, stock):
    client, _ = gateway
    stock.script = ["INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "FAILED_PRECONDITION"]
    for _ in range(5):
        assert (await client.get("/guarded/v1/items/x")).status_code < 500
    stock.script = ["UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL"]
    for _ in range(3):
        assert (await client.get("/guarded/v1/items/x")).status_code >= 500
    refused = await client.get("/guarded/v1/items/x")
    assert refused.json()["title"] == "Upstream circuit open" and stock.calls["Look"] == 8


async def test_soap_client_faults_never_open_the_breaker_and_server_faults_do(gateway, soap):
    client, _ = gateway
    for _ in range(4):
        assert (await client.post("/shapes/Echo", json={"shape": {"id": -1}})).status_code == 422
    for _ in range(3):
        assert (await client.post("/shapes/Echo", json={"shape": {"id": -2}})).status_code == 502
    refused = await client.post("/shapes/Echo", json={"shape": {"id": 1}})
    assert refused.json()["title"] == "Upstream circuit open" and len(soap.seen) == 7


# -- timeouts and bulkhead -------------------------------------------------------------
async def test_attempt_timeout_cuts_a_slow_grpc_call_cancels_it_upstream_and_frees_its_slot(gateway, stock):
    client, _ = gateway
    slow = await client.post(f"/timed/{SERVICE}/Look", json=look("slow", seconds=2))
    assert slow.status_code == 504 and "one try within 0.2 s" in slow.json()["detail"]
    for _ in range(50):
        if stock.cancelled:
            break
        await asyncio.sleep(0.01)
    assert stock.cancelled == 1
    quick = await client.post(f"/timed/{SERVICE}/Look", json=look("quick"))
    assert quick.status_code == 200, "the slot of the cut call was given back"
