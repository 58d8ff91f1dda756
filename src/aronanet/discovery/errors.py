"""The errors of discovery: each one tells the operator what to do next.

Discovery talks to services outside the node (GitHub, a web server, the ngrok agent) that
fail in ways the operator can fix: a missing token, a rate limit, an agent not started. The
text of every ``DiscoveryError`` names the fix, because it is printed as it is.
"""

from __future__ import annotations

from aronanet.errors import AronaError


class DiscoveryError(AronaError):
    """Publishing or finding a node record failed; ``str()`` says why and what to do."""


class RecordError(DiscoveryError):
    """A fetched node record is malformed, oversized, or not an ArTP/1.0 record."""


class NgrokUnavailableError(DiscoveryError):
    """No ngrok agent answers on its local API, or it refused to open the tunnel."""


class RateLimitedError(DiscoveryError):
    """The service refused for now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
