"""The one boundary: every foreign exception a SOAP call can raise has its row in ERROR_TABLE."""

from __future__ import annotations

import inspect

import pytest
from lxml import etree

from gateway.errors import BadGateway, GatewayError, GatewayTimeout, ServiceUnavailable
from translators._http import errors as http_errors
from translators.soap.transport import ERROR_TABLE, MAPPED, to_gateway_error


def _client_errors() -> list[type[BaseException]]:
    return [cls for _, cls in inspect.getmembers(http_errors, inspect.isclass) if issubclass(cls, http_errors.HttpError)]


@pytest.mark.parametrize("cls", _client_errors(), ids=lambda c: c.__name__)
def test_every_http_client_error_is_in_the_table(cls: type[BaseException]) -> None:
    assert issubclass(cls, MAPPED)
    assert isinstance(to_gateway_error(cls("boom"), "calc"), GatewayError)


@pytest.mark.parametrize(
    ("exc", "expected", "status"),
    [
        (http_errors.ConnectError("refused"), ServiceUnavailable, 503),
        (http_errors.ConnectTimeout("slow"), ServiceUnavailable, 503),
        (http_errors.PoolTimeout("busy"), ServiceUnavailable, 503),
        (http_errors.ReadTimeout("slow"), GatewayTimeout, 504),
        (TimeoutError(), GatewayTimeout, 504),
        (http_errors.ResponseTooLarge("big"), BadGateway, 502),
        (http_errors.RemoteProtocolError("junk"), BadGateway, 502),
        (http_errors.HttpError("other"), BadGateway, 502),
    ],
)
def test_each_row_maps_to_its_gateway_error(exc: BaseException, expected: type[GatewayError], status: int) -> None:
    error = to_gateway_error(exc, "calc")
    assert type(error) is expected and error.http_status == status
    assert "'calc'" in error.detail


def test_malformed_xml_is_a_bad_gateway_naming_the_cause() -> None:
    with pytest.raises(etree.XMLSyntaxError) as caught:
        etree.fromstring(b"<a><b></a>")
    error = to_gateway_error(caught.value, "calc")
    assert isinstance(error, BadGateway) and "malformed XML" in error.detail


def test_every_row_is_reachable_not_shadowed_by_an_earlier_one() -> None:
    for index, (cls, _, _) in enumerate(ERROR_TABLE):
        assert not any(issubclass(cls, earlier) for earlier, _, _ in ERROR_TABLE[:index]), cls


def test_an_exception_outside_the_table_is_not_silently_mapped() -> None:
    with pytest.raises(TypeError):
        to_gateway_error(KeyError("x"), "calc")
