"""What ``aronanet send`` does once its arguments are parsed, and the log-in both script
commands share (``aronanet tail`` is ``client/tail.py``).

Kept apart from argument parsing (``client/cli.py``) so the flows read top to bottom: open a
verified session with this device's key, log in, then send or follow. Both commands are made
for scripts: ``send`` prints one message id per line, ``tail`` one event per line, flushed at
once so a pipe sees each as it happens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aronanet.client.community import AddressRing, parse_address_list
from aronanet.client.connection import ArtpClient
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.outbox import new_cid
from aronanet.client.paths import ClientPaths
from aronanet.client.sync import PasswordSource, sign_in
from aronanet.errors import ClientError
from aronanet.identity import load_or_create_key
from aronanet.proto import messages

#: A ``HISTORY`` page: the contract's maximum ``limit`` (§3: 1-200).
#: Failures that another try (or another address of the community) may not meet.
CONNECTION_CODES = frozenset({"CONNECT", "HANDSHAKE", "DISCONNECTED", "TIMEOUT"})


@dataclass(frozen=True)
class SessionOptions:
    """Who logs in where, and how much to trust a node never seen before."""

    #: One address, or a community's comma-separated list (``client/community.py``).
    address: str
    user: str
    #: Asked only when this device cannot sign in alone (ArTP/1.1 §14.3): after the first
    #: password run, a script runs without one.
    password: PasswordSource | None
    register: bool = False
    config_dir: Path | None = None
    timeout: float = 10.0
    require_known: bool = False


@dataclass(frozen=True)
class Destination:
    """Where ``send`` writes: a channel (``#name``) or a user (a DM)."""

    dest_type: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Destination:
        """``#name`` is a channel; ``name`` or ``@name`` is a user (§3 ``dest_type``).

        Channel names fold case in the client (``#Ops`` is ``#ops``); the node refuses upper
        case, as ArTP/1.0 has it.
        """
        if text.startswith("#"):
            return cls("channel", text.lower())
        return cls("user", text.removeprefix("@"))


async def connect_and_log_in(
    options: SessionOptions, notice: TextIO
) -> tuple[ArtpClient, messages.Ok]:
    """Connect with this device's key, pin or check the node's key, and sign in: by device
    when the node knows it, else with the password (which records the device).

    A first-seen node is pinned with a notice on ``notice`` (trust on first use), or refused
    with ``ClientError("UNTRUSTED")`` under ``require_known``.
    """
    paths = ClientPaths.at(options.config_dir)
    client = await ArtpClient.connect(
        options.address,
        device_key=load_or_create_key(paths.device_key),
        known_nodes=KnownNodes(paths.known_nodes),
        trust_new=_trust_policy(options.require_known, notice),
        timeout=options.timeout,
    )
    try:
        welcome = await sign_in(client, options.user, options.password, register=options.register)
    except BaseException:
        await client.close()
        raise
    return client, welcome


async def connect_to_community(
    options: SessionOptions, notice: TextIO, ring: AddressRing
) -> tuple[ArtpClient, messages.Ok]:
    """``connect_and_log_in`` at the ring's current address, then at each next one while
    the failure is the connection's; the last failure is raised once every address failed.
    A changed key or a refused login is raised at once: another address cannot change it."""
    while True:
        try:
            reached = await connect_and_log_in(
                dataclasses.replace(options, address=ring.target()), notice
            )
        except ClientError as error:
            if error.code not in CONNECTION_CODES or ring.failed():
                raise
            continue
        ring.succeeded()
        return reached


def _trust_policy(require_known: bool, notice: TextIO) -> Callable[[str, str], bool]:
    def decide(address: str, fingerprint: str) -> bool:
        if require_known:
            return False
        print(f"pinned the key of new node {address}: {fingerprint}", file=notice)
        return True

    return decide


async def run_send(
    options: SessionOptions, destination: Destination, contents: AsyncIterator[str], out: TextIO
) -> None:
    """Send each text of ``contents`` to ``destination``, printing each ``msg_id``."""
    ring = AddressRing(parse_address_list(options.address), spread=random.Random())
    client, welcome = await connect_to_community(options, sys.stderr, ring)
    async with client:
        if destination.dest_type == "channel" and destination.name not in channels_of(welcome):
            await client.join(destination.name)  # channel messages need membership (§3)
        async for content in contents:
            cid = new_cid() if client.syncing else None  # one for every try (§14.4)
            reply = await client.send_message_when_allowed(
                destination.dest_type, destination.name, content, cid=cid
            )
            print(reply.msg_id, file=out, flush=True)


async def lines_from(stream: TextIO) -> AsyncIterator[str]:
    """Non-empty lines of ``stream`` without their newline, read in a thread so the session
    keeps answering the node's PINGs while a pipe is quiet."""
    while line := await asyncio.to_thread(stream.readline):
        text = line.rstrip("\r\n")
        if text:
            yield text


def channels_of(welcome: messages.Ok) -> list[str]:
    """The channels the login reply says the user is a member of."""
    return list(welcome.channels) if isinstance(welcome.channels, list) else []
