"""Whatever arrives as a bearer token, the verifier answers "invalid" and never crashes."""

import base64
import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.auth.consumers import ConsumerDirectory
from gateway.auth.jwt import InvalidToken, JwtVerifier
from gateway.auth.settings import AuthSettings

SECRET = "fuzz-secret-" + "x" * 32
AUTH = AuthSettings.model_validate(
    {"jwt": {"issuers": [{"issuer": "i", "audience": "a", "secret": SECRET, "algorithms": ["HS256"]}]}}
)
VERIFIER = JwtVerifier(AUTH.jwt, ConsumerDirectory(AUTH))


def segment(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
headers = st.fixed_dictionaries(
    {}, optional={"alg": st.sampled_from(["HS256", "none", "RS256", 7, None]), "kid": json_values, "typ": json_values}
)
payloads = st.fixed_dictionaries(
    {},
    optional={"iss": json_values | st.just("i"), "aud": json_values | st.just("a"), "exp": json_values,
              "nbf": json_values, "iat": json_values, "sub": json_values, "scope": json_values},
)
tokens = st.one_of(
    st.text(max_size=60),
    st.builds(lambda h, p, s: f"{segment(h)}.{segment(p)}.{segment(s)}", headers, payloads, st.binary(max_size=40)),
    st.builds(lambda h, p: f"{segment(h)}.{segment(p)}.", json_values, json_values),
)


@settings(max_examples=300, deadline=None)
@given(tokens)
async def test_any_token_is_either_valid_or_invalid_never_an_error(token):
    with contextlib.suppress(InvalidToken):
        await VERIFIER.verify(token)
