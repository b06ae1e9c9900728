"""A translator that streams its reply without reading the request body, for front-door tests.

``POST /stream`` and ``GET /listing`` answer two NDJSON lines; ``POST /broken`` sends
one, then fails, so the front door must cut the connection. ``GET /sized`` answers a
HEAD as a REST backend does: no body, and the length its GET would have. Neither reads the caller's body: a gRPC
server may end a bidi stream, or fail, before the caller has finished sending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from gateway.plugin import Call, Operation, Reply, Translator

__all__ = ["StreamTranslator"]


class StreamTranslator(Translator):
    """Streams ``{"n": 1}`` and ``{"n": 2}``; ``Broken`` fails after the first line."""

    type_name = "stream"

    def operations(self) -> Sequence[Operation]:
        return [Operation(name="Stream", method="POST", path="/stream"),
                Operation(name="Listing", method="GET", path="/listing", idempotent=True),
                Operation(name="Broken", method="POST", path="/broken"),
                Operation(name="Sized", method="GET", path="/sized", idempotent=True)]

    async def handle(self, call: Call) -> Reply:
        if call.operation.name == "Sized":
            body = b"x" * 1234
            if call.method == "HEAD":
                return Reply(body=b"", headers=[("Content-Length", str(len(body)))], content_type="text/plain")
            return Reply(body=body, content_type="text/plain")
        return Reply(stream=_lines(broken=call.operation.name == "Broken"), content_type="application/x-ndjson")


async def _lines(*, broken: bool) -> AsyncIterator[bytes]:
    yield b'{"n": 1}\n'
    if broken:
        raise RuntimeError("the upstream stream broke off")
    yield b'{"n": 2}\n'
