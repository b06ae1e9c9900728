"""Loading WSDLs: once, offline, in a worker thread, with errors naming the file and cause."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tests.translators.soap.conftest import WSDL, MakeTranslator
from translators.soap.loader import (
    SOAP_ENCODING_XSD,
    OfflineLoader,
    WsdlLoadError,
    load_document_sync,
)


def test_the_soap_encoding_schema_is_served_from_rosettas_own_copy() -> None:
    loader = OfflineLoader()
    content = loader.load("http://schemas.xmlsoap.org/soap/encoding/")
    assert content == SOAP_ENCODING_XSD.read_bytes()
    assert b'targetNamespace="http://schemas.xmlsoap.org/soap/encoding/"' in content


def test_an_rpc_encoded_wsdl_that_imports_the_encoding_schema_loads_offline() -> None:
    loaded = load_document_sync(str(WSDL / "test" / "words_encoded.wsdl"))
    assert "Words" in loaded.document.services
    assert "http://schemas.xmlsoap.org/soap/encoding/" in loaded.sources


def test_any_other_remote_import_is_refused(tmp_path: Path) -> None:
    wsdl = tmp_path / "remote.wsdl"
    wsdl.write_text(
        (WSDL / "test" / "words_encoded.wsdl").read_text().replace(
            'schemaLocation="http://schemas.xmlsoap.org/soap/encoding/"',
            'schemaLocation="http://127.0.0.1:9/types.xsd"',
        )
    )
    with pytest.raises(WsdlLoadError) as caught:
        load_document_sync(str(wsdl))
    assert str(wsdl) in str(caught.value)
    assert "refusing to fetch http://127.0.0.1:9/types.xsd" in str(caught.value)


def test_a_wsdl_that_does_not_parse_names_the_file_and_the_cause(tmp_path: Path) -> None:
    wsdl = tmp_path / "broken.wsdl"
    wsdl.write_text('<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"><wsdl:types>')
    with pytest.raises(WsdlLoadError) as caught:
        load_document_sync(str(wsdl))
    assert str(wsdl) in str(caught.value)
    assert "Invalid XML" in str(caught.value) or "Premature end" in str(caught.value)


def test_a_wsdl_with_a_dtd_is_refused(tmp_path: Path) -> None:
    wsdl = tmp_path / "dtd.wsdl"
    wsdl.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
    with pytest.raises(WsdlLoadError) as caught:
        load_document_sync(str(wsdl))
    assert str(wsdl) in str(caught.value)


def test_a_relative_import_resolves_against_the_local_file() -> None:
    loaded = load_document_sync(str(WSDL / "test" / "imports" / "main.wsdl"))
    port = next(iter(next(iter(loaded.document.services.values())).ports.values()))
    assert "Lookup" in port.binding._operations


async def test_start_up_parses_in_a_worker_thread(make_translator: MakeTranslator) -> None:
    seen: list[str] = []
    original = OfflineLoader.load

    def spy(self: OfflineLoader, url: str) -> bytes:
        seen.append(threading.current_thread().name)
        return original(self, url)

    OfflineLoader.load = spy  # type: ignore[method-assign]
    try:
        await make_translator(wsdl=str(WSDL / "drug_catalog.wsdl"))
    finally:
        OfflineLoader.load = original  # type: ignore[method-assign]
    assert seen and all(name != threading.main_thread().name for name in seen)


async def test_the_loop_keeps_serving_while_a_wsdl_loads(make_translator: MakeTranslator) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        for _ in range(3):
            await make_translator(wsdl=str(WSDL / "test" / "shapes.wsdl"))
    finally:
        task.cancel()
    assert ticks > 3


async def test_start_up_fails_with_the_file_named_when_the_wsdl_is_broken(
    make_translator: MakeTranslator, tmp_path: Path
) -> None:
    wsdl = tmp_path / "bad.wsdl"
    wsdl.write_text("this is not xml")
    with pytest.raises(WsdlLoadError) as caught:
        await make_translator(wsdl=str(wsdl))
    assert f"cannot load WSDL {wsdl}" in str(caught.value)


async def test_start_up_fails_when_the_named_port_does_not_exist(make_translator: MakeTranslator) -> None:
    with pytest.raises(WsdlLoadError) as caught:
        await make_translator(wsdl=str(WSDL / "test" / "shapes.wsdl"), port="NoSuchPort")
    assert "available: Shapes/ShapesSoap12, Shapes/ShapesSoap" in str(caught.value)
