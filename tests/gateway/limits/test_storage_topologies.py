"""Sentinel and Cluster storages against real redis-server processes in those modes."""

import asyncio
import socket
import subprocess
import time
import uuid

import pytest

from gateway.limits.storage import open_storage
from gateway.limits.window import Rule
from gateway.testing import free_port
from tests.redis_proc import RedisProcess

MINUTE = Rule("route-60s", amount=20, window=60)


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def sentinel(redis_server, tmp_path):
    """A master and one sentinel watching it as 'rx-master'."""
    master = RedisProcess.start(redis_server.binary)
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\nsentinel monitor rx-master 127.0.0.1 {master.port} 1\n")
    process = subprocess.Popen([redis_server.binary, str(conf), "--sentinel"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watcher = RedisProcess(redis_server.binary, port, process)
    watcher.wait_ready()
    wait_for(lambda: str(master.port).encode() in watcher.command("SENTINEL", "get-master-addr-by-name", "rx-master"))
    yield f"redis+sentinel://127.0.0.1:{port}/rx-master/0"
    watcher.stop()
    master.stop()


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


@pytest.fixture
def cluster(redis_server, tmp_path):
    """A one-node Redis Cluster owning every slot."""
    port = cluster_port()
    process = subprocess.Popen(
        [redis_server.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--cluster-enabled", "yes", "--cluster-config-file", str(tmp_path / "nodes.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )
    node = RedisProcess(redis_server.binary, port, process)
    node.wait_ready()
    node.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    wait_for(lambda: b"cluster_state:ok" in node.command("CLUSTER", "INFO"))
    yield f"redis+cluster://127.0.0.1:{port}"
    node.stop()


async def exactly_twenty(uri):
    store = open_storage(uri, timeout=1.0)
    await store.start()
    try:
        key = "{test}:" + uuid.uuid4().hex
        results = await asyncio.gather(*(store.hit([key, key + ":b"], [MINUTE, MINUTE], 1) for _ in range(60)))
        return sum(admitted for admitted, _ in results)
    finally:
        await store.close()


async def test_a_sentinel_storage_decides_on_the_master_it_names(sentinel):
    assert await exactly_twenty(sentinel) == 20


async def test_a_cluster_storage_keeps_a_decision_in_one_slot(cluster):
    assert await exactly_twenty(cluster) == 20
