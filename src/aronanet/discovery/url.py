"""Publish the node record to any URL, and fetch a record from any http(s) URL.

The simplest discovery that works with what people already have: a WebDAV folder, an
object-store bucket with a pre-signed URL, a tiny upload endpoint, a static web server.
Publishing is one ``PUT`` (or ``POST``) of the JSON record with ``Content-Type:
application/json`` and, when a token is configured, ``Authorization: Bearer TOKEN``;
finding is one ``GET`` of the same URL, bounded to ``MAX_RECORD_BYTES``.
"""

from __future__ import annotations

from typing import Literal

from aronanet.discovery import httpclient
from aronanet.discovery.errors import DiscoveryError
from aronanet.discovery.record import MAX_RECORD_BYTES, NodeRecord, decode_record, encode_record
from aronanet.discovery.tokens import Secret

PublishMethod = Literal["PUT", "POST"]
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class UrlPublisher:
    """Sends the record to one URL; the same URL is what clients give ``aronanet discover``."""

    def __init__(
        self,
        url: str,
        *,
        method: PublishMethod = "PUT",
        token: Secret | None = None,
        timeout: float = httpclient.DEFAULT_TIMEOUT,
    ) -> None:
        self.url = url
        self.method = method
        self._token = token
        self._timeout = timeout

    @property
    def description(self) -> str:
        """Where records go, for the operator's messages (no token in it)."""
        return f"{self.method} {self.url}"

    async def publish(self, record: NodeRecord) -> str:
        """Send ``record``; return the URL clients find it at. Raise ``DiscoveryError``."""
        headers = dict(JSON_HEADERS)
        if self._token is not None:
            headers |= self._token.bearer()
        response = await httpclient.request(
            self.method,
            self.url,
            headers=headers,
            body=encode_record(record),
            timeout=self._timeout,
        )
        if not 200 <= response.status < 300:
            raise DiscoveryError(_refusal(self.method, self.url, response.status))
        return self.url


async def fetch_url_record(
    url: str, *, token: Secret | None = None, timeout: float = httpclient.DEFAULT_TIMEOUT
) -> NodeRecord:
    """GET a record from ``url`` and parse it strictly (``RecordError`` if it is malformed)."""
    headers = {"Accept": "application/json"} | (token.bearer() if token else {})
    response = await httpclient.request(
        "GET", url, headers=headers, timeout=timeout, max_bytes=MAX_RECORD_BYTES
    )
    if response.status != 200:
        raise DiscoveryError(_refusal("GET", url, response.status))
    return decode_record(response.body)


def _refusal(method: str, url: str, status: int) -> str:
    hint = {
        401: "the server wants a token: pass --publish-token-env VAR (or --publish-token-file)",
        403: "the token is not allowed to write there",
        404: "nothing at that URL; check it",
        405: "the server does not accept this method; try --publish-method POST or PUT",
    }.get(status, "see the server's logs")
    return f"{method} {url} answered HTTP {status}: {hint}"
