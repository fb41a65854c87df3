"""The outbound address policy: the classifier, the allow-list, and the connect-time check.

No test here sends a packet anywhere but loopback: addresses that are not loopback are
judged by the policy alone (a literal is never resolved, a refused one never connected).
"""

from __future__ import annotations

import ipaddress

import pytest

from config.settings import load_settings
from sync import address_policy as ap
from sync.address_policy import STRICT, AddressPolicy, OutboundRefused, is_public, parse_ip
from sync.client import CalendarClient
from sync.errors import UNREACHABLE, AddressRefused, CalDAVError
from tests.helpers import LOOPBACK
from tests.sync.recording import RecordingServer, http_response

LOOPBACK_SPELLINGS = {
    "127.0.0.1": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0X7F000001": "127.0.0.1",
    "2130706433": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "127.1": "127.0.0.1",
    "127.0.1": "127.0.0.1",
    "0x7f.1": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "127.000.000.001": "127.0.0.1",
    "[::1]": "::1",
    "::1": "::1",
    "[::ffff:127.0.0.1]": "::ffff:127.0.0.1",
    "[::ffff:7f00:1]": "::ffff:127.0.0.1",
    "0": "0.0.0.0",
}

REFUSED = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT 100.64/10
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",  # site-local (deprecated)
    "ff02::1",
    "::ffff:8.8.8.8",  # IPv4-mapped: always refused
    "::ffff:10.0.0.1",
    "::7f00:1",  # IPv4-compatible (deprecated)
    "2002:7f00:1::1",  # 6to4 embedding 127.0.0.1
    "2002:a00:1::1",  # 6to4 embedding 10.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 embedding 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::a00:1",  # NAT64 embedding 10.0.0.1
    "64:ff9b::7f00:1",
    "2001:db8::1",  # documentation
]

PUBLIC = ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2002:808:808::1"]


@pytest.mark.parametrize(("spelling", "address"), sorted(LOOPBACK_SPELLINGS.items()))
def test_odd_spellings_read_as_the_c_resolver_reads_them(spelling: str, address: str) -> None:
    ip = parse_ip(spelling)
    assert ip == ipaddress.ip_address(address)
    assert not is_public(ip)


@pytest.mark.parametrize("spelling", sorted(LOOPBACK_SPELLINGS))
async def test_odd_spellings_are_refused(spelling: str) -> None:
    with pytest.raises(OutboundRefused):
        await STRICT.check_host(spelling, 80)


@pytest.mark.parametrize("address", REFUSED)
async def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(OutboundRefused):
        await STRICT.check_host(address, 443)


@pytest.mark.parametrize("address", PUBLIC)
async def test_public_unicast_passes(address: str) -> None:
    # a literal is judged, not resolved and not connected to
    assert is_public(ipaddress.ip_address(address))
    assert await STRICT.check_host(address, 443) == [ipaddress.ip_address(address)]


def test_names_and_garbage_are_not_addresses() -> None:
    for text in ["localhost", "example.com", "8.8.8.8 x", "1.2.3.4.5", "0x", "deadbeef", ""]:
        assert parse_ip(text) is None, text


async def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    with pytest.raises(OutboundRefused) as refused:
        await STRICT.check_host("localhost", 80)
    assert "127.0.0.1" in refused.value.reason or "::1" in refused.value.reason


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(OutboundRefused, match="does not resolve"):
        await STRICT.check_host("no-such-host.invalid", 80)


async def test_allow_list_names_addresses_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = AddressPolicy.parse(["127.0.0.1", "dav.corp.test", "10.0.0.0/8", "[fd00::]/8"])
    assert await policy.check_host("127.0.0.1", 80) == [ipaddress.ip_address("127.0.0.1")]
    assert await policy.check_host("0x7f000001", 80)  # same address, odd spelling
    assert await policy.check_host("10.1.2.3", 80)
    assert await policy.check_host("fd00::5", 80)
    with pytest.raises(OutboundRefused):
        await policy.check_host("127.0.0.2", 80)
    with pytest.raises(OutboundRefused):
        await policy.check_host("192.168.0.1", 80)

    async def fake_resolve(host: str, port: int) -> list[ap.IPAddress]:
        return [ipaddress.ip_address("192.168.7.7")]

    monkeypatch.setattr(ap, "resolve", fake_resolve)
    assert await policy.check_host("DAV.corp.test.", 80)  # a listed name: any address
    with pytest.raises(OutboundRefused):
        await policy.check_host("other.corp.test", 80)


async def test_only_permitted_addresses_of_a_name_are_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def mixed(host: str, port: int) -> list[ap.IPAddress]:
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("93.184.216.34")]

    monkeypatch.setattr(ap, "resolve", mixed)
    assert await STRICT.check_host("mixed.test", 80) == [ipaddress.ip_address("93.184.216.34")]


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "300.1.2.3/8", "bad host", "http://x/"])
def test_malformed_allow_list_entries_fail_loudly(entry: str) -> None:
    with pytest.raises(ValueError):
        AddressPolicy.parse([entry])


def test_allowed_hosts_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALDAV_ALLOWED_HOSTS", " 127.0.0.1, localhost ,10.0.0.0/8,")
    monkeypatch.delenv("CALDAV_PASSWORD_ENV_PREFIX", raising=False)
    settings = load_settings()
    assert settings.caldav_allowed_hosts == ("127.0.0.1", "localhost", "10.0.0.0/8")
    assert settings.caldav_password_env_prefix == "CALDAV_PASSWORD_"
    policy = ap.from_settings(settings)
    assert policy.hosts == {"localhost"} and len(policy.networks) == 2
    monkeypatch.delenv("CALDAV_ALLOWED_HOSTS")
    assert ap.from_settings(load_settings()) == STRICT


# -- the check at connect time -----------------------------------------------------------


async def test_connect_time_check_defeats_dns_rebinding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The name passes while it resolves to a public address, then rebinds to loopback."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[ap.IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address(next(answers))]

    monkeypatch.setattr(ap, "resolve", rebinding)
    async with RecordingServer() as target:
        host = f"rebind.test:{target.port}"
        assert await STRICT.check_host("rebind.test", target.port)  # "at creation": public
        async with CalendarClient(f"http://{host}/cal/", "u", "p", timeout=2) as client:
            with pytest.raises(AddressRefused) as refused:
                await client.get("a.ics")
            report = await client.test_connection()
        assert str(refused.value).startswith(f"GET: {UNREACHABLE}")
        assert not report.ok and report.reason == UNREACHABLE
    assert calls == ["rebind.test"] * 3  # resolved again for every connection
    assert target.connections == 0


async def test_connection_goes_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transport connects to the address the policy resolved, not to a second lookup."""
    calls: list[str] = []

    async def to_loopback(host: str, port: int) -> list[ap.IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(ap, "resolve", to_loopback)
    policy = AddressPolicy.parse(["calendar.invalid"])  # a name no real resolver knows
    async with RecordingServer(
        answer=http_response("200 OK", b"BEGIN:VCALENDAR", {"ETag": '"e1"'})
    ) as target:
        url = f"http://calendar.invalid:{target.port}/cal/"
        async with CalendarClient(url, "u", "p", timeout=2, policy=policy) as client:
            body, etag = await client.get("a.ics")
    assert (body, etag) == (b"BEGIN:VCALENDAR", '"e1"')
    assert calls == ["calendar.invalid"]
    assert b"Host: calendar.invalid:" in target.received  # the URL's host, the checked IP


async def test_redirect_to_loopback_is_not_followed() -> None:
    async with RecordingServer() as inner:
        moved = http_response("302 Found", headers={"Location": f"{inner.url}secret/"})
        async with RecordingServer(answer=moved) as outer:
            async with CalendarClient(outer.url, "u", "p", timeout=2, policy=LOOPBACK) as client:
                report = await client.test_connection()
                with pytest.raises(CalDAVError) as caught:
                    await client.get("a.ics")
                with pytest.raises(CalDAVError):
                    await client.discover()
            assert outer.connections == 3
    assert not report.ok and report.status == 302
    assert caught.value.status == 302
    assert inner.connections == 0


async def test_proxies_from_the_environment_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    async with RecordingServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        async with CalendarClient("http://10.0.0.1/cal/", "u", "p", timeout=2) as client:
            with pytest.raises(AddressRefused):
                await client.get("a.ics")
    assert proxy.connections == 0
