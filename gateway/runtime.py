"""Everything built from one config: translators, route table, auth gate, limiter.

A :class:`Runtime` is built whole and swapped whole: requests read
``app.ctx.runtime`` once, so a reload never shows a half-built table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.auth import AuthGate
from gateway.config import Config, RouteConfig
from gateway.errors import GatewayError
from gateway.limits import Limiter
from gateway.observability.logging import redact
from gateway.plugin import Operation, Translator, TranslatorContext, load_translator_class
from gateway.resilience.layer import Resilience
from gateway.routing import Endpoint, RouteTable, TemplateError, endpoints_for_route

__all__ = ["Runtime", "StartupError", "build_runtime"]


class StartupError(Exception):
    """The runtime could not be built; ``errors`` lists ``path: message`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Runtime:
    """The served state of one config."""

    config: Config
    translators: Mapping[str, Translator]
    routes: RouteTable
    auth: AuthGate
    limiter: Limiter
    resilience: Resilience

    async def close(self) -> None:
        """Close every translator, the auth gate and the limiter."""
        await asyncio.gather(
            *(t.close() for t in self.translators.values()),
            self.auth.close(),
            self.limiter.close(),
            self.resilience.close(),
            return_exceptions=True,
        )


async def build_runtime(config: Config) -> Runtime:
    """Start every translator and build the route table; raise :class:`StartupError`."""
    translators = _make_translators(config)
    await _start_all(translators)
    try:
        routes = RouteTable.build(_endpoints(config, translators))
        auth, limiter = AuthGate.for_config(config), Limiter(config.limits)
        await auth.start()
        await limiter.start()
    except BaseException:
        await asyncio.gather(*(t.close() for t in translators.values()), return_exceptions=True)
        raise
    return Runtime(config, translators, routes, auth, limiter, Resilience(config, translators, routes))


def _make_translators(config: Config) -> dict[str, Translator]:
    """Each upstream's translator; :class:`StartupError` naming each one whose constructor fails."""
    built = {}
    errors: list[str] = []
    for name, settings in config.upstreams.items():
        cls = load_translator_class(settings.type)
        context = TranslatorContext(
            upstream=name,
            config_dir=config.base_dir,
            max_body_bytes=config.server.max_body_bytes,
            request_id_header=config.server.request_id_header,
        )
        try:
            built[name] = cls(name, settings, context)
        except Exception as exc:  # noqa: BLE001 - a plug-in's own failure, reported as a config error
            errors.append(f"upstreams.{name}: translator '{settings.type}' failed to start: "
                          f"{type(exc).__name__}: {_reason(exc)}")
    if errors:
        raise StartupError(errors)
    return built


async def _start_all(translators: Mapping[str, Translator]) -> None:
    names = list(translators)
    results = await asyncio.gather(
        *(translators[n].start() for n in names), return_exceptions=True
    )
    errors = [
        f"upstreams.{name}: {_reason(result)}"
        for name, result in zip(names, results, strict=True)
        if isinstance(result, BaseException)
    ]
    if errors:
        await asyncio.gather(*(t.close() for t in translators.values()), return_exceptions=True)
        raise StartupError(errors)


def _reason(exc: BaseException) -> str:
    """Why ``exc`` stopped start-up, with credentials a message may quote (a URL's) hidden."""
    text = exc.detail if isinstance(exc, GatewayError) else str(exc)
    return redact(text) or type(exc).__name__


def _endpoints(config: Config, translators: Mapping[str, Translator]) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    errors: list[str] = []
    for index, route in enumerate(config.routes):
        translator = translators[route.upstream]
        try:
            translator.prepare_route(route.options)
            named = _named_operation(route, translator)
            ops = translator.operations() if route.prefix is not None else []
            endpoints += endpoints_for_route(index, route, ops, named)
        except (GatewayError, TemplateError, ValueError) as exc:
            errors.append(f"routes[{index}]: {_reason(exc)}")
    if errors:
        raise StartupError(errors)
    return endpoints


def _named_operation(route: RouteConfig, translator: Translator) -> Operation | None:
    if route.path is None:
        return None
    return translator.operation(route.operation or route.path)
