"""The AronaNET async client library (ArTP/1.0 over TCP or WebSocket).

``ArtpClient.connect`` opens a verified session; ``KnownNodes`` pins node keys on first use.
The terminal UI, the image transfers, the benchmarks and the script client build on these.
"""

from aronanet.client.connection import (
    ArtpClient,
    NodeAddress,
    TrustCallback,
    parse_address,
)
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.link import NodeError
from aronanet.client.paths import ClientPaths

__all__ = [
    "ArtpClient",
    "ClientPaths",
    "KnownNodes",
    "NodeAddress",
    "NodeError",
    "TrustCallback",
    "parse_address",
]
