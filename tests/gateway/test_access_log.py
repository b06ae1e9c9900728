"""The access log: exactly one JSON line per request, with the request id and no query string."""

import io
import os

import httpx
import orjson

from gateway.observability.logging import ACCESS_LOG
from gateway.observability.output import drain
from gateway.testing import serve_gateway

CONFIG = {
    "upstreams": {"f": {"type": "gateway.testing:FakeTranslator"}},
    "routes": [{"prefix": "/f", "upstream": "f", "auth": "none"}],
}


async def test_each_request_writes_one_access_line_without_its_query_string():
    stream, previous = io.StringIO(), ACCESS_LOG.stream
    try:
        async with serve_gateway(CONFIG) as url, httpx.AsyncClient(base_url=url) as client:
            ACCESS_LOG.stream = stream  # after start-up, which points the log at stderr
            ok = await client.post("/f/Echo?api_key=hunter2", json={})
            missing = await client.get("/nowhere")
        ACCESS_LOG.flush()
    finally:
        ACCESS_LOG.stream = previous
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["status"] for line in lines] == [200, 404]
    assert lines[0]["request_id"] == ok.headers["x-request-id"]
    assert lines[1]["request_id"] == missing.headers["x-request-id"]
    assert lines[0]["path"] == "/f/Echo" and "hunter2" not in stream.getvalue()
    assert lines[0]["upstream"] == "f" and lines[0]["ms"] >= 0


async def test_paths_with_quotes_line_breaks_and_bad_utf8_stay_one_json_line_each():
    stream, previous = io.StringIO(), ACCESS_LOG.stream
    paths = ["/f/a%22b", "/f/a%0Ab%0D", "/f/%FF%FE", "/f/%ED%B3%BF", "/f/a\\b"]
    try:
        async with serve_gateway(CONFIG) as url, httpx.AsyncClient(base_url=url) as client:
            ACCESS_LOG.stream = stream
            statuses = [(await client.get(path)).status_code for path in paths]
        ACCESS_LOG.flush()
    finally:
        ACCESS_LOG.stream = previous
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["status"] for line in lines] == statuses
    assert all(line["path"].startswith("/f/") for line in lines)


async def test_access_lines_sent_to_a_pipe_arrive_every_one_and_in_order():
    read_end, write_end = os.pipe()
    previous = ACCESS_LOG.stream
    try:
        with open(write_end, "w") as pipe:
            async with serve_gateway(CONFIG) as url, httpx.AsyncClient(base_url=url) as client:
                ACCESS_LOG.stream = pipe  # a real file descriptor, written through its log output
                ids = [(await client.post("/f/Echo", json={"n": n})).headers["x-request-id"] for n in range(200)]
            ACCESS_LOG.flush()
            assert drain(5.0)
            ACCESS_LOG.stream = previous
        data = os.read(read_end, 1 << 20)  # 200 lines, well within the pipe's 64 KiB
    finally:
        ACCESS_LOG.stream = previous
        os.close(read_end)
    assert [orjson.loads(line)["request_id"] for line in data.splitlines()] == ids
