"""Local stand-ins for the services discovery talks to, speaking their real HTTP APIs.

GitHub and ngrok's cloud cannot be reached from here, so these fakes answer on 127.0.0.1
(ephemeral ports, real sockets, real HTTP) exactly as the documented APIs do, and record
every request so tests can check what was sent:

* ``FakeGitHub``: ``POST /gists`` (201), ``PATCH /gists/ID`` (200), ``GET /gists/ID`` (200),
  ``401 Bad credentials`` without the right bearer token, ``404 Not Found``, and injectable
  failures (rate limits);
* ``FakeRecordHost``: any URL accepting ``PUT``/``POST`` and serving it back on ``GET``;
* ``FakeNgrokAgent``: the agent's ``GET``/``POST /api/tunnels``, with ``reconnect()`` to
  give every tunnel a new public address, as a real agent does after a network drop.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(document).encode(),
    )


class FakeService:
    """An HTTP server in a thread; subclasses answer in ``handle``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeService:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering; idempotent (a test may stop a service early to make it vanish)."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def dispatch(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self.handle(request)

    def handle(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def requests_to(self, method: str) -> list[Recorded]:
        with self._lock:
            return [request for request in self.requests if request.method == method]


def _handler_for(service: FakeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, reply_headers, payload = service.dispatch(
                Recorded(self.command, self.path, headers, body)
            )
            self.send_response(status)
            for name, value in reply_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


# ---------------------------------------------------------------------------- GitHub


@dataclass
class FakeGitHub(FakeService):
    """GitHub's gist endpoints, accepting writes only with ``Bearer {token}``."""

    token: str = "ghp_test_token_0123456789"
    gists: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The next request gets this reply instead (then it is cleared).
    next_failure: Reply | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle(self, request: Recorded) -> Reply:
        if self.next_failure is not None:
            failure, self.next_failure = self.next_failure, None
            return failure
        segments = [part for part in request.path.split("/") if part]
        if request.method in ("POST", "PATCH") and not self._authorised(request):
            return json_reply(401, {"message": "Bad credentials", "status": "401"})
        if request.method == "POST" and segments == ["gists"]:
            return self._create(request.json())
        if len(segments) == 2 and segments[0] == "gists":
            if segments[1] not in self.gists:
                return json_reply(404, {"message": "Not Found", "status": "404"})
            if request.method == "PATCH":
                self.gists[segments[1]].update(_contents(request.json()))
            return json_reply(200, self._gist(segments[1]))
        return json_reply(404, {"message": "Not Found", "status": "404"})

    def _authorised(self, request: Recorded) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def _create(self, document: dict[str, Any]) -> Reply:
        gist_id = uuid.uuid4().hex
        self.gists[gist_id] = _contents(document)
        return json_reply(201, self._gist(gist_id))

    def _gist(self, gist_id: str) -> dict[str, Any]:
        files = {
            name: {
                "filename": name,
                "type": "application/json",
                "raw_url": f"https://gist.githubusercontent.com/u/{gist_id}/raw/{name}",
                "size": len(content),
                "truncated": False,
                "content": content,
            }
            for name, content in self.gists[gist_id].items()
        }
        return {
            "id": gist_id,
            "html_url": f"https://gist.github.com/{gist_id}",
            "public": False,
            "files": files,
        }

    def content_of(self, gist_id: str, name: str = "aronanet-node.json") -> Any:
        return json.loads(self.gists[gist_id][name])


def _contents(document: dict[str, Any]) -> dict[str, str]:
    return {name: entry["content"] for name, entry in document["files"].items()}


# ---------------------------------------------------------------------------- any URL


@dataclass
class FakeRecordHost(FakeService):
    """A URL that stores what is PUT or POSTed to ``/node.json`` and serves it back."""

    token: str | None = None
    stored: bytes | None = None
    #: When set, GET serves this instead of what was stored (a tampered or broken record).
    served: bytes | None = None

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def record_url(self) -> str:
        return f"{self.url}/node.json"

    def handle(self, request: Recorded) -> Reply:
        if request.path != "/node.json":
            return 404, {}, b"not found"
        if request.method in ("PUT", "POST"):
            if self.token is not None and request.headers.get("authorization") != (
                f"Bearer {self.token}"
            ):
                return 401, {}, b"unauthorized"
            self.stored = request.body
            return 204, {}, b""
        body = self.served if self.served is not None else self.stored
        if body is None:
            return 404, {}, b"nothing published yet"
        return 200, {"Content-Type": "application/json"}, body

    def published(self) -> list[Any]:
        """Every record written, oldest first."""
        return [request.json() for request in self.requests if request.method in ("PUT", "POST")]


# ---------------------------------------------------------------------------- ngrok agent


@dataclass
class FakeNgrokAgent(FakeService):
    """The ngrok agent's local API: list and start tunnels."""

    tunnels: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._ports = itertools.count(10001)

    def handle(self, request: Recorded) -> Reply:
        if request.path != "/api/tunnels":
            return json_reply(404, {"error_code": 100, "status_code": 404, "msg": "Not found"})
        if request.method == "GET":
            return json_reply(200, {"tunnels": self.tunnels, "uri": "/api/tunnels"})
        document = request.json()
        if document.get("proto") != "tcp" or "addr" not in document:
            return json_reply(400, {"error_code": 102, "status_code": 400, "msg": "invalid"})
        tunnel = self.add_tunnel(document["name"], document["addr"])
        return json_reply(201, tunnel)

    def add_tunnel(self, name: str, addr: str) -> dict[str, Any]:
        """A tunnel as ``ngrok tcp`` (or the API) would have started it."""
        tunnel = {
            "name": name,
            "uri": f"/api/tunnels/{name}",
            "public_url": f"tcp://0.tcp.ngrok.io:{next(self._ports)}",
            "proto": "tcp",
            "config": {"addr": addr, "inspect": False},
        }
        self.tunnels.append(tunnel)
        return tunnel

    def reconnect(self) -> None:
        """Every tunnel comes back on a new public port."""
        with self._lock:
            for tunnel in self.tunnels:
                tunnel["public_url"] = f"tcp://1.tcp.ngrok.io:{next(self._ports)}"
