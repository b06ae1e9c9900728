"""Loading route policies at start-up: import, build with options, check the interface."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.auth.policies import Policy
from gateway.auth.settings import PolicySettings

if TYPE_CHECKING:
    from gateway.config import RouteConfig

__all__ = ["LoadedPolicy", "PolicyLoadError", "load_route_policies"]


class PolicyLoadError(Exception):
    """Some policies cannot be loaded; ``errors`` lists ``path: message`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A built policy and the name it was listed by (for logs)."""

    name: str
    policy: Policy


def load_route_policies(
    routes: Sequence[RouteConfig], named: Mapping[str, PolicySettings]
) -> list[tuple[LoadedPolicy, ...]]:
    """The policies of each route, in route order; every named policy is built too.

    Each distinct name or path is built once and shared by the routes listing it.
    """
    built: dict[str, LoadedPolicy] = {}
    errors: list[str] = []
    for name, spec in named.items():
        _build(name, spec.use, spec.options, built, errors, f"auth.policies.{name}")
    per_route = []
    for i, route in enumerate(routes):
        for j, ref in enumerate(route.policies):
            if ref not in built:
                path = ref if ":" in ref else ""
                _build(ref, path, {}, built, errors, f"routes[{i}].policies[{j}]")
        per_route.append(tuple(built[ref] for ref in route.policies if ref in built))
    if errors:
        raise PolicyLoadError(errors)
    return per_route


def _build(
    ref: str, path: str, options: Mapping[str, Any], built: dict[str, LoadedPolicy], errors: list[str], where: str
) -> None:
    try:
        built[ref] = LoadedPolicy(ref, _instance(path, options, ref))
    except ValueError as exc:
        errors.append(f"{where}: {exc}")


def _instance(path: str, options: Mapping[str, Any], ref: str) -> Policy:
    if not path:
        raise ValueError(f"no policy named {ref!r} under auth.policies, and not an import path 'pkg.mod:Class'")
    cls = _import(path)
    try:
        policy = cls(**options)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"policy '{path}' refused its options: {exc}") from None
    if not inspect.iscoroutinefunction(getattr(policy, "check", None)):
        raise ValueError(f"'{path}' is not a policy: it needs 'async def check(self, request, consumer)'")
    return policy  # type: ignore[no-any-return]


def _import(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # user code: any failure to import is reported by name
        raise ValueError(f"cannot import '{module_name}' for policy '{path}': {exc}") from None
    cls = getattr(module, attr, None)
    if not isinstance(cls, type):
        raise ValueError(f"'{module_name}' has no class '{attr}' (policy '{path}')")
    return cls
