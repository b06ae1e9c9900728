"""HTTPS at the front door, client certificates mapped to consumers (mTLS), and TLS toward upstreams."""

import os
import signal
import ssl
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.auth.tls import UpstreamTls
from gateway.auth.upstream import UpstreamAuth, upstream_ssl_context
from gateway.testing import free_port, serve_gateway
from tests.gateway.auth.certs import issue, make_ca
from tests.gateway.auth.helpers import ECHO, FAKE, assert_problem


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca, rogue = make_ca("Rosetta Test CA"), make_ca("Rogue CA")
    files = {"ca": folder / "ca.pem"}
    files["ca"].write_bytes(ca.cert.public_bytes(Encoding.PEM))
    files["server"] = issue(ca, "gateway.test", server=True).write(folder, "server")
    files["acme"] = issue(ca, "client.acme.example", server=False).write(folder, "acme")
    files["stranger"] = issue(ca, "client.stranger.example", server=False).write(folder, "stranger")
    files["rogue"] = issue(rogue, "client.acme.example", server=False).write(folder, "rogue")
    two_cns = ("client.acme.example",)
    files["two-cns"] = issue(ca, "client.stranger.example", server=False, more_cns=two_cns).write(folder, "two-cns")
    return files


def tls_config(pki, client_certificates="optional"):
    cert, key = pki["server"]
    return {
        "server": {
            "tls": {
                "cert_file": str(cert),
                "key_file": str(key),
                "client_ca_file": str(pki["ca"]),
                "client_certificates": client_certificates,
            }
        },
        "upstreams": {"fake": {"type": FAKE}},
        "auth": {
            "mtls": {"subjects": {"client.acme.example": "acme", "client.stranger.example": "stranger"}},
            "consumers": [{"id": "acme", "scopes": ["rx:read"]}],
        },
        "routes": [
            {"prefix": "/open", "upstream": "fake", "auth": "none"},
            {"prefix": "/mtls", "upstream": "fake", "auth": "mtls"},
            {"prefix": "/rx", "upstream": "fake", "auth": "mtls", "scopes": ["rx:read"]},
        ],
    }


def client(url, pki, who=None):
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if who is not None:
        context.load_cert_chain(*pki[who])
    return httpx.AsyncClient(base_url=url, verify=context)


@pytest.fixture(scope="module")
async def https_url(pki):
    async with serve_gateway(tls_config(pki)) as url:
        yield url


async def test_the_gateway_serves_https_with_its_certificate(https_url, pki):
    assert https_url.startswith("https://")
    async with client(https_url, pki) as c:
        response = await c.post("/open/Echo", json={})
    assert response.status_code == 200 and response.json()["consumer"] == "anonymous"


async def test_a_client_certificate_maps_its_subject_to_a_consumer(https_url, pki):
    async with client(https_url, pki, "acme") as c:
        response = await c.post("/rx/Echo", json={})
    assert response.status_code == 200 and response.json()["consumer"] == "acme"


async def test_a_mapped_certificate_without_the_route_scope_is_forbidden(https_url, pki):
    async with client(https_url, pki, "stranger") as c:
        assert (await c.post("/mtls/Echo", json={})).json()["consumer"] == "stranger"
        assert_problem(await c.post("/rx/Echo", json={}), 403, "forbidden")


async def test_a_call_without_a_certificate_is_a_401_on_an_mtls_route(https_url, pki):
    async with client(https_url, pki) as c:
        assert_problem(await c.post("/mtls/Echo", json={}), 401, "unauthorized")


async def test_a_certificate_from_an_untrusted_ca_is_refused_at_the_handshake(https_url, pki):
    with pytest.raises(httpx.TransportError):
        async with client(https_url, pki, "rogue") as c:
            await c.post("/open/Echo", json={})


async def test_a_certificate_with_an_unmapped_subject_is_a_401(pki, tmp_path):
    config = tls_config(pki)
    config["auth"]["mtls"]["subjects"] = {"client.acme.example": "acme"}
    async with serve_gateway(config) as url, client(url, pki, "stranger") as c:
        body = assert_problem(await c.post("/mtls/Echo", json={}), 401, "unauthorized")
    assert body["detail"] == "the client certificate is not mapped to a consumer"


async def test_a_certificate_naming_two_subject_cns_is_a_401_for_either(https_url, pki):
    """Which CN a CA checked before signing is unknowable: a subject naming two is nobody."""
    async with client(https_url, pki, "two-cns") as c:
        body = assert_problem(await c.post("/mtls/Echo", json={}), 401, "unauthorized")
    assert body["detail"] == "the client certificate names more than one subject CN"


async def test_required_client_certificates_refuse_a_client_without_one(pki):
    async with serve_gateway(tls_config(pki, "required")) as url:
        with pytest.raises(httpx.TransportError):
            async with client(url, pki) as c:
                await c.post("/open/Echo", json={})


async def test_an_upstream_tls_context_trusts_a_private_ca_and_presents_a_client_certificate(pki):
    cert, key = pki["acme"]
    context = upstream_ssl_context(UpstreamAuth(tls=UpstreamTls(ca_file=pki["ca"], cert_file=cert, key_file=key)))
    assert context is not None and upstream_ssl_context(UpstreamAuth(bearer="b")) is None
    async with serve_gateway(tls_config(pki, "required")) as url, httpx.AsyncClient(verify=context) as c:
        response = await c.post(f"{url}/rx/Echo", json={})
    assert response.json()["consumer"] == "acme"


def test_rosetta_run_serves_mtls_from_every_worker(pki, tmp_path):
    port = free_port()
    config = tls_config(pki)
    config["server"].update(port=port, workers=2)
    config["upstreams"]["echo"] = {"type": ECHO}
    config["routes"].append({"prefix": "/echo", "upstream": "echo", "auth": "mtls"})
    (tmp_path / "rosetta.yaml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--config", str(tmp_path / "rosetta.yaml")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": os.getcwd()},
        start_new_session=True,
    )
    try:
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        context.load_cert_chain(*pki["acme"])
        answers = _answers_from_both_workers(f"https://127.0.0.1:{port}/echo/x", context)
        assert {a["consumer"] for a in answers} == {"acme"}
        assert len({a["pid"] for a in answers}) == 2
    finally:
        _stop(process)


def _stop(process):
    """SIGTERM, then SIGKILL for the whole process group.

    Sanic's multi-worker server can hang on SIGTERM after TLS connections were
    made while its workers booted (seen with a bare Sanic app too), so the
    group is killed rather than left running.
    """
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _answers_from_both_workers(url, context, timeout=60.0):
    """Answers until two worker processes have replied (each call on a new connection)."""
    deadline, answers = time.monotonic() + timeout, []
    while len({a["pid"] for a in answers}) < 2 and time.monotonic() < deadline:
        try:
            with httpx.Client(verify=context) as c:
                answers.append(c.post(url, json={}).json())
        except httpx.TransportError:
            time.sleep(0.2)
    return answers
