"""ArTP/1.1 ``sync`` requests: device sign-in, devices, conversations, read markers.

Functions over a live ``ArtpClient`` rather than more methods on it, so the connection
module stays about the connection. Every one of them needs ``sync`` enabled on the session
(``client.syncing``), except ``sign_in``, which falls back to the 1.0 password login.

Device sign-in (§14.3): the Noise handshake has already proved this device's static key, so
``AUTH`` without a password succeeds when that key signed in to the account with the
password before. ``sign_in`` tries it first and asks for the password only when the node
answers ``AUTH_FAILED``; the password is never kept, logged or written anywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

from msgspec import UNSET

from aronanet.client.connection import ArtpClient, build_request
from aronanet.client.link import NodeError
from aronanet.errors import ClientError
from aronanet.proto import messages

#: Asked for the password when the device cannot sign in alone; may be a coroutine.
PasswordSource = Callable[[], str | Awaitable[str]]

__all__ = [
    "PasswordSource",
    "change_password",
    "conversations",
    "devices",
    "mark_read",
    "rename_device",
    "revoke_device",
    "sign_in",
]


async def sign_in(
    client: ArtpClient,
    user: str,
    password: PasswordSource | None,
    *,
    register: bool = False,
    device_name: str | None = None,
    invite: str | None = None,
    reset: str | None = None,
) -> messages.Ok:
    """Sign in as ``user``: by device when the node offers ``sync``, else (or when the node
    does not know this device) with the password from ``password``.

    With ``register`` the account is created unless it exists (``USER_EXISTS`` falls back to
    a password login), which keeps scripts idempotent; ``invite`` (§14.21) goes with the
    registration on an invite-only node. With ``reset`` (§14.21, a token from ``aronanet
    admin reset-password``) ``password`` is the NEW password and the device is not tried:
    the token is the point, and the node signs every other device out (``AUTH_FAILED`` for a
    token unknown, used or expired). Raises ``NodeError("AUTH_FAILED")`` (the node's words:
    "this device is not signed in as ...") when the device is unknown and there is no
    ``password``.
    """
    if reset is not None and password is not None:
        return await client.auth(user, await _ask(password), device_name=device_name, reset=reset)
    if client.syncing:
        try:
            return await client.auth(user)
        except NodeError as error:
            if error.code != "AUTH_FAILED" or password is None:
                raise
    if password is None:
        raise ClientError(
            "AUTH_FAILED", f"this node has no device sign-in: log in as {user} with your password"
        )
    secret = await _ask(password)
    if register:
        try:
            return await client.auth(
                user, secret, register=True, device_name=device_name, invite=invite
            )
        except NodeError as error:
            if error.code != "USER_EXISTS":
                raise
    return await client.auth(user, secret, device_name=device_name)


async def _ask(password: PasswordSource) -> str:
    answer = password()
    if inspect.isawaitable(answer):
        return await answer
    return answer


async def devices(client: ArtpClient) -> list[messages.DeviceInfo]:
    """§14.3 ``DEVICES``: this account's devices, most recently seen first."""
    reply = await client.request(messages.Devices())
    return [] if reply.devices is UNSET else list(reply.devices)


async def rename_device(client: ArtpClient, device: str, name: str) -> messages.Ok:
    """§14.3 ``DEVICE_RENAME``; ``NOT_FOUND`` for an id that is not this account's."""
    return await client.request(build_request(messages.DeviceRename, device=device, name=name))


async def revoke_device(client: ArtpClient, device: str) -> messages.Ok:
    """§14.3 ``DEVICE_REVOKE``: its sessions close at once (this one too, if it is ours)."""
    return await client.request(build_request(messages.DeviceRevoke, device=device))


async def change_password(client: ArtpClient, old: str, new: str) -> messages.Ok:
    """§14.3 ``PASSWORD``: every OTHER device of the account is revoked on success."""
    return await client.request(build_request(messages.ChangePassword, old=old, new=new))


async def conversation_pages(client: ArtpClient) -> AsyncIterator[messages.ConversationInfo]:
    """§14.5 ``CONVERSATIONS``, repeated with ``cursor: next`` until a reply has no ``next``."""
    cursor: str | None = None
    while True:
        request = (
            messages.Conversations() if cursor is None else messages.Conversations(cursor=cursor)
        )
        reply = await client.request(request)
        for conversation in reply.conversations or ():
            yield conversation
        if not isinstance(reply.next, str):
            return
        cursor = reply.next


async def conversations(client: ArtpClient) -> list[messages.ConversationInfo]:
    """Every conversation of the signed-in user, every page of it."""
    return [conversation async for conversation in conversation_pages(client)]


async def mark_read(client: ArtpClient, dest_type: str, dest: str, up_to: str) -> messages.Ok:
    """§14.6 ``READ``: the ``OK``'s ``read`` is the marker now (it never moves backwards)."""
    return await client.request(
        build_request(messages.MarkRead, dest_type=dest_type, dest=dest, up_to=up_to)
    )
