"""Publishing to and fetching from any URL, against a local web server."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fake_services import FakeRecordHost

from aronanet.discovery.errors import DiscoveryError, RecordError
from aronanet.discovery.record import build_record
from aronanet.discovery.tokens import Secret
from aronanet.discovery.url import UrlPublisher, fetch_url_record

FINGERPRINT = "SHA256:" + base64.b64encode(hashlib.sha256(b"node").digest()).decode().rstrip("=")
RECORD = build_record("arona", ["127.0.0.1:7777"], FINGERPRINT, now=1_700_000_000)


async def test_a_record_put_to_a_url_is_fetched_back_unchanged(record_host):
    publisher = UrlPublisher(record_host.record_url, token=Secret(record_host.token))
    where = await publisher.publish(RECORD)
    assert where == record_host.record_url
    [put] = record_host.requests_to("PUT")
    assert put.headers["authorization"] == f"Bearer {record_host.token}"
    assert put.headers["content-type"] == "application/json"
    assert await fetch_url_record(record_host.record_url) == RECORD


async def test_the_method_is_configurable(record_host):
    publisher = UrlPublisher(record_host.record_url, method="POST", token=Secret(record_host.token))
    await publisher.publish(RECORD)
    assert len(record_host.requests_to("POST")) == 1 and record_host.requests_to("PUT") == []


async def test_a_refused_publish_names_the_status_and_the_fix_but_not_the_token(record_host):
    publisher = UrlPublisher(record_host.record_url, token=Secret("not-the-token"))
    with pytest.raises(DiscoveryError) as caught:
        await publisher.publish(RECORD)
    assert "HTTP 401" in str(caught.value) and "--publish-token-env" in str(caught.value)
    assert "not-the-token" not in str(caught.value)


async def test_a_response_larger_than_64_kib_is_refused(record_host):
    record_host.served = b" " * (64 * 1024 + 1)
    with pytest.raises(DiscoveryError, match="more than 65536 bytes"):
        await fetch_url_record(record_host.record_url)


async def test_a_document_that_is_not_a_record_is_refused(record_host):
    record_host.served = b'{"artp": "1.0", "name": "x"}'
    with pytest.raises(RecordError, match=r"addresses|fingerprint"):
        await fetch_url_record(record_host.record_url)


async def test_nothing_at_the_url_is_a_clear_error(record_host: FakeRecordHost):
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        await fetch_url_record(record_host.record_url)


async def test_an_unreachable_url_is_a_discovery_error(record_host: FakeRecordHost):
    url = record_host.record_url
    record_host.stop()
    with pytest.raises(DiscoveryError, match=r"node\.json"):
        await fetch_url_record(url)
