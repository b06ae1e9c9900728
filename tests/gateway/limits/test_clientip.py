"""The client IP: the peer, unless a trusted proxy forwarded the call."""

from ipaddress import ip_network

from gateway.limits.clientip import bucket, client_ip, forwarded_for

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


def test_without_trusted_proxies_the_peer_is_the_client_whatever_headers_say():
    assert client_ip("203.0.113.9", [("X-Forwarded-For", "1.2.3.4")], ()) == "203.0.113.9"


def test_an_untrusted_peer_cannot_set_its_address_by_header():
    assert client_ip("203.0.113.9", [("X-Forwarded-For", "1.2.3.4")], PROXIES) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client_in_x_forwarded_for():
    assert client_ip("10.0.0.5", [("X-Forwarded-For", "203.0.113.9")], PROXIES) == "203.0.113.9"


def test_addresses_the_caller_wrote_left_of_the_proxy_hop_are_ignored():
    headers = [("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.0.0.7")]
    assert client_ip("10.0.0.5", headers, PROXIES) == "203.0.113.9"


def test_repeated_x_forwarded_for_headers_are_one_list():
    headers = [("X-Forwarded-For", "6.6.6.6"), ("x-forwarded-for", "203.0.113.9")]
    assert client_ip("10.0.0.5", headers, PROXIES) == "203.0.113.9"


def test_a_forwarded_header_the_proxies_do_not_write_is_the_callers_and_ignored():
    """Behind a proxy that sets X-Forwarded-For, a caller's own Forwarded must not pick its bucket."""
    headers = [("Forwarded", "for=9.9.9.9"), ("X-Forwarded-For", "203.0.113.9")]
    assert client_ip("10.0.0.5", headers, PROXIES) == "203.0.113.9"
    assert client_ip("10.0.0.5", [("Forwarded", "for=9.9.9.9")], PROXIES) == "10.0.0.5"


def test_proxies_writing_forwarded_are_read_there_alone():
    headers = [
        ("X-Forwarded-For", "198.51.100.1"),
        ("Forwarded", 'for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"'),
    ]
    assert client_ip("::1", headers, PROXIES, "forwarded") == "2001:db8:cafe::17"
    assert client_ip("::1", [("X-Forwarded-For", "198.51.100.1")], PROXIES, "forwarded") == "::1"


def test_forwarded_for_strips_quotes_ports_and_brackets():
    headers = [("Forwarded", 'For="192.0.2.43:47011", for=unknown')]
    assert forwarded_for(headers, "forwarded") == ["192.0.2.43", "unknown"]


def test_when_every_hop_is_a_trusted_proxy_the_leftmost_is_the_client():
    assert client_ip("10.0.0.5", [("X-Forwarded-For", "10.1.1.1, 10.2.2.2")], PROXIES) == "10.1.1.1"


def test_a_trusted_proxy_without_forwarding_headers_is_itself_the_client():
    assert client_ip("10.0.0.5", [], PROXIES) == "10.0.0.5"


def test_a_proxy_seen_as_an_ipv4_mapped_ipv6_peer_is_the_trusted_ipv4_proxy():
    # A gateway listening on "::" sees IPv4 peers as ::ffff:a.b.c.d.
    assert client_ip("::ffff:10.0.0.5", [("X-Forwarded-For", "203.0.113.9")], PROXIES) == "203.0.113.9"
    hops = [("X-Forwarded-For", "203.0.113.9, ::ffff:10.0.0.7")]
    assert client_ip("10.0.0.5", hops, PROXIES) == "203.0.113.9"


def test_an_ipv4_client_is_counted_alike_whether_seen_plain_or_ipv4_mapped():
    assert bucket("::ffff:203.0.113.9", 64) == bucket("203.0.113.9", 64) == "203.0.113.9"


def test_an_ipv6_client_is_counted_by_its_network_not_each_address_in_it():
    assert bucket("2001:db8:1:2::1", 64) == bucket("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", 64) == "2001:db8:1:2::/64"
    assert bucket("2001:db8:1:3::1", 64) != bucket("2001:db8:1:2::1", 64)
    assert bucket("2001:db8::1", 128) != bucket("2001:db8::2", 128)


def test_a_client_that_is_no_address_is_counted_by_what_the_proxy_wrote():
    assert bucket("_hidden", 64) == "_hidden" and bucket("unknown", 64) == "unknown"


def test_only_the_hops_up_to_the_first_untrusted_one_are_looked_at():
    """A caller's own long list on the left costs nothing: it is never read."""
    caller_written = ", ".join(f"198.51.100.{i % 250}" for i in range(600))
    for name in ("X-Forwarded-For", "Forwarded"):
        value = caller_written if name == "X-Forwarded-For" else caller_written.replace("198", "for=198")
        proxy_hop = "203.0.113.9, 10.0.0.7" if name == "X-Forwarded-For" else "for=203.0.113.9, for=10.0.0.7"
        known: dict[str, bool] = {}
        headers = [(name, value), (name, proxy_hop)]
        assert client_ip("10.0.0.5", headers, PROXIES, name.lower(), known) == "203.0.113.9"
        assert known == {"10.0.0.5": True, "10.0.0.7": True, "203.0.113.9": False}


def test_remembered_trust_answers_as_a_fresh_look_would_and_stays_bounded():
    known: dict[str, bool] = {}
    for i in range(5_000):
        client = f"203.0.{i // 250}.{i % 250}"
        assert client_ip("10.0.0.5", [("X-Forwarded-For", client)], PROXIES, known=known) == client
    assert len(known) == 4096
    assert client_ip("10.0.0.5", [("X-Forwarded-For", "10.1.1.1, 203.0.0.1")], PROXIES, known=known) == "203.0.0.1"
