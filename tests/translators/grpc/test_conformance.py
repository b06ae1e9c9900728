"""GrpcTranslator passes the conformance kit every translator passes."""

from __future__ import annotations

import pytest

from gateway.testing import TranslatorConformance, make_call
from tests.translators.grpc.conftest import op


class TestGrpcConformance(TranslatorConformance):
    @pytest.fixture
    async def translator(self, make_translator):
        return await make_translator()

    @pytest.fixture
    def sample_call(self, translator):
        return make_call(op(translator, "Echo"), body=b'{"name": "conformance"}')


class TestGrpcStreamingConformance(TranslatorConformance):
    @pytest.fixture
    async def translator(self, make_translator):
        return await make_translator()

    @pytest.fixture
    def sample_call(self, translator):
        return make_call(op(translator, "Count"), body=b'{"n": 3}')
