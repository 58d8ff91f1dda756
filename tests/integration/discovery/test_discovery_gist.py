"""Publishing to and finding from a GitHub gist, against a local fake of GitHub's REST API."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from fake_services import FakeGitHub, json_reply

from aronanet.discovery.errors import DiscoveryError, RateLimitedError
from aronanet.discovery.finding import find_record
from aronanet.discovery.gist import GistPublisher, fetch_gist_record
from aronanet.discovery.record import NodeRecord, build_record
from aronanet.discovery.tokens import Secret


def a_record(port: int = 7777) -> NodeRecord:
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(b"k").digest()).decode().rstrip("=")
    return build_record("arona", [f"chat.example.org:{port}"], fingerprint, now=1_700_000_000)


def publisher_for(github: FakeGitHub, tmp_path: Path, token: str | None = None) -> GistPublisher:
    return GistPublisher(
        Secret(token or github.token), tmp_path / "data" / "gist-id", api=github.url
    )


async def test_first_publish_creates_a_secret_gist_and_remembers_its_id(github, tmp_path):
    publisher = publisher_for(github, tmp_path)
    gist_id = await publisher.publish(a_record())
    [create] = github.requests_to("POST")
    assert create.path == "/gists" and create.json()["public"] is False
    assert github.content_of(gist_id)["addresses"] == ["chat.example.org:7777"]
    assert (tmp_path / "data" / "gist-id").read_text().strip() == gist_id
    assert (tmp_path / "data" / "gist-id").stat().st_mode & 0o077 == 0


async def test_a_later_publish_updates_the_same_gist_even_from_a_new_process(github, tmp_path):
    gist_id = await publisher_for(github, tmp_path).publish(a_record(7777))
    again = await publisher_for(github, tmp_path).publish(a_record(7000))
    assert again == gist_id
    assert len(github.requests_to("POST")) == 1
    [update] = github.requests_to("PATCH")
    assert update.path == f"/gists/{gist_id}"
    assert github.content_of(gist_id)["addresses"] == ["chat.example.org:7000"]


async def test_every_write_carries_the_bearer_token_and_the_api_version(github, tmp_path):
    publisher = publisher_for(github, tmp_path)
    await publisher.publish(a_record())
    await publisher.publish(a_record(7001))
    for request in github.requests_to("POST") + github.requests_to("PATCH"):
        assert request.headers["authorization"] == f"Bearer {github.token}"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["user-agent"].startswith("aronanet/")


async def test_a_rejected_token_is_explained_without_showing_it(github, tmp_path):
    with pytest.raises(DiscoveryError) as caught:
        await publisher_for(github, tmp_path, token="ghp_wrong_token").publish(a_record())
    message = str(caught.value)
    assert "401" in message and "gist" in message and "GITHUB_TOKEN" in message
    assert "ghp_wrong_token" not in message


async def test_a_rate_limit_says_when_publishing_may_resume(github, tmp_path):
    github.next_failure = json_reply(
        403,
        {"message": "API rate limit exceeded"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000600"},
    )
    publisher = GistPublisher(
        Secret(github.token), tmp_path / "gist-id", api=github.url, wall_clock=lambda: 1.7e9
    )
    with pytest.raises(RateLimitedError) as caught:
        await publisher.publish(a_record())
    assert caught.value.retry_after == 600
    assert "rate limit" in str(caught.value) and "22:23:20 UTC" in str(caught.value)


async def test_a_deleted_gist_is_not_silently_replaced(github, tmp_path):
    (tmp_path / "gist-id").write_text("0123456789abcdef0123456789abcdef\n")
    publisher = GistPublisher(Secret(github.token), tmp_path / "gist-id", api=github.url)
    with pytest.raises(DiscoveryError, match="does not exist"):
        await publisher.publish(a_record())
    assert github.requests_to("POST") == []


def test_publishing_without_a_token_is_refused_with_how_to_get_one(tmp_path):
    with pytest.raises(DiscoveryError, match=r"github\.com/settings/tokens"):
        GistPublisher(None, tmp_path / "gist-id")


async def test_a_node_is_found_by_gist_id_and_by_gist_url_without_a_token(github, tmp_path):
    record = a_record()
    gist_id = await publisher_for(github, tmp_path).publish(record)
    by_id = await fetch_gist_record(gist_id, api=github.url)
    by_url = await find_record(f"https://gist.github.com/arona/{gist_id}", github_api=github.url)
    assert by_id == record and by_url == record
    assert "authorization" not in github.requests_to("GET")[0].headers


async def test_an_unknown_gist_is_reported_as_not_found(github):
    with pytest.raises(DiscoveryError, match="no gist 0123456789abcdef0123"):
        await fetch_gist_record("0123456789abcdef0123", api=github.url)
