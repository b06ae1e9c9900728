"""Unary calls made on grpc.aio's Cython call, without its Python wrapper.

grpc.aio's ``UnaryUnaryMultiCallable`` wraps every call in a Python
``UnaryUnaryCall``: a ``Metadata`` object, done-callbacks, a finalizer,
registration with the channel, and a Task that runs the Cython call
(``cygrpc._AioCall.unary_unary``). :class:`DirectUnary` keeps the Task and
drops the rest, and keeps what the wrapper gives Rosetta: the deadline, the
call cancelled when the request's task is, grpc.aio's own ``AioRpcError`` for
any status but OK, the response metadata, and the calls still in flight
cancelled when the channel closes.

The Task matters. Started in the next loop iteration, the calls of all the
requests read in one iteration reach grpc's transport together and their
frames go out in fewer writes; awaiting the Cython call in the request's own
task starts each call between two requests' parsing and costs the gateway
more CPU, not less. Measured in paired rounds (``python
bench/grpc_direct_ab.py``: two gateways on one backend, alternating): 10 to
17 µs less CPU per unary call than through the wrapper, of about 260.

These are grpc.aio internals. :meth:`DirectUnary.of` builds one only when
every part it uses is there, and a call that finds them changed switches the
method to grpc.aio's public path for good (:attr:`DirectUnary.fallback`)::

    direct = DirectUnary.of(multicallable)      # None: use the multicallable
    finished = await direct(request, 5.0, (("x-request-id", "…"),))
    if finished is None:                        # direct.fallback is now set
        ...
    reply, metadata = parse(finished.raw), finished.metadata()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import grpc

log = logging.getLogger("rosetta")

__all__ = ["DirectUnary", "Finished"]

_CALL_PARTS = ("unary_unary", "is_ok", "is_locally_cancelled", "cancel", "done", "_initial_metadata", "_status")
_MULTICALLABLE_PARTS = ("_channel", "_method", "_registered_call_handle", "_request_serializer", "_interceptors")
_CANCELLED = "Locally cancelled by application!"  # grpc.aio's words for a call it cancels

try:  # grpc.aio internals; without them every method takes the public path
    from grpc._cython import cygrpc
    from grpc.aio._call import _create_rpc_error

    _AVAILABLE = all(hasattr(cygrpc._AioCall, n) for n in _CALL_PARTS) and hasattr(cygrpc, "build_census_context")
except ImportError:  # pragma: no cover - depends on the installed grpcio
    _AVAILABLE = False


class Finished:
    """A call that ended OK: the reply's bytes (``None``: the server sent none), and its metadata."""

    __slots__ = ("_call", "raw")

    def __init__(self, call: Any, raw: bytes | None) -> None:
        self._call, self.raw = call, raw

    def metadata(self) -> list[tuple[str, str | bytes]]:
        """Initial metadata, then trailing metadata, as the server sent them."""
        return [*(self._call._initial_metadata or ()), *(self._call._status.trailing_metadata() or ())]


class DirectUnary:
    """One unary method of a channel, called without grpc.aio's per-call wrapper."""

    __slots__ = ("_calls", "_channel", "_handle", "_method", "_serialize", "fallback")

    def __init__(self, multicallable: Any) -> None:
        self._channel = multicallable._channel  # cygrpc.AioChannel
        self._method: bytes = multicallable._method
        self._handle: int = multicallable._registered_call_handle
        self._serialize = multicallable._request_serializer
        self._calls: set[Any] = set()
        #: Set once grpc's internals refused a call; the caller then uses its multicallable.
        self.fallback = False

    @classmethod
    def of(cls, multicallable: Any) -> DirectUnary | None:
        """A direct caller for ``multicallable``; ``None`` with interceptors or another grpc."""
        if not _AVAILABLE or not all(hasattr(multicallable, name) for name in _MULTICALLABLE_PARTS):
            return None
        if multicallable._interceptors or multicallable._request_serializer is None:
            return None
        return cls(multicallable)

    async def __call__(
        self, request: Any, timeout: float, metadata: Sequence[tuple[str, str | bytes]]
    ) -> Finished | None:
        """The finished call; ``None`` when grpc's internals refused it (:attr:`fallback` is then
        set); grpc.aio's ``AioRpcError`` for any status but OK."""
        payload = self._serialize(request)
        try:
            call = self._channel.call(self._method, time.time() + timeout, None, None, self._handle)
            run = call.unary_unary(payload, tuple(metadata), cygrpc.build_census_context())
        except (TypeError, AttributeError) as exc:
            self.fallback = True
            log.warning("gRPC calls take grpc.aio's public path from now on (%s: %s)", type(exc).__name__, exc)
            return None
        self._calls.add(call)
        try:
            raw = await asyncio.get_running_loop().create_task(run)
        finally:
            self._calls.discard(call)
            if not call.done():  # the request's task was cancelled (deadline, caller gone)
                call.cancel(_CANCELLED)
        if call.is_ok():
            return Finished(call, raw)
        if call.is_locally_cancelled():  # cancel_all(): the channel is closing
            raise grpc.FutureCancelledError()
        raise _create_rpc_error(call._initial_metadata, call._status)

    def cancel_all(self) -> None:
        """Cancel the calls still waiting (before the channel closes, as grpc.aio's close does)."""
        for call in list(self._calls):
            if not call.done():
                call.cancel(_CANCELLED)
