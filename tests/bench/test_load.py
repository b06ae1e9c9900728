"""The benchmark harness's pure parts: wrk output parsing, Lua scripts, payload, registry."""

from __future__ import annotations

import json

from bench.harness import LoadSpec
from bench.load import lua_script, parse_wrk
from bench.payload import PAYLOAD
from bench.scenarios import all_scenarios

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8080/r/items
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.87ms    1.02ms  20.11ms   90.00%
    Req/Sec    12.90k     1.20k   14.00k    80.00%
  Latency Distribution
     50%  750.00us
     75%    3.90ms
     90%    4.50ms
     99%    1.20s
  129000 requests in 10.00s, 140.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  12900.50
Transfer/sec:     14.00MB
"""


def test_wrk_output_gives_throughput_percentiles_and_errors() -> None:
    row = parse_wrk(WRK_OUTPUT)
    assert row.rps == 12900.5
    assert (row.p50_ms, row.p99_ms) == (0.75, 1200.0)
    assert row.errors == 2 + 3 + 4
    assert row.requests == 129000


def test_a_lua_script_carries_method_headers_and_a_body_verbatim() -> None:
    body = b'{"a": "]] ]=] tricky"}'
    script = lua_script(LoadSpec("POST", body, (("Content-Type", "application/json"),)))
    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = [==[{"a": "]] ]=] tricky"}]==]' in script
    assert 'wrk.headers[ [=[Content-Type]=] ] = [=[application/json]=]' in script


def test_the_payload_is_one_kilobyte_of_json() -> None:
    assert len(PAYLOAD) == 1024
    assert json.loads(PAYLOAD)["service"] == "pharmacy"


def test_the_rest_scenario_is_registered_first() -> None:
    scenarios = all_scenarios()
    assert scenarios[0].name == "rest"
    assert len({s.name for s in scenarios}) == len(scenarios)
