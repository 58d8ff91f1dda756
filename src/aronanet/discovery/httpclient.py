"""A small HTTP client for discovery: bounded in time and in size, never blocking the loop.

Discovery makes a handful of requests an hour, to GitHub, to a URL the operator chose, or
to the local ngrok agent. ``urllib`` does HTTP/1.1, TLS with the system's certificates and
the usual proxy variables, so no HTTP library is added. It blocks, so each request runs in
a daemon thread and hands its result back to the loop: a node that stops while GitHub is
slow to answer is not kept alive by that thread (``asyncio.to_thread`` would be, since
``asyncio.run`` waits for its executor on exit).

Two limits hold for every request: ``timeout`` seconds for the whole exchange, and
``max_bytes`` for the body read (a larger body is refused after ``max_bytes + 1`` bytes,
never read whole), because a record URL may point anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlsplit

from aronanet import __version__
from aronanet.discovery.errors import DiscoveryError

DEFAULT_TIMEOUT = 10.0
#: Nothing discovery reads is legitimately bigger than this (a record is ~300 bytes).
DEFAULT_MAX_BYTES = 64 * 1024
#: GitHub refuses API requests without a User-Agent; everyone else just sees who we are.
USER_AGENT = f"aronanet/{__version__}"


@dataclass(frozen=True)
class HttpResponse:
    """A complete response: status, headers (lower-case names) and the body, whole."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name, or None."""
        return self.headers.get(name.lower())


async def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> HttpResponse:
    """Send one request and return the response, whatever its status.

    An HTTP error status (404, 429...) is a response, for the caller to explain; a failure to
    get any response (refused, DNS, TLS, timeout, oversized body) raises ``DiscoveryError``
    with the URL and the reason, and never the request headers (they may hold a token).
    """
    _require_http_url(url)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[HttpResponse] = loop.create_future()

    def deliver(result: HttpResponse | BaseException) -> None:
        if future.done():  # the caller was cancelled or timed out meanwhile
            return
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            result: HttpResponse | BaseException = _blocking_request(
                method, url, dict(headers or {}), body, timeout, max_bytes
            )
        except BaseException as exc:  # handed to the loop, raised there
            result = exc
        # A loop that closed while we waited raises RuntimeError: nobody wants the answer.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=work, name=f"http {method}", daemon=True).start()
    try:
        async with asyncio.timeout(timeout + 1.0):
            return await future
    except TimeoutError:
        raise DiscoveryError(f"{method} {url}: no answer within {timeout:g} s") from None


def _require_http_url(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DiscoveryError(f"{url!r} is not an http:// or https:// URL")


def _blocking_request(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    max_bytes: int,
) -> HttpResponse:
    headers.setdefault("User-Agent", USER_AGENT)
    prepared = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            return HttpResponse(
                response.status, _read_bounded(response, url, max_bytes), _lower(response.headers)
            )
    except urllib.error.HTTPError as error:
        with error:
            return HttpResponse(
                error.code, _read_bounded(error, url, max_bytes), _lower(error.headers)
            )
    except urllib.error.URLError as error:
        raise DiscoveryError(f"{method} {url}: {error.reason}") from None
    except (OSError, ValueError) as error:  # timeouts, resets, malformed responses
        raise DiscoveryError(f"{method} {url}: {error}") from None


def _read_bounded(stream: object, url: str, max_bytes: int) -> bytes:
    """Read at most ``max_bytes``; one byte more means the body is too large to accept."""
    data: bytes = stream.read(max_bytes + 1)  # type: ignore[attr-defined]
    if len(data) > max_bytes:
        raise DiscoveryError(f"{url} sent more than {max_bytes} bytes; refusing it")
    return data


def _lower(headers: Message | None) -> dict[str, str]:
    if headers is None:
        return {}
    return {name.lower(): value for name, value in headers.items()}
