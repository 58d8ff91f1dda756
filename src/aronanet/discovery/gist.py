"""Publish the node record to a GitHub Gist, and find a node from a gist id or URL.

GitHub REST API, "gists" endpoints (API version 2022-11-28):

* ``POST /gists`` with ``{"description", "public", "files": {NAME: {"content"}}}`` creates a
  gist and answers ``201`` with its ``id``;
* ``PATCH /gists/{gist_id}`` with ``{"files": {NAME: {"content"}}}`` replaces that file;
* ``GET /gists/{gist_id}`` answers the gist with ``files[NAME].content`` (``truncated`` with a
  ``raw_url`` when the content is large).

Every request sends ``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version``;
writes send ``Authorization: Bearer TOKEN`` (a token with the ``gist`` scope). The node
creates its gist once and remembers the id in its data directory, so the id it prints on
the first run stays the one to share. The gist is secret (unlisted): the record is not
confidential, but there is no reason to advertise a node in the public gist feed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aronanet.discovery import httpclient
from aronanet.discovery.errors import DiscoveryError, RateLimitedError, RecordError
from aronanet.discovery.record import MAX_RECORD_BYTES, NodeRecord, decode_record, encode_record
from aronanet.discovery.settings import DEFAULT_GITHUB_API
from aronanet.discovery.tokens import Secret

GITHUB_API = DEFAULT_GITHUB_API
API_VERSION = "2022-11-28"
RECORD_FILENAME = "aronanet-node.json"
TOKEN_ENV = "GITHUB_TOKEN"
#: The gist JSON wraps the record with owner and history data; the record itself is still
#: held to ``MAX_RECORD_BYTES`` when decoded.
MAX_GIST_RESPONSE_BYTES = 512 * 1024
#: What GitHub's gist ids look like: hex (20 or 32 digits today), or old numeric ids.
_GIST_ID = re.compile(r"(?:[0-9a-f]{20,40}|[0-9]{1,12})")
_GIST_HOSTS = ("gist.github.com", "api.github.com")
_NEW_TOKEN_HELP = (
    "create a token with the 'gist' scope (classic) or 'Gists: read and write' "
    "(fine-grained) at https://github.com/settings/tokens and export it as GITHUB_TOKEN"
)


class GistPublisher:
    """Keeps one gist holding this node's record: created on first publish, then updated."""

    def __init__(
        self,
        token: Secret | None,
        state_file: Path,
        *,
        gist_id: str | None = None,
        api: str = GITHUB_API,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if token is None:
            raise DiscoveryError(f"publishing to a gist needs a GitHub token: {_NEW_TOKEN_HELP}")
        self._token = token
        self._state_file = state_file
        self._fixed_id = gist_id
        self._api = api.rstrip("/")
        self._wall_clock = wall_clock

    @property
    def description(self) -> str:
        """Where records go, for the operator's messages."""
        gist = self._fixed_id or self.remembered_id()
        return f"GitHub gist {gist}" if gist else "a new GitHub gist"

    def remembered_id(self) -> str | None:
        """The gist created by an earlier run (kept in the data directory), if any."""
        try:
            text = self._state_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text if _GIST_ID.fullmatch(text) else None

    async def publish(self, record: NodeRecord) -> str:
        """Create or update the gist; return its id, which clients give ``aronanet discover``."""
        files = {RECORD_FILENAME: {"content": encode_record(record).decode("utf-8")}}
        gist_id = self._fixed_id or self.remembered_id()
        if gist_id is None:
            body = {"description": _description(record), "public": False, "files": files}
            reply = await self._call("POST", "/gists", body, expect=201)
            gist_id = _gist_id_of(reply)
            _remember(self._state_file, gist_id)
            return gist_id
        body = {"description": _description(record), "files": files}
        await self._call("PATCH", f"/gists/{gist_id}", body, expect=200, gist_id=gist_id)
        return gist_id

    async def _call(
        self, method: str, path: str, body: dict[str, Any], *, expect: int, gist_id: str = ""
    ) -> dict[str, Any]:
        response = await httpclient.request(
            method,
            self._api + path,
            headers=github_headers(self._token) | {"Content-Type": "application/json"},
            body=json.dumps(body).encode("utf-8"),
            max_bytes=MAX_GIST_RESPONSE_BYTES,
        )
        if response.status != expect:
            raise explain_github_error(response, self._wall_clock(), gist_id, writing=True)
        return _json_object(response.body)


async def fetch_gist_record(
    gist_id: str,
    *,
    api: str = GITHUB_API,
    token: Secret | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> NodeRecord:
    """Read the record from gist ``gist_id`` (no token needed: secret gists are readable by id)."""
    response = await httpclient.request(
        "GET",
        f"{api.rstrip('/')}/gists/{gist_id}",
        headers=github_headers(token),
        max_bytes=MAX_GIST_RESPONSE_BYTES,
    )
    if response.status != 200:
        raise explain_github_error(response, wall_clock(), gist_id, writing=False)
    entry = _record_file(_json_object(response.body), gist_id)
    if entry.get("truncated") and isinstance(entry.get("raw_url"), str):
        raw = await httpclient.request("GET", entry["raw_url"], max_bytes=MAX_RECORD_BYTES)
        if raw.status != 200:
            raise DiscoveryError(f"GET {entry['raw_url']} answered HTTP {raw.status}")
        return decode_record(raw.body)
    content = entry.get("content")
    if not isinstance(content, str):
        raise RecordError(f"gist {gist_id}: the file {RECORD_FILENAME} has no content")
    return decode_record(content)


def gist_id_from(source: str) -> str | None:
    """The gist id in ``source`` (an id, a gist.github.com or API URL), or None if it is none.

    ``https://gist.github.com/USER/ID`` and ``https://gist.github.com/ID`` (with or without a
    trailing path) name the gist; raw ``gist.githubusercontent.com`` URLs are plain record
    URLs and are fetched as such, so they return None here.
    """
    text = source.strip()
    if _GIST_ID.fullmatch(text):
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or parts.hostname not in _GIST_HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.hostname == "api.github.com":
        segments = segments[1:2] if segments[:1] == ["gists"] else []
    candidates = [segment for segment in segments[:2] if _GIST_ID.fullmatch(segment)]
    return candidates[-1] if candidates else None


def github_headers(token: Secret | None) -> dict[str, str]:
    """The headers GitHub's REST API asks every request to carry."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    return (headers | token.bearer()) if token is not None else headers


def explain_github_error(
    response: httpclient.HttpResponse, now: float, gist_id: str, *, writing: bool
) -> DiscoveryError:
    """Turn a GitHub error status into an error that says what to do about it."""
    status = response.status
    message = _github_message(response.body)
    remaining = response.header("x-ratelimit-remaining")
    retry_after = response.header("retry-after")
    if status in (403, 429) and (remaining == "0" or retry_after is not None):
        return _rate_limited(response, now, message, writing=writing)
    if status == 401:
        return DiscoveryError(f"GitHub refused the token (HTTP 401 {message}): {_NEW_TOKEN_HELP}")
    if status == 403:
        return DiscoveryError(
            f"GitHub forbids this (HTTP 403 {message}): the token needs the gist scope; "
            + _NEW_TOKEN_HELP
        )
    if status == 404 and writing and gist_id:
        return DiscoveryError(
            f"gist {gist_id} does not exist or the token cannot edit it (HTTP 404); if it "
            "was deleted, remove the remembered id (the gist-id file in the node's data "
            "directory) to create a new gist, and share the new id"
        )
    if status == 404 and writing:
        return DiscoveryError(f"GitHub answered HTTP 404 creating a gist: {_NEW_TOKEN_HELP}")
    if status == 404:
        return DiscoveryError(f"no gist {gist_id} on GitHub (HTTP 404): check the id or URL")
    return DiscoveryError(f"GitHub answered HTTP {status}: {message}")


def _rate_limited(
    response: httpclient.HttpResponse, now: float, message: str, *, writing: bool
) -> RateLimitedError:
    """§ "Rate limits for the REST API": wait ``retry-after`` seconds if given, else until
    ``x-ratelimit-reset`` (UTC epoch seconds), else at least a minute."""
    wait = 60.0
    retry_after = response.header("retry-after")
    reset = response.header("x-ratelimit-reset")
    if retry_after is not None and retry_after.isdigit():
        wait = float(retry_after)
    elif reset is not None and reset.isdigit():
        wait = max(1.0, float(reset) - now)
    when = time.strftime("%H:%M:%S UTC", time.gmtime(now + wait))
    advice = (
        "the node publishes again by itself then"
        if writing
        else "reads without a token get 60 requests an hour; with --token-env VAR, 5000"
    )
    return RateLimitedError(
        f"GitHub rate limit reached ({message}); it lifts at {when}, in {wait:.0f} s: {advice}",
        retry_after=wait,
    )


def _github_message(body: bytes) -> str:
    with contextlib.suppress(ValueError):
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("message"), str):
            return str(document["message"])[:200]
    return "no explanation"


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise DiscoveryError("GitHub answered something that is not JSON") from None
    if not isinstance(document, dict):
        raise DiscoveryError("GitHub answered JSON that is not an object")
    return document


def _gist_id_of(reply: dict[str, Any]) -> str:
    gist_id = reply.get("id")
    if not isinstance(gist_id, str) or not _GIST_ID.fullmatch(gist_id):
        raise DiscoveryError("GitHub created a gist but its answer has no usable id")
    return gist_id


def _record_file(gist: dict[str, Any], gist_id: str) -> dict[str, Any]:
    """The gist's record file: ``aronanet-node.json``, or its only file."""
    files = gist.get("files")
    if not isinstance(files, dict) or not files:
        raise RecordError(f"gist {gist_id} has no files")
    entry = files.get(RECORD_FILENAME)
    if entry is None and len(files) == 1:
        entry = next(iter(files.values()))
    if not isinstance(entry, dict):
        names = ", ".join(sorted(str(name) for name in files))
        raise RecordError(f"gist {gist_id} has no {RECORD_FILENAME} (it has: {names})")
    return entry


def _description(record: NodeRecord) -> str:
    return f"AronaNET node {record.name} ({record.fingerprint})"


def _remember(path: Path, gist_id: str) -> None:
    """Write the gist id atomically (0600), so a crash never leaves a half-written id."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(gist_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
