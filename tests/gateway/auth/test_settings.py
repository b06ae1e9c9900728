"""The ``auth:`` config: the documented shape loads, and every unsafe or inconsistent setting is refused by path."""

import textwrap

import pytest

from gateway.auth.apikeys import digest
from gateway.config import ConfigError, build_config, load_config
from tests.gateway.auth.helpers import FAKE

SECRET = "s" * 32


def auth_config(auth, routes=None):
    return {
        "upstreams": {"fake": {"type": FAKE}},
        "auth": auth,
        "routes": routes or [{"prefix": "/f", "upstream": "fake"}],
    }


def issuer(**fields):
    base = {"issuer": "https://idp.example", "audience": "rosetta", "jwks_url": "http://127.0.0.1:9/jwks.json", "algorithms": ["RS256"]}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def errors_of(raw, tmp_path):
    with pytest.raises(ConfigError) as raised:
        build_config(raw, tmp_path)
    return raised.value.errors


def test_the_documented_shape_loads(tmp_path):
    path = tmp_path / "rosetta.yaml"
    path.write_text(textwrap.dedent(f"""
        upstreams:
          pharmacy: {{type: "{FAKE}"}}
        auth:
          jwt:
            issuers:
              - issuer: "https://idp.example"
                audience: rosetta
                jwks_url: "http://127.0.0.1:9999/.well-known/jwks.json"
                algorithms: [RS256]
                leeway: 30
            consumer_claim: sub
            scopes_claim: scope
          api_keys:
            header: X-API-Key
            keys:
              - {{consumer: acme, sha256: "{digest('k')}", scopes: ["rx:read"]}}
        routes:
          - {{prefix: /v1/rx, upstream: pharmacy, auth: [jwt, api_key], scopes: ["rx:read"]}}
    """))
    config = load_config(path)
    assert config.auth.methods() == {"jwt", "api_key"}
    assert config.auth.jwt.issuers[0].leeway == 30
    assert config.routes[0].auth == ("jwt", "api_key")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused_at_load(tmp_path, alg):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(algorithms=["RS256", alg])]}}), tmp_path)
    assert errors == ["auth.jwt.issuers[0]: algorithms: 'none' is never accepted (unsigned tokens)"]


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_an_hmac_algorithm_for_a_public_key_is_refused_at_load(tmp_path, alg):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(algorithms=["RS256", alg])]}}), tmp_path)
    assert "HMAC algorithm; it needs 'secret', never a public key" in errors[0]


def test_an_asymmetric_algorithm_for_a_secret_is_refused_at_load(tmp_path):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(jwks_url=None, secret=SECRET)]}}), tmp_path)
    assert "RS256 needs a public key" in errors[0]


def test_an_unknown_algorithm_is_refused_at_load(tmp_path):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(algorithms=["RS257"])]}}), tmp_path)
    assert "unknown algorithm 'RS257'" in errors[0]


def test_an_empty_audience_list_is_refused(tmp_path):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(audience=[])]}}), tmp_path)
    assert errors == ["auth.jwt.issuers[0].audience: name at least one audience"]


def test_an_empty_algorithm_list_is_refused(tmp_path):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(algorithms=[])]}}), tmp_path)
    assert errors[0].startswith("auth.jwt.issuers[0].algorithms:")


@pytest.mark.parametrize(
    "fields",
    [{"jwks_url": None}, {"secret": SECRET, "algorithms": ["HS256"]}],
    ids=["no-key-source", "two-key-sources"],
)
def test_an_issuer_needs_exactly_one_key_source(tmp_path, fields):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(**fields)]}}), tmp_path)
    assert "exactly one of 'jwks_url', 'public_key_file' or 'secret'" in errors[0]


def test_a_short_hmac_secret_is_refused(tmp_path):
    raw = auth_config({"jwt": {"issuers": [issuer(jwks_url=None, secret="short", algorithms=["HS256"])]}})
    assert "at least 32 bytes" in errors_of(raw, tmp_path)[0]


def test_a_jwks_url_must_be_http(tmp_path):
    raw = auth_config({"jwt": {"issuers": [issuer(jwks_url="file:///etc/passwd")]}})
    assert errors_of(raw, tmp_path) == ["auth.jwt.issuers[0].jwks_url: must be an http:// or https:// URL"]


def test_a_missing_public_key_file_is_named(tmp_path):
    raw = auth_config({"jwt": {"issuers": [issuer(jwks_url=None, public_key_file="keys/none.pem")]}})
    errors = errors_of(raw, tmp_path)
    assert errors[0].startswith("auth.jwt.issuers[0].public_key_file:") and "none.pem" in errors[0]


def test_an_issuer_listed_twice_is_refused(tmp_path):
    errors = errors_of(auth_config({"jwt": {"issuers": [issuer(), issuer()]}}), tmp_path)
    assert "listed twice" in errors[0]


def test_the_hmac_secret_comes_from_the_environment_and_never_shows(tmp_path):
    path = tmp_path / "rosetta.yaml"
    path.write_text(
        f'upstreams: {{f: {{type: "{FAKE}"}}}}\n'
        "auth: {jwt: {issuers: [{issuer: i, audience: a, secret: '${JWT_SECRET}', algorithms: [HS256]}]}}\n"
    )
    config = load_config(path, env={"JWT_SECRET": SECRET})
    assert config.auth.jwt.issuers[0].secret.get_secret_value() == SECRET
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())


@pytest.mark.parametrize("sha", ["abc", "z" * 64, digest("k") + "0"])
def test_an_api_key_digest_must_be_64_hex_digits(tmp_path, sha):
    errors = errors_of(auth_config({"api_keys": {"keys": [{"consumer": "c", "sha256": sha}]}}), tmp_path)
    assert errors[0].startswith("auth.api_keys.keys[0].sha256:")


def test_a_digest_is_stored_in_lower_case(tmp_path):
    config = build_config(auth_config({"api_keys": {"keys": [{"consumer": "c", "sha256": digest("k").upper()}]}}), tmp_path)
    assert config.auth.api_keys.keys[0].sha256 == digest("k")


def test_the_same_key_for_two_consumers_is_refused(tmp_path):
    raw = auth_config(
        {
            "api_keys": {"keys": [{"consumer": "a", "sha256": digest("k")}]},
            "consumers": [{"id": "b", "api_keys": [digest("k")]}],
        }
    )
    assert "listed twice" in errors_of(raw, tmp_path)[0]
    assert digest("k") not in errors_of(raw, tmp_path)[0], "the whole digest is not repeated"


def test_a_consumer_defined_twice_is_refused(tmp_path):
    raw = auth_config({"consumers": [{"id": "a"}, {"id": "a"}]})
    assert "consumer 'a' is defined twice" in errors_of(raw, tmp_path)[0]


def test_consumers_come_from_a_file_too(tmp_path):
    (tmp_path / "consumers.yaml").write_text("- {id: acme, rate_limit: 10/minute, scopes: [rx:read]}\n- {id: beta}\n")
    config = build_config(auth_config({"consumers": [{"id": "own"}], "consumers_file": "consumers.yaml"}), tmp_path)
    assert [c.id for c in config.auth.all_consumers()] == ["own", "acme", "beta"]
    assert config.auth.all_consumers()[1].consumer_settings() == {"rate_limit": "10/minute"}


def test_a_bad_consumers_file_is_named_with_the_entry_at_fault(tmp_path):
    (tmp_path / "consumers.yaml").write_text("- {id: acme}\n- {id: beta, colour: blue}\n")
    errors = errors_of(auth_config({"consumers_file": "consumers.yaml"}), tmp_path)
    assert "consumers.yaml" in errors[0] and "[1].colour" in errors[0]


def test_a_consumers_file_that_is_not_yaml_is_named(tmp_path):
    (tmp_path / "consumers.yaml").write_text("- {id: [\n")
    errors = errors_of(auth_config({"consumers_file": "consumers.yaml"}), tmp_path)
    assert errors[0].startswith("auth: consumers_file") and "cannot read" in errors[0]


def test_consumer_settings_hold_plan_rate_limit_quota_and_extras(tmp_path):
    raw = auth_config(
        {"consumers": [{"id": "a", "rate_limit": "10/minute", "quota": "1000/day", "settings": {"team": "rx"}}]}
    )
    consumer = build_config(raw, tmp_path).auth.consumers[0]
    assert consumer.consumer_settings() == {"team": "rx", "rate_limit": "10/minute", "quota": "1000/day"}


def test_an_unknown_auth_key_is_refused(tmp_path):
    errors = errors_of(auth_config({"jwtt": {}}), tmp_path)
    assert errors[0].startswith("auth.jwtt: unknown key")


def test_mtls_needs_at_least_one_subject(tmp_path):
    assert errors_of(auth_config({"mtls": {"subjects": {}}}), tmp_path)[0].startswith("auth.mtls.subjects:")


def test_no_method_is_configured_by_default(tmp_path):
    assert build_config(auth_config({}), tmp_path).auth.methods() == frozenset()


@pytest.mark.parametrize(("alg", "needed"), [("HS384", 48), ("HS512", 64)])
def test_an_hmac_secret_shorter_than_its_algorithms_hash_is_refused(tmp_path, alg, needed):
    """RFC 7518 §3.2: the key is at least as long as the hash output, per algorithm."""
    raw = auth_config({"jwt": {"issuers": [issuer(jwks_url=None, secret="s" * (needed - 1), algorithms=["HS256", alg])]}})
    assert f"{alg} needs a secret of at least {needed} bytes" in errors_of(raw, tmp_path)[0]
    build_config(auth_config({"jwt": {"issuers": [issuer(jwks_url=None, secret="s" * needed, algorithms=[alg])]}}), tmp_path)


def test_a_consumers_file_is_read_as_strictly_as_the_config(tmp_path):
    """A repeated key would silently keep the last value; an alias bomb would take all memory."""
    (tmp_path / "consumers.yaml").write_text("- id: acme\n  plan: gold\n  plan: free\n")
    errors = errors_of(auth_config({"consumers_file": "consumers.yaml"}), tmp_path)
    assert "[0].plan: given twice (lines 2 and 3)" in errors[0]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (tmp_path / "consumers.yaml").write_text(bomb)
    errors = errors_of(auth_config({"consumers_file": "consumers.yaml"}), tmp_path)
    assert "more than 1000000 values" in errors[0]
