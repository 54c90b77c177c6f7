"""SSRF by address: a host the administrator named (the source, a data host) whose DNS
answers an address inside our own network. The host check of fetch.py passes it (the
name is allowed); the connection's address check (opendata_harvest.addresses) must refuse
it before a byte is sent, so the inside service's answer is never read or published."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from opendata.db import Database
from opendata.settings import Settings

from opendata_harvest import service, sources
from opendata_harvest.addresses import PRIVATE_HOSTS_ENV, PROXY_ENV, AddressRefused, checked_addresses, is_public
from opendata_harvest.fetch import new_client
from opendata_harvest.models import ensure_tables
from harvest_support import FixtureServer, RecordedCkan


def _resolver(answers: dict[str, list[str]]) -> Any:
    """getaddrinfo as a DNS we control would answer (the attacker's, for these names)."""
    def resolve(host: str, port: int, type: int = 0) -> list[tuple[Any, ...]]:  # noqa: A002
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]
    return resolve


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.9", False), ("192.168.1.1", False),
    ("169.254.169.254", False),  # a cloud's metadata service
    ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fc00::1", False),
    ("fe80::1%eth0", False), ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False),
    ("8.8.8.8", True), ("2001:4860:4860::8888", True),
])
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_a_name_with_any_inside_address_is_refused() -> None:
    resolve = _resolver({"mixed.example": ["8.8.8.8", "10.0.0.5"], "open.example": ["8.8.8.8"],
                         "intranet.gov.example": ["10.20.30.40"]})
    with pytest.raises(AddressRefused, match="10.0.0.5"):
        checked_addresses("mixed.example", 443, resolve=resolve)
    assert checked_addresses("open.example", 443, resolve=resolve) == ["8.8.8.8"]
    assert checked_addresses("10.20.30.40", 80, resolve=resolve) == ["10.20.30.40"]  # a literal: as named
    assert checked_addresses("intranet.gov.example", 80, {"intranet.gov.example"}, resolve) == ["10.20.30.40"]
    with pytest.raises(AddressRefused):
        checked_addresses("intranet.gov.example", 80, {"intranet.gov.example:8080"}, resolve)  # another port


def _add(local_db: Database, name: str, url: str, **options: Any) -> None:
    ensure_tables(local_db.engine)
    with local_db.transaction() as session:
        sources.add_source(session, name, "ckan", url, domain="economy", **options)


def test_a_source_whose_name_resolves_inside_is_refused_until_vouched_for(
        local_db: Database, local_settings: Settings, ckan_server: RecordedCkan,
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = ckan_server.url.rsplit(":", 1)[1]
    monkeypatch.delenv(PRIVATE_HOSTS_ENV, raising=False)
    _add(local_db, "inside", f"http://localhost:{port}")
    run = service.run_source(local_db, local_settings, "inside")
    assert run.status == "failed" and run.message.startswith("refused_address"), run.message
    assert "localhost" in run.message and PRIVATE_HOSTS_ENV in run.message
    assert ckan_server.requests == []  # refused before connecting: nothing was asked
    # The operator vouches for that host (an intranet platform): the same source harvests.
    monkeypatch.setenv(PRIVATE_HOSTS_ENV, f"other.example, localhost:{port}")
    again = service.run_source(local_db, local_settings, "inside")
    assert again.status == "ok" and again.created == len(ckan_server.packages), again.summary()


def test_a_data_host_rebound_into_our_network_is_never_read(local_db: Database, local_settings: Settings,
                                                            ckan_server: RecordedCkan) -> None:
    """The source is fine (a literal address); its resources live on a data host the
    administrator named, whose DNS now answers a service inside: the rows are not copied."""
    with FixtureServer() as internal:
        internal.prefix_routes["/"] = lambda path, q: (200, {"Content-Type": "text/csv"}, b"secret\ns3cr3t\n")
        inside_port = internal.url.rsplit(":", 1)[1]
        files = f"files.example:{inside_port}"
        for package in ckan_server.packages:
            for resource in package["resources"]:
                resource["url"] = resource["url"].replace(ckan_server.url, f"http://{files}")
        _add(local_db, "rebound", ckan_server.url, with_data=True, data_hosts=(files,))
        client = new_client(resolve=_resolver({"files.example": ["127.0.0.1"]}), vouched=frozenset())
        try:
            run = service.run_source(local_db, local_settings, "rebound", client=client)
        finally:
            client.close()
        assert internal.requests == []
    with local_db.session() as session:
        log = [e.as_dict() for e in service.run_log(session, run.id)]
    refused = [e for e in log if e["kind"] == "error" and "not a public address" in e["message"]]
    assert refused and all("files.example" in e["message"] and "127.0.0.1" in e["message"] for e in refused), log
    assert run.created == len(ckan_server.packages)  # the metadata is harvested; the files stay links


def test_through_the_operators_proxy_the_proxy_decides(local_db: Database, local_settings: Settings,
                                                      ckan_server: RecordedCkan,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENDATA_HARVEST_PROXY: every request goes to the proxy (here the recorded CKAN
    itself answers the proxied requests), even for a name no resolver here knows; the hosts
    a source may name are still checked (a resource on another host stays a link)."""
    monkeypatch.setenv(PROXY_ENV, ckan_server.url)
    monkeypatch.delenv(PRIVATE_HOSTS_ENV, raising=False)
    remote = "http://catalog.gz.gov.invalid"
    for package in ckan_server.packages:
        for resource in package["resources"]:
            resource["url"] = resource["url"].replace(ckan_server.url, remote)
    _add(local_db, "proxied", remote, with_data=True)
    run = service.run_source(local_db, local_settings, "proxied")
    assert run.created == len(ckan_server.packages), run.summary()
    proxied = [r for r in ckan_server.requests if r.startswith(remote)]
    assert proxied and len(proxied) == len(ckan_server.requests)  # absolute URLs: a proxy's requests
    with local_db.session() as session:
        log = [e.as_dict() for e in service.run_log(session, run.id)]
    assert any("not on an allowed host" in e["message"] for e in log if e["kind"] == "error")
