"""The ``soap`` translator: any WSDL becomes a typed JSON API.

At start-up the WSDL is parsed once, offline, in a worker thread (zeep is the
WSDL/XSD engine); each operation of the chosen port is compiled into Rosetta's
XSD model. A call then takes one pass each way, with no zeep machinery on the
hot path: JSON → checked XML envelope → pooled HTTP POST → safe XML parse →
typed JSON. See docs/soap.md for the JSON shape and the fault mapping::

    upstreams:
      calc: {type: soap, wsdl: wsdl/calculator.wsdl, address: "http://127.0.0.1:9102/soap"}
    routes:
      - {prefix: /v1/calc, upstream: calc, auth: none}   # POST /v1/calc/Add {"intA": 1, "intB": 2}
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from zeep.client import AsyncClient
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from gateway.auth.upstream import upstream_ssl_context, with_upstream_auth
from gateway.errors import GatewayError, ServiceUnavailable, UnknownOperation
from gateway.plugin import (
    Call,
    CorpusReport,
    Operation,
    Reply,
    Translator,
    TranslatorContext,
    UpstreamSettings,
)
from translators.soap.binding import OperationModel, PortChoice, choose_port, describe_port
from translators.soap.envelope import build_request, read_response
from translators.soap.loader import LoadedWsdl, WsdlLoadError, load_document_sync
from translators.soap.schema import request_schema, response_schema, signature
from translators.soap.settings import SoapSettings
from translators.soap.transport import MAPPED, SoapTransport, to_gateway_error
from translators.soap.wsse import security_header

__all__ = ["SoapTranslator"]

# Headers Rosetta sets itself (or that frame the body): never copied from the caller.
_NEVER_FORWARDED = frozenset(
    {"authorization", "content-type", "content-length", "transfer-encoding", "host", "soapaction",
     "connection", "keep-alive", "te", "trailer", "upgrade", "expect"}
)
_CONTENT_TYPE = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}


class SoapTranslator(Translator):
    """Serves ``POST {prefix}/{Operation}`` for every operation of one SOAP port."""

    type_name = "soap"
    settings_model = SoapSettings
    settings: SoapSettings

    @classmethod
    def check_corpus(cls, folder: Path) -> CorpusReport:
        """Every ``*.wsdl`` under ``folder``, loaded offline with its operations' signatures."""
        from translators.soap import corpus

        report = corpus.check_corpus(folder)
        return CorpusReport(report.loaded, report.failed, report.operations, tuple(report.lines))

    def __init__(self, name: str, settings: UpstreamSettings, context: TranslatorContext) -> None:
        super().__init__(name, settings, context)
        self._models: dict[str, OperationModel] = {}
        self._operations: list[Operation] = []
        self._transport: SoapTransport | None = None
        self._loaded: LoadedWsdl | None = None
        self._port: PortChoice | None = None
        self._headers: list[etree._Element] = []
        self._fixed: list[tuple[str, str]] = []
        self._forwarded: frozenset[str] = frozenset()

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> None:
        """Load the WSDL and compile its operations in a worker thread; open the pool."""
        s = self.settings
        await asyncio.to_thread(self._prepare)
        assert self._port is not None
        address = s.address or self._port.address
        if not address or not address.startswith(("http://", "https://")):
            raise WsdlLoadError(f"{s.wsdl}: the port has no http(s) soap:address; set 'address'")
        self._address = address
        self._headers = [etree.fromstring(xml.encode()) for xml in s.soap_headers]
        self._fixed = self._fixed_headers()
        self._forwarded = frozenset(h.lower() for h in s.forward_headers) - _NEVER_FORWARDED
        self._transport = SoapTransport(
            address, s.pool, s.max_response_bytes, ssl=upstream_ssl_context(s.auth)
        )

    def _prepare(self) -> None:
        """Everything CPU-bound at start-up: parse, choose the port, compile models and schemas."""
        s = self.settings
        self._loaded = load_document_sync(s.wsdl, strict=s.strict, allow_remote=s.allow_remote_wsdl)
        try:
            self._port = choose_port(self._loaded.document, s.service, s.port)
        except ValueError as exc:
            raise WsdlLoadError(f"{s.wsdl}: {exc}") from None
        self._models = describe_port(self._port, self._loaded.notes)
        self._operations = [self._describe(m) for m in self._models.values()]

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.aclose()

    async def ready(self) -> bool:
        return self._transport is not None

    def operations(self) -> Sequence[Operation]:
        return self._operations

    def operation(self, ref: str) -> Operation:
        for op in self._operations:
            if op.name == ref:
                return op
        known = ", ".join(self._models) or "none"
        raise UnknownOperation(f"upstream '{self.name}' has no SOAP operation '{ref}' (known: {known})")

    def _describe(self, model: OperationModel) -> Operation:
        return Operation(
            name=model.name,
            method="POST",
            path=f"/{model.name}",
            request_schema=request_schema(model.request),
            response_schema=response_schema(model.response, self.settings.decimal_as),
            summary=model.documentation,
            extra={
                "style": model.style,
                "soap_version": model.version,
                "signature": f"{model.name}({signature(model.request)}) -> ({signature(model.response)})",
            },
        )

    # -- one call ---------------------------------------------------------------
    async def handle(self, call: Call) -> Reply:
        model = self._models.get(call.operation.name)
        if model is None:
            raise UnknownOperation(f"upstream '{self.name}' has no SOAP operation '{call.operation.name}'")
        if self._transport is None:
            raise ServiceUnavailable(f"upstream '{self.name}' is not started")
        arguments = await call.arguments()
        lenient = (*call.query, *call.path_params) if call.query or call.path_params else ()
        envelope = build_request(model, arguments, self._header_blocks(model), lenient)
        try:
            # The pool bounds the exchange (its coarse deadlines), by the call's own deadline.
            raw = await self._transport.post(envelope, self._http_headers(call, model), self._timeout(call))
            result = read_response(model, raw, self.settings.fault_status, self.settings.decimal_as)
        except GatewayError:
            raise
        except MAPPED as exc:
            raise to_gateway_error(exc, self.name) from None
        return Reply(json=result)

    def _timeout(self, call: Call) -> float:
        if call.deadline is None:
            return self.settings.timeout
        return max(0.0, call.deadline - asyncio.get_running_loop().time())

    def _header_blocks(self, model: OperationModel) -> list[etree._Element]:
        wsse = self.settings.wsse
        if wsse is None:
            return self._headers
        block = security_header(wsse, model.envelope_ns, datetime.now(UTC), os.urandom(16))
        return [block, *self._headers]

    def _http_headers(self, call: Call, model: OperationModel) -> list[tuple[str, str]]:
        content_type = _CONTENT_TYPE[model.version]
        headers = [(self.context.request_id_header, call.request_id)]
        if model.version == "1.1":
            headers.append(("SOAPAction", f'"{model.action or ""}"'))
        elif model.action:
            content_type += f'; action="{model.action}"'
        headers.append(("Content-Type", content_type))
        caller_auth = call.header("authorization") if self.settings.forward_auth else None
        if caller_auth:
            headers.append(("Authorization", caller_auth))
        headers += [(k, v) for k, v in call.headers if k.lower() in self._forwarded]
        headers += self._fixed
        return with_upstream_auth(headers, self.settings.auth, call.consumer)

    def _fixed_headers(self) -> list[tuple[str, str]]:
        """Headers every call carries: HTTP Basic credentials and the configured extras."""
        s, fixed = self.settings, []
        if s.basic_auth is not None:
            token = f"{s.basic_auth.username}:{s.basic_auth.password.get_secret_value()}"
            fixed.append(("Authorization", "Basic " + base64.b64encode(token.encode()).decode()))
        return fixed + list(s.http_headers.items())

    # -- zeep on the same pool ----------------------------------------------------
    def zeep_client(self) -> Any:
        """A zeep ``AsyncClient`` for this upstream's WSDL whose HTTP goes through the shared pool.

        For plug-ins that want zeep's object API; Rosetta's own calls do not use it.
        """
        if self._loaded is None or self._transport is None or self._port is None:
            raise RuntimeError("start() the translator first")
        transport = AsyncTransport(client=self._transport.httpx_client(), wsdl_client=_NoLoad())
        client = AsyncClient(self._loaded.document, transport=transport)
        # AsyncClient.create_service gives a blocking proxy (zeep 4.3): build the async one.
        return AsyncServiceProxy(client, self._port.binding, address=self._address)


class _NoLoad:
    """zeep's WSDL client slot: the WSDL is already loaded, nothing may be fetched."""

    headers: dict[str, str] = {}

    def get(self, url: str) -> Any:
        raise WsdlLoadError(f"refusing to fetch {url}: the WSDL is loaded once at start-up")
