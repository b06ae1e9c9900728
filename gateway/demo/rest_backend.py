"""The demo's REST/JSON backend: a tiny pharmacy service.

    GET  /prescriptions            every prescription
    GET  /prescriptions/{rx}       one, or 404
    POST /refill/{rx}              queue a refill: {"pharmacy": "..."} optional
"""

from __future__ import annotations

import itertools

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from gateway.app import RunningServer, start_server

__all__ = ["CURL_LINES", "PORT_ENV", "start"]

PORT_ENV = "ROSETTA_DEMO_REST_PORT"
CURL_LINES = [
    "curl -s {gateway}/v1/rx/prescriptions",
    "curl -s {gateway}/v1/rx/prescriptions/RX-1001",
    "curl -s -X POST {gateway}/v1/refill/RX-1001 -H 'Authorization: Bearer {token}' "
    "-H 'Content-Type: application/json' -d '{{\"pharmacy\": \"Main St\"}}'",
    "curl -s -X POST {gateway}/v1/refill/RX-1001   # expect 401: refills need the demo token",
]

_PRESCRIPTIONS = {
    "RX-1001": {"rx": "RX-1001", "drug": "Amoxicillin 500 mg", "refills_left": 2, "patient": "P-17"},
    "RX-1002": {"rx": "RX-1002", "drug": "Lisinopril 10 mg", "refills_left": 5, "patient": "P-17"},
    "RX-1003": {"rx": "RX-1003", "drug": "Metformin 850 mg", "refills_left": 0, "patient": "P-42"},
}
_names = itertools.count()


def make_app() -> Sanic:
    """The pharmacy Sanic app."""
    app = Sanic(f"demo_pharmacy_{next(_names)}", configure_logging=False)
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    refills = itertools.count(1)

    @app.get("/prescriptions")
    async def all_prescriptions(request: Request) -> HTTPResponse:
        return json({"prescriptions": list(_PRESCRIPTIONS.values())})

    @app.get("/prescriptions/<rx>")
    async def one(request: Request, rx: str) -> HTTPResponse:
        found = _PRESCRIPTIONS.get(rx)
        if found is None:
            return json({"error": f"no prescription {rx}"}, status=404)
        return json(found)

    @app.post("/refill/<rx>")
    async def refill(request: Request, rx: str) -> HTTPResponse:
        found = _PRESCRIPTIONS.get(rx)
        if found is None:
            return json({"error": f"no prescription {rx}"}, status=404)
        if found["refills_left"] == 0:
            return json({"error": f"{rx} has no refills left"}, status=409)
        pharmacy = (request.json or {}).get("pharmacy", "any") if request.body else "any"
        return json({"rx": rx, "status": "queued", "refill_id": next(refills), "pharmacy": pharmacy}, status=201)

    return app


async def start(host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the pharmacy in this event loop; ``.port`` tells where."""
    return await start_server(make_app(), host, port)
