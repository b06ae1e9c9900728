"""The demo's gRPC backend: a bookshelf (``protos/demo/bookshelf.proto``) on grpc.aio.

``GetBook`` is unary with an HTTP rule; ``CreateBook`` maps a body field;
``ListBooks`` streams one book at a time. Errors carry ``google.rpc`` details:
an unknown book is ``NOT_FOUND`` with ``ErrorInfo`` and ``ResourceInfo``, a
book without title or author ``INVALID_ARGUMENT`` with ``BadRequest`` field
violations. The server also offers reflection and ``grpc.health.v1``::

    backend = await start("127.0.0.1", 0)
    print(backend.port)
    await backend.stop()
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from translators.grpc.descriptors import ServiceSet, compile_protos, load_services

__all__ = ["CURL_LINES", "PORT_ENV", "PROTO", "SERVICE", "DemoBackend", "start"]

PORT_ENV = "ROSETTA_DEMO_GRPC_PORT"
PROTO = Path(__file__).resolve().parents[2] / "protos" / "demo" / "bookshelf.proto"
SERVICE = "rosetta.demo.v1.Bookshelf"
CURL_LINES = [
    "curl -s {gateway}/v1/bookshelf/v1/shelves/1/books/1",
    "curl -s -X POST {gateway}/v1/bookshelf/v1/shelves/1/books -H 'Content-Type: application/json' -d '{{\"title\": \"Dune\", \"author\": \"Frank Herbert\", \"year\": 1965, \"genre\": \"FICTION\"}}'",
    "curl -sN '{gateway}/v1/bookshelf/v1/shelves/1/books?delayMs=300'   # NDJSON, one book at a time",
    "curl -sN {gateway}/v1/bookshelf/v1/shelves/2/books -H 'Accept: text/event-stream'",
    "curl -s -X POST {gateway}/v1/bookshelf/rosetta.demo.v1.Bookshelf/GetBook -H 'Content-Type: application/json' -d '{{\"shelf\": 2, \"book\": 1}}'",
    "curl -s {gateway}/v1/bookshelf/v1/shelves/1/books/99   # expect 404 with gRPC error details",
]

_BOOKS: dict[int, list[dict[str, Any]]] = {
    1: [
        {"title": "The Left Hand of Darkness", "author": "Ursula K. Le Guin", "year": 1969, "genre": 1, "tags": ["classic"]},
        {"title": "A Brief History of Time", "author": "Stephen Hawking", "year": 1988, "genre": 2},
        {"title": "The Guns of August", "author": "Barbara W. Tuchman", "year": 1962, "genre": 3, "tags": ["war", "1914"]},
    ],
    2: [
        {"title": "The Double Helix", "author": "James D. Watson", "year": 1968, "genre": 2},
        {"title": "Invisible Cities", "author": "Italo Calvino", "year": 1972, "genre": 1},
    ],
}
_ADDED_SECONDS = 1_700_000_000


def _services() -> ServiceSet:
    return load_services(compile_protos([PROTO]))


def _status(code: grpc.StatusCode, message: str, *details: Any) -> bytes:
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)
        packed.append(item)
    return status_pb2.Status(code=code.value[0], message=message, details=packed).SerializeToString()


class _Shelf:
    """The books, and the three methods serving them."""

    def __init__(self, services: ServiceSet) -> None:
        self.book_class = services.method(f"{SERVICE}/GetBook").output
        self.books = {
            (shelf, i): self._book(shelf, i, data)
            for shelf, items in _BOOKS.items()
            for i, data in enumerate(items, start=1)
        }
        self.next_id = itertools.count(100)

    def _book(self, shelf: int, number: int, data: dict[str, Any]) -> Any:
        book = self.book_class(name=f"shelves/{shelf}/books/{number}", id=number, **data)
        book.added.seconds = _ADDED_SECONDS
        return book

    async def get_book(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        book = self.books.get((request.shelf, request.book))
        if book is None:
            name = f"shelves/{request.shelf}/books/{request.book}"
            info = error_details_pb2.ErrorInfo(reason="BOOK_NOT_FOUND", domain="bookshelf.rosetta.demo", metadata={"shelf": str(request.shelf)})
            resource = error_details_pb2.ResourceInfo(resource_type="rosetta.demo.v1.Book", resource_name=name, description="no such book")
            await _abort(context, grpc.StatusCode.NOT_FOUND, f"no book {name}", info, resource)
        return book

    async def create_book(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        missing = [field for field in ("title", "author") if not getattr(request.book, field)]
        if missing:
            violations = [error_details_pb2.BadRequest.FieldViolation(field=f"book.{f}", description="required") for f in missing]
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "the book is incomplete", error_details_pb2.BadRequest(field_violations=violations))
        number = next(self.next_id)
        book = self.book_class()
        book.CopyFrom(request.book)
        book.name, book.id = f"shelves/{request.shelf}/books/{number}", number
        book.added.seconds = int(time.time())
        self.books[(request.shelf, number)] = book
        return book

    async def list_books(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        for (shelf, _), book in sorted(self.books.items(), key=lambda item: item[0]):
            if shelf == request.shelf and request.genre in (0, book.genre):
                if request.delay_ms:
                    await asyncio.sleep(min(request.delay_ms, 5000) / 1000)
                yield book


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str, *details: Any) -> None:
    trailers = (("grpc-status-details-bin", _status(code, message, *details)),)
    await context.abort(code, message, trailing_metadata=trailers)


@dataclass
class DemoBackend:
    """A running bookshelf server."""

    server: grpc.aio.Server
    port: int

    async def stop(self) -> None:
        await self.server.stop(grace=1)


async def start(host: str = "127.0.0.1", port: int = 0) -> DemoBackend:
    """Serve the bookshelf on ``host:port`` (0: a free port) in this event loop."""
    services = _services()
    shelf = _Shelf(services)

    def io(method: str) -> dict[str, Any]:
        info = services.method(f"{SERVICE}/{method}")
        return {"request_deserializer": info.input.FromString, "response_serializer": info.output.SerializeToString}

    handlers = {
        "GetBook": grpc.unary_unary_rpc_method_handler(shelf.get_book, **io("GetBook")),
        "CreateBook": grpc.unary_unary_rpc_method_handler(shelf.create_book, **io("CreateBook")),
        "ListBooks": grpc.unary_stream_rpc_method_handler(shelf.list_books, **io("ListBooks")),
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([SERVICE, "grpc.health.v1.Health", reflection.SERVICE_NAME], server, pool=services.pool)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return DemoBackend(server, bound)
