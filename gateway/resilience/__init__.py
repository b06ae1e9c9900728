"""Resilience of upstream calls: timeouts, bulkheads, retries, circuit breakers,
fallbacks and a response cache.

=====================  ===============================================
module                 concern
=====================  ===============================================
``settings``           config models (per upstream, per route)
``layer``              :class:`~gateway.resilience.layer.Resilience`,
                       the step the pipeline calls
``guard``              one upstream: breaker → bulkhead → try → retry
``breaker``            circuit breaker state machine (no I/O)
``bulkhead``           concurrency cap with a bounded wait
``retry``              which failures are retried, backoff with jitter
``fallback``           the route or upstream that takes over
``cache``              response cache (``memory://``, ``redis://``)
=====================  ===============================================

This package imports nothing on its own: :mod:`gateway.plugin` needs its
``settings`` module while the translator interface itself is being defined.
"""
