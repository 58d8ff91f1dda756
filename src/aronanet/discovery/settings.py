"""How a node publishes itself: the ``[publish]`` table of the node's settings.

The TOML table mirrors the ``aronanet serve`` flags::

    [publish]
    target = "gist"                 # or "gist:ID", or an http(s) URL to PUT/POST the record to
    method = "PUT"                  # for a URL target: PUT (default) or POST
    token_env = "GITHUB_TOKEN"      # the variable holding the token (never the token itself)
    token_file = "/etc/aronanet/token"   # or a file (mode 0600) holding it
    ngrok = true                    # open a TCP tunnel through the local ngrok agent
    public_addresses = ["chat.example.org:7777"]   # what to publish instead of the bound ones
    github_api = "https://api.github.com"          # GitHub Enterprise, or a test double
    ngrok_api = "http://127.0.0.1:4040"            # the agent's web_addr

This module only describes the settings (no I/O, cheap to import), so the node's settings
can embed it without loading the HTTP machinery of a node that publishes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

DEFAULT_GITHUB_API = "https://api.github.com"
DEFAULT_NGROK_API = "http://127.0.0.1:4040"
#: The file in the node's data directory remembering the gist the node created.
GIST_ID_FILE = "gist-id"


class PublishSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where and how the node publishes its record; inactive by default."""

    #: None (do not publish), "gist", "gist:ID", or an http(s) URL.
    target: str | None = None
    method: Literal["PUT", "POST"] = "PUT"
    token_env: str | None = None
    token_file: str | None = None
    ngrok: bool = False
    public_addresses: tuple[str, ...] = ()
    github_api: str = DEFAULT_GITHUB_API
    ngrok_api: str = DEFAULT_NGROK_API
    #: Seconds between checks of the ngrok tunnel (its address changes when it reconnects).
    refresh_interval: Annotated[float, Meta(gt=0)] = 30.0

    def __post_init__(self) -> None:
        if self.target is not None and not _valid_target(self.target):
            raise ValueError(
                f"publish target {self.target!r} is not 'gist', 'gist:ID' or an http(s) URL"
            )

    @property
    def active(self) -> bool:
        """Whether the node runs a publisher at all (a target, a tunnel, or both)."""
        return self.target is not None or self.ngrok

    @property
    def is_gist(self) -> bool:
        return self.target is not None and (
            self.target == "gist" or self.target.startswith("gist:")
        )

    @property
    def gist_id(self) -> str | None:
        """The gist named in ``gist:ID``, or None to create (then reuse) one."""
        if self.target is None or not self.target.startswith("gist:"):
            return None
        return self.target.partition(":")[2]


def _valid_target(target: str) -> bool:
    if target == "gist":
        return True
    if target.startswith("gist:"):
        return bool(target[5:]) and target[5:].isalnum()
    return target.startswith(("http://", "https://"))
