"""Reach a node behind NAT through an ngrok TCP tunnel, via the local ngrok agent's API.

What a self-hoster has is the ngrok agent binary (``ngrok tcp 7777``, or ``ngrok start
--none`` in the background). It serves an HTTP API on ``http://127.0.0.1:4040/api`` (the
``web_addr`` setting), without authentication since it is local:

* ``GET /api/tunnels`` answers ``{"tunnels": [{"name", "public_url", "proto",
  "config": {"addr"}}, ...]}``;
* ``POST /api/tunnels`` with ``{"name", "proto": "tcp", "addr"}`` starts a tunnel and
  answers ``201`` with the same tunnel object, ``public_url`` ``tcp://0.tcp.ngrok.io:12345``.

``NgrokAgent.tcp_tunnel(port)`` reuses a running ``tcp`` tunnel to the node's port (the one
``ngrok tcp 7777`` made) or starts one, and returns its public ``host:port``. When no agent
answers it raises ``NgrokUnavailableError`` saying exactly what to run; the node keeps
serving without the tunnel.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from aronanet.discovery import httpclient
from aronanet.discovery.errors import DiscoveryError, NgrokUnavailableError
from aronanet.discovery.settings import DEFAULT_NGROK_API

AGENT_API = DEFAULT_NGROK_API
TUNNEL_NAME = "aronanet"
INSTALL_URL = "https://ngrok.com/download"


class NgrokAgent:
    """The local ngrok agent, through its HTTP API at ``api`` (its ``web_addr``)."""

    def __init__(self, api: str = AGENT_API, *, timeout: float = 5.0) -> None:
        self.api = api.rstrip("/")
        self._timeout = timeout

    async def tcp_tunnel(self, port: int, host: str = "127.0.0.1") -> str:
        """The public ``host:port`` of a TCP tunnel to ``host:port``, started if needed.

        Raises ``NgrokUnavailableError`` with the command to run when no agent answers.
        """
        try:
            for tunnel in await self.list_tunnels():
                if _is_tcp_tunnel_to(tunnel, port):
                    return public_address(tunnel)
            return public_address(await self._start(port, host))
        except _AgentUnreachableError as exc:
            raise NgrokUnavailableError(how_to_start_ngrok(self.api, exc, port)) from None

    async def list_tunnels(self) -> list[dict[str, Any]]:
        """The agent's running tunnels (``GET /api/tunnels``)."""
        response = await self._request("GET", "/api/tunnels")
        if response.status != 200:
            raise NgrokUnavailableError(_agent_refused("listing tunnels", response))
        tunnels = _json(response.body).get("tunnels")
        if not isinstance(tunnels, list):
            raise NgrokUnavailableError(f"the ngrok agent at {self.api} listed no 'tunnels'")
        return [tunnel for tunnel in tunnels if isinstance(tunnel, dict)]

    async def _start(self, port: int, host: str) -> dict[str, Any]:
        body = {"name": f"{TUNNEL_NAME}-{port}", "proto": "tcp", "addr": f"{host}:{port}"}
        response = await self._request("POST", "/api/tunnels", body)
        if response.status not in (200, 201):
            raise NgrokUnavailableError(
                _agent_refused(f"starting a tcp tunnel to {port}", response)
            )
        return _json(response.body)

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpclient.HttpResponse:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            return await httpclient.request(
                method, self.api + path, headers=headers, body=data, timeout=self._timeout
            )
        except DiscoveryError as exc:
            raise _AgentUnreachableError(str(exc)) from None


class _AgentUnreachableError(NgrokUnavailableError):
    """No HTTP answer at all from the agent's API (as opposed to an answer refusing)."""


def how_to_start_ngrok(api: str, cause: object, port: int | None = None) -> str:
    """What to tell an operator whose ngrok agent does not answer."""
    target = port if port is not None else "PORT"
    return (
        f"no ngrok agent answers at {api} ({cause}). To reach this node from outside your "
        f"network: install ngrok ({INSTALL_URL}), run `ngrok config add-authtoken TOKEN` once, "
        f"then `ngrok tcp {target}` (or `ngrok start --none` to let the node open the tunnel). "
        "The node serves without a tunnel meanwhile, keeps checking, and publishes the "
        "tunnel's address as soon as the agent answers."
    )


def public_address(tunnel: dict[str, Any]) -> str:
    """``tcp://0.tcp.ngrok.io:12345`` -> ``0.tcp.ngrok.io:12345`` (what clients connect to)."""
    url = tunnel.get("public_url")
    if not isinstance(url, str):
        raise NgrokUnavailableError("the ngrok agent's tunnel has no public_url yet")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise NgrokUnavailableError(f"the ngrok tunnel's public URL {url!r} is not tcp://HOST:PORT")
    return f"{parts.hostname}:{port}"


def _is_tcp_tunnel_to(tunnel: dict[str, Any], port: int) -> bool:
    """A tcp tunnel whose ``config.addr`` is ``PORT``, ``HOST:PORT`` or ``tcp://HOST:PORT``."""
    if tunnel.get("proto") != "tcp":
        return False
    config = tunnel.get("config")
    addr = config.get("addr") if isinstance(config, dict) else None
    if not isinstance(addr, str):
        return False
    return addr.rsplit(":", 1)[-1] == str(port)


def _agent_refused(action: str, response: httpclient.HttpResponse) -> str:
    detail = _json(response.body).get("msg", "no explanation")
    return f"the ngrok agent refused {action}: HTTP {response.status} {detail}"


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
