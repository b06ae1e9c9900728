"""Fixtures the auth tests share."""

import pytest

from tests.gateway.auth.idp import LocalIdP


@pytest.fixture(scope="module")
def idp():
    """A real local identity provider (JWKS over HTTP) for one test module."""
    server = LocalIdP().start()
    yield server
    server.stop()
