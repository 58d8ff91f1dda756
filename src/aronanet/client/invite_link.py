"""Invitation links (§14.21): ``aronanet://HOST:PORT/?fp=SHA256:...&invite=TOKEN``.

``aronanet admin invite`` prints one; whoever opens it learns three things at once: where
the node is, which key it has (so the client pins it without asking "do you trust this
key?", and refuses a node whose key differs), and the token that lets them register.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aronanet.client.address import parse_address
from aronanet.client.connection import ArtpClient, TrustCallback
from aronanet.errors import ClientError

SCHEME = "aronanet://"
_FINGERPRINT = re.compile(r"\ASHA256:[A-Za-z0-9+/]{43}=?\Z")
_TOKEN = re.compile(r"\A[A-Za-z0-9_-]{16,128}\Z")


@dataclass(frozen=True, slots=True)
class InviteLink:
    """A parsed link: ``address`` canonical (``host:port``), ``fingerprint`` as pinned in the
    known-nodes file, ``token`` the registration invitation ("" when the link has none)."""

    address: str
    fingerprint: str
    token: str


def is_invite_link(text: str) -> bool:
    return text.strip().lower().startswith(SCHEME)


def parse_invite_link(text: str) -> InviteLink:
    """Parse a link; ``ValueError`` saying what is wrong (a link without ``fp`` is refused:
    pinning the key is the point of the link)."""
    link = text.strip()
    if not is_invite_link(link):
        raise ValueError(f"an invitation link starts with {SCHEME}")
    parts = urllib.parse.urlsplit("tcp://" + link[len(SCHEME) :])
    if not parts.netloc:
        raise ValueError(f"no node address in {link!r}")
    address = parse_address(parts.netloc)
    query = urllib.parse.parse_qs(parts.query or parts.fragment, keep_blank_values=True)
    # base64's "+" reads as a space in a query string when the link was not percent-encoded
    fingerprint = (query.get("fp") or [""])[0].replace(" ", "+")
    token = (query.get("invite") or [""])[0]
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise ValueError("the link carries no valid key fingerprint (fp=SHA256:...)")
    if token and not _TOKEN.fullmatch(token):
        raise ValueError("the link's invitation token is malformed")
    return InviteLink(str(address), fingerprint, token)


class KeyMismatchError(ClientError):
    """The node at the link's address presented another key than the link names."""

    def __init__(self, address: str, expected: str, presented: str) -> None:
        super().__init__(
            "KEY_MISMATCH",
            f"the node at {address} presented the key {presented}, but the invitation link "
            f"names {expected}: refused (a wrong link, or someone in between)",
        )


Connect = Callable[[str, TrustCallback | None], Awaitable[ArtpClient]]


def pinned_by_link(connect: Connect, link: InviteLink) -> Connect:
    """``connect``, but for the link's node its key is the link's ``fp``: a first visit pins
    it without asking the user, and any other key (new or already pinned) is refused before
    this device says who it is."""

    def trust(address: str, presented: str) -> bool:
        if presented != link.fingerprint:
            raise KeyMismatchError(address, link.fingerprint, presented)
        return True

    async def connect_pinned(address: str, trust_new: TrustCallback | None) -> ArtpClient:
        try:
            same_node = str(parse_address(address)) == link.address
        except ValueError:
            same_node = False
        if not same_node:
            return await connect(address, trust_new)
        client = await connect(address, trust)
        if client.fingerprint != link.fingerprint:
            await client.close()
            raise KeyMismatchError(link.address, link.fingerprint, client.fingerprint)
        return client

    return connect_pinned
