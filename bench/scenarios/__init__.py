"""The scenario registry: each module here registers one or more scenarios.

A scenario is a function taking the :class:`bench.harness.Harness`; it starts
what it needs, measures, and prints its own ratio lines::

    from bench.scenarios import scenario

    @scenario("soap", "SOAP call through Rosetta against a direct SOAP call", order=20)
    def soap(h: Harness) -> None: ...

``python bench/run.py --only soap,rest`` runs a selection; ``--list`` lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.harness import Harness

__all__ = ["Scenario", "all_scenarios", "scenario"]

ScenarioFunc = Callable[["Harness"], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    run: ScenarioFunc
    order: int = 100


_REGISTRY: dict[str, Scenario] = {}


def scenario(name: str, summary: str, *, order: int = 100) -> Callable[[ScenarioFunc], ScenarioFunc]:
    """Register the decorated function as scenario ``name`` (lower ``order`` runs first)."""

    def register(func: ScenarioFunc) -> ScenarioFunc:
        if name in _REGISTRY:
            raise ValueError(f"benchmark scenario {name!r} is registered twice")
        _REGISTRY[name] = Scenario(name, summary, func, order)
        return func

    return register


def all_scenarios() -> list[Scenario]:
    """Every scenario of every module in this package, in run order."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))
