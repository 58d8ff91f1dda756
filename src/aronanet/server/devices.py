"""Accounts on devices (ArTP/1.1 §14.3): AUTH with device sign-in, DEVICES, PASSWORD.

A device is a client static key, already proved by the Noise handshake; its id is the key's
fingerprint (§11). A password login on a session with ``sync`` records the device for the
account; later sessions from that key sign in with ``AUTH`` and no password, which costs no
hash and is never throttled. Revoking a device (or changing the password, which revokes
every other device) forgets it and closes its sessions at once, on every node: the closing
is a ``Delivery`` through the broker, like any event.

A session without ``sync`` keeps ArTP/1.0 exactly: a password is required and nothing is
recorded. The new requests themselves are accepted from any session (§14.1).
"""

from __future__ import annotations

import logging
import re

from msgspec import UNSET

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.features import SYNC
from aronanet.proto.messages import (
    Auth,
    ChangePassword,
    DeviceInfo,
    DeviceRename,
    DeviceRevoke,
    Devices,
    Ok,
)
from aronanet.server.broker.base import CloseSessions, Delivery
from aronanet.server.handlers import HandlerTable, RequestContext
from aronanet.server.logs import log_event
from aronanet.server.store.rows import DeviceSighting, user_key

logger = logging.getLogger(__name__)

#: §14.3: a device's name when neither ``device_name`` nor a usable client name was given.
DEFAULT_DEVICE_NAME = "device"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_NAME = 64


async def handle_auth(ctx: RequestContext, request: Auth) -> Ok:
    """§3 AUTH (log in, or ``register: true``); §14.3 device sign-in without a password."""
    session = ctx.session
    if session.user is not None:
        raise RequestError(ErrorCode.INVALID, f"this session is already logged in as {ctx.user}")
    if request.password is UNSET:
        name = await _sign_in_device(ctx, request)
    else:
        name = await _log_in(ctx, request, request.password)
    if await ctx.services.store.is_disabled(user_key(name)):  # §14.20
        raise RequestError(ErrorCode.ACCOUNT_DISABLED, f"the account {name} is disabled")
    session.authenticate(name)
    log_event(logger, "logged_in", session=session.id, user=name, registered=request.register)
    synced = SYNC in session.features
    channels = await ctx.services.channels.of_user(name)
    return ctx.ok_fitting(
        "channels",
        channels,
        user=name,
        channel_count=len(channels),
        device=session.device if synced and session.device else UNSET,
    )


async def _log_in(ctx: RequestContext, request: Auth, password: str) -> str:
    """A password login or registration; with ``sync``, the device is recorded (§14.3)."""
    services, session = ctx.services, ctx.session
    accounts = services.accounts
    if isinstance(request.reset, str):  # §14.21: a reset token and the new password
        name = await accounts.reset_password(request.user, request.reset, password, session.peer)
        await services.store.revoke_devices_except(name, None)
        close = CloseSessions(spare_device=None, reason="password reset")
        services.router.publish(Delivery((user_key(name),), b"", session.id, close=close))
    elif request.register:
        invite = request.invite if isinstance(request.invite, str) else None
        name = await accounts.register(request.user, password, session.peer, invite)
    else:
        name = await accounts.login(request.user, password, session.peer, session.device)
    if SYNC in session.features and session.device is not None:
        given = request.device_name
        sighting = DeviceSighting(
            user=name,
            device=session.device,
            name=given if isinstance(given, str) else device_name(session.client_name),
            named=isinstance(given, str),
            seen=services.now(),
            address=session.peer,
        )
        await services.store.record_device(sighting, services.limits.max_devices)
    return name


async def _sign_in_device(ctx: RequestContext, request: Auth) -> str:
    """§14.3: no password: the session's key must be a recorded device of the account.

    Costs no password hash and never touches the login throttle: the handshake already
    proved the key.
    """
    session, services = ctx.session, ctx.services
    if request.register:
        raise RequestError(ErrorCode.INVALID, "registering an account needs a `password`")
    if SYNC not in session.features:
        raise RequestError(
            ErrorCode.INVALID, "AUTH needs a `password` (device sign-in needs the `sync` feature)"
        )
    name = await services.accounts.canonical_name(request.user)
    if (
        name is not None
        and session.device is not None
        and await services.store.device_signed_in(
            name, session.device, services.now(), session.peer
        )
    ):
        return name
    raise RequestError(
        ErrorCode.AUTH_FAILED,
        f"this device is not signed in as {request.user}: log in with your password",
    )


def device_name(client: str | None) -> str:
    """§14.3: a device's default name: the client's message-1 name, made a valid device
    name (control characters dropped, at most 64 characters), else ``device``."""
    cleaned = _CONTROL.sub("", client or "")[:_MAX_NAME].strip()
    return cleaned or DEFAULT_DEVICE_NAME


async def handle_devices(ctx: RequestContext, request: Devices) -> Ok:
    """§14.3 DEVICES: the account's devices, the most recently seen first."""
    rows = await ctx.services.store.devices_of(ctx.user)
    current = ctx.session.device
    devices = [
        DeviceInfo(
            id=row.device,
            name=row.name,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            address=row.address,
            current=row.device == current,
        )
        for row in rows
    ]
    return ctx.ok_fitting("devices", devices)


async def handle_device_rename(ctx: RequestContext, request: DeviceRename) -> Ok:
    """§14.3 DEVICE_RENAME: ``NOT_FOUND`` unless the id is one of the account's devices."""
    if not await ctx.services.store.rename_device(ctx.user, request.device, request.name):
        raise _no_such_device(request.device)
    return ctx.ok(device=request.device, name=request.name)


async def handle_device_revoke(ctx: RequestContext, request: DeviceRevoke) -> Ok:
    """§14.3 DEVICE_REVOKE: forget the device and close every session of it at once; the
    requesting session, if it is that device, right after this ``OK``."""
    session = ctx.session
    if not await ctx.services.store.revoke_device(ctx.user, request.device):
        raise _no_such_device(request.device)
    log_event(logger, "device_revoked", session=session.id, user=ctx.user)
    _close_sessions(ctx, CloseSessions(devices=(request.device,), reason="device revoked"))
    if request.device == session.device:
        session.close_after_replies("device revoked")
    return ctx.ok(device=request.device)


async def handle_password(ctx: RequestContext, request: ChangePassword) -> Ok:
    """§14.3 PASSWORD: a wrong ``old`` is ``AUTH_FAILED`` (throttled like a login); success
    revokes every OTHER device of the account and closes their sessions."""
    services, session = ctx.services, ctx.session
    await services.accounts.change_password(ctx.user, request.old, request.new, session.peer)
    await services.store.revoke_devices_except(ctx.user, session.device)
    spare = CloseSessions(spare_device=session.device, reason="password changed")
    _close_sessions(ctx, spare)
    return ctx.ok()


def _close_sessions(ctx: RequestContext, close: CloseSessions) -> None:
    """Close the matching sessions of this account on every node (not the requesting one)."""
    delivery = Delivery((user_key(ctx.user),), b"", ctx.session.id, close=close)
    ctx.services.router.publish(delivery)


def _no_such_device(device: str) -> RequestError:
    return RequestError(ErrorCode.NOT_FOUND, f"no device {device[:128]} on this account")


def register_device_handlers(table: HandlerTable) -> None:
    table.register(Auth, handle_auth)
    table.register(Devices, handle_devices)
    table.register(DeviceRename, handle_device_rename, rate_limited=True)
    table.register(DeviceRevoke, handle_device_revoke, rate_limited=True)
    table.register(ChangePassword, handle_password, rate_limited=True)
