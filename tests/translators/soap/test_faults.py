"""SOAP faults → problems: parsing both versions, the status table and its overrides."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.translators.soap.servers import SOAP11, SOAP12, fault
from translators.soap.faults import (
    DEFAULT_FAULT_STATUS,
    FAULT_STATUS,
    fault_error,
    fault_status,
    parse_fault,
)


def parsed(ns: str, side: str, reason: str = "why") -> object:
    root = etree.fromstring(fault(ns, side, reason))
    return parse_fault(root.find(f"{{{ns}}}Body/{{{ns}}}Fault"), "1.1" if ns == SOAP11 else "1.2")


def test_a_soap_1_1_fault_is_read_field_by_field() -> None:
    f = parsed(SOAP11, "Client", "bad input")
    assert (f.version, f.code, f.reason, f.actor) == ("1.1", "Client", "bad input", "urn:rosetta:test:actor")


def test_a_soap_1_2_fault_is_read_with_its_subcodes() -> None:
    f = parsed(SOAP12, "Server")
    assert (f.version, f.code, f.subcodes, f.actor) == ("1.2", "Receiver", ("Limit",), "urn:rosetta:test:actor")


@pytest.mark.parametrize(
    ("code", "status"),
    [("Client", 422), ("Sender", 422), ("Server", 502), ("Receiver", 502), ("VersionMismatch", 502),
     ("MustUnderstand", 502), ("DataEncodingUnknown", 502)],
)
def test_the_default_status_table(code: str, status: int) -> None:
    assert FAULT_STATUS[code] == status


def test_dotted_soap_1_1_codes_fall_back_to_their_class() -> None:
    assert fault_status(_with_code(parsed(SOAP11, "Client"), "Client.Authentication"), {}) == 422


def _with_code(f: object, code: str) -> object:
    from dataclasses import replace

    return replace(f, code=code)  # type: ignore[type-var]


def test_an_override_for_the_exact_code_wins_over_its_class() -> None:
    f = _with_code(parsed(SOAP11, "Client"), "Client.Authentication")
    assert fault_status(f, {"soap:Client.Authentication": 401, "Client": 400}) == 401
    assert fault_status(f, {"Client": 400}) == 400


def test_an_application_fault_code_outside_the_soap_namespace_is_a_502() -> None:
    root = etree.fromstring(
        f'<e:Fault xmlns:e="{SOAP11}" xmlns:app="urn:app"><faultcode>app:Client</faultcode>'
        "<faultstring>x</faultstring></e:Fault>".encode()
    )
    f = parse_fault(root, "1.1")
    assert f.code_ns == "urn:app" and fault_status(f, {}) == DEFAULT_FAULT_STATUS


def test_a_fault_without_a_code_counts_as_a_server_fault() -> None:
    root = etree.fromstring(f'<e:Fault xmlns:e="{SOAP11}"><faultstring>x</faultstring></e:Fault>'.encode())
    assert fault_status(parse_fault(root, "1.1"), {}) == 502


def test_the_problem_carries_the_fault_members_and_an_untyped_detail_as_json() -> None:
    root = etree.fromstring(
        f'<e:Fault xmlns:e="{SOAP11}"><faultcode>e:Client</faultcode><faultstring>no</faultstring>'
        "<detail><Why code=\"7\"><text>because</text></Why></detail></e:Fault>".encode()
    )
    error = fault_error(parse_fault(root, "1.1"), None, {})
    assert error.http_status == 422
    assert error.extra == {
        "faultcode": "Client", "faultstring": "no", "faultactor": None, "soap_version": "1.1",
        "faultdetail": {"Why": {"@code": "7", "text": "because"}},
    }
