"""The rest translator passes the conformance kit every translator runs."""

import pytest

from gateway.demo import rest_backend
from gateway.testing import TranslatorConformance, context, make_call
from translators.rest import RestSettings, RestTranslator


@pytest.fixture(scope="module")
async def pharmacy():
    backend = await rest_backend.start()
    yield f"http://127.0.0.1:{backend.port}"
    await backend.stop()


class TestRestConformance(TranslatorConformance):
    @pytest.fixture
    async def translator(self, pharmacy):
        translator = RestTranslator("pharmacy", RestSettings(type="rest", url=pharmacy), context("pharmacy"))
        await translator.start()
        yield translator
        await translator.close()

    @pytest.fixture
    def sample_call(self, translator):
        return make_call(translator.operations()[0], method="GET", path="/prescriptions")


class TestFakeConformance(TranslatorConformance):
    """The kit's own fake passes it too, so the kit itself is exercised."""

    @pytest.fixture
    async def translator(self):
        from gateway.testing import FakeSettings, FakeTranslator

        translator = FakeTranslator("fake", FakeSettings(), context("fake"))
        await translator.start()
        yield translator
        await translator.close()

    @pytest.fixture
    def sample_call(self, translator):
        return make_call(translator.operations()[0], body=b'{"a": 1}')
