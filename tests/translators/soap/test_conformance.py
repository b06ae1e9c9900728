"""The SOAP translator passes the conformance kit every translator passes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from gateway.plugin import Call
from gateway.testing import TranslatorConformance, context, make_call
from tests.translators.soap.conftest import ROOT, WSDL, settings
from tests.translators.soap.servers import Scripted
from translators.soap import SoapTranslator


class TestSoapConformance(TranslatorConformance):
    @pytest_asyncio.fixture
    async def translator(self, scripted: Scripted) -> AsyncIterator[SoapTranslator]:
        s = settings(wsdl=str(WSDL / "test" / "shapes.wsdl"), address=f"{scripted.url}/shapes")
        translator = SoapTranslator("shapes", s, context("shapes", ROOT))
        await translator.start()
        yield translator
        await translator.close()

    @pytest.fixture
    def sample_call(self, translator: SoapTranslator) -> Call:
        return make_call(translator.operation("Pick"), body=b'{"byId": 7}')
