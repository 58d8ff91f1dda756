"""ArTP/1.1 §14.3 against a real node: devices are recorded by a password login with
``sync``, sign in without the password, are listed, renamed and revoked (their sessions
closed at once), and a password change revokes every other device."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.proto.messages import (
    ChangePassword,
    DeviceRename,
    DeviceRevoke,
    Devices,
    Join,
    MsgEvent,
)

from .driver import PASSWORD
from .sync_support import Serve, Served, auth, fresh_user, say

MAX_DEVICES = 4
NEW_PASSWORD = "a brand new passphrase"


#: A login throttle that allows one failed login (and then none for a long time).
STRICT_THROTTLE = {"burst": 1, "refill_per_second": 0.001}


@pytest.fixture(scope="module")
def sync_node(serve: Serve) -> Iterator[Served]:
    with serve("devices", limits={"max_devices": MAX_DEVICES}) as node:
        yield node


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_a_device_signs_in_again_without_its_password(sync_node, session, ws) -> None:
    user, key = fresh_user(), X25519PrivateKey.generate()
    first = await session(sync_node, user, key=key, register=True, ws=ws)
    again = await session(sync_node, key=key, ws=ws)
    reply = await again.ok(auth(user.upper(), None))  # names match case-insensitively
    assert (reply.user, reply.device) == (user, first.fingerprint_of_key())


async def test_an_unknown_key_is_refused_with_a_clear_message(sync_node, session) -> None:
    user = fresh_user()
    await session(sync_node, user, register=True)
    stranger = await session(sync_node)
    refused = await stranger.error(auth(user, None))
    assert refused.code == "AUTH_FAILED"
    assert refused.message == f"this device is not signed in as {user}: log in with your password"


async def test_an_unknown_user_is_refused_the_same_way(sync_node, session) -> None:
    client = await session(sync_node)
    refused = await client.error(auth("nobody_here", None))
    assert refused.code == "AUTH_FAILED"
    assert "not signed in as nobody_here" in refused.message


async def test_a_device_of_one_account_cannot_sign_in_to_another(sync_node, session) -> None:
    mine, theirs, key = fresh_user(), fresh_user(), X25519PrivateKey.generate()
    await session(sync_node, mine, key=key, register=True)
    await session(sync_node, theirs, register=True)
    refused = await (await session(sync_node, key=key)).error(auth(theirs, None))
    assert refused.code == "AUTH_FAILED"


async def test_a_login_without_sync_records_no_device(sync_node, session) -> None:
    user, key = fresh_user(), X25519PrivateKey.generate()
    await session(sync_node, user, key=key, register=True, features=())
    refused = await (await session(sync_node, key=key)).error(auth(user, None))
    assert refused.code == "AUTH_FAILED"


async def test_register_without_a_password_is_invalid(sync_node, session) -> None:
    refused = await (await session(sync_node)).error(auth(fresh_user(), None, register=True))
    assert refused.code == "INVALID"


async def test_device_sign_in_is_never_throttled(serve: Serve, session) -> None:
    # A throttle of one failure: wrong passwords until the node refuses every password...
    with serve("strict", login_throttle=STRICT_THROTTLE) as node:
        user, key = fresh_user(), X25519PrivateKey.generate()
        await session(node, user, key=key, register=True)
        codes = [(await (await session(node)).error(auth(user, "wrong!!!"))).code]
        while codes[-1] != "RATE_LIMITED" and len(codes) < 5:
            codes.append((await (await session(node)).error(auth(user, "wrong!!!"))).code)
        assert codes[-1] == "RATE_LIMITED"
        throttled = await (await session(node)).error(auth(user, PASSWORD))
        assert throttled.code == "RATE_LIMITED"
        # ...but the device still signs in, again and again, and even its password login
        # is not throttled: it is a recorded device of the account (§9, §14.3).
        for _ in range(3):
            reply = await (await session(node, key=key)).ok(auth(user, None))
            assert reply.user == user
        await session(node, user, key=key)


async def test_devices_lists_name_times_address_and_the_current_one(sync_node, session) -> None:
    user, laptop_key = fresh_user(), X25519PrivateKey.generate()
    laptop = await session(sync_node, user, key=laptop_key, register=True, device_name="laptop")
    phone = await session(sync_node, user)  # unnamed: the client's message-1 name
    listed = (await phone.ok(Devices())).devices
    assert {(d.id, d.name, d.current, d.address) for d in listed} == {
        (phone.fingerprint_of_key(), "sync-test/1.0", True, "127.0.0.1"),
        (laptop.fingerprint_of_key(), "laptop", False, "127.0.0.1"),
    }
    ids = {d.id for d in listed}
    assert ids == {laptop.fingerprint_of_key(), phone.fingerprint_of_key()}
    for device in listed:
        assert device.first_seen <= device.last_seen
    # A device sign-in (a second later: times are whole seconds) refreshes last_seen.
    await asyncio.sleep(1.1)
    again = await session(sync_node, user, key=laptop_key, password=None)
    listed = (await again.ok(Devices())).devices
    assert listed[0].id == laptop.fingerprint_of_key()  # newest last_seen first
    assert (listed[0].name, listed[0].current) == ("laptop", True)


async def test_a_device_is_renamed_and_an_unknown_one_is_not_found(sync_node, session) -> None:
    user = fresh_user()
    client = await session(sync_node, user, register=True)
    device = client.fingerprint_of_key()
    reply = await client.ok(DeviceRename(device=device, name="kitchen tablet ✨"))
    assert (reply.device, reply.name) == (device, "kitchen tablet ✨")
    assert [d.name for d in (await client.ok(Devices())).devices] == ["kitchen tablet ✨"]
    missing = await client.error(DeviceRename(device="SHA256:nothing", name="x"))
    assert missing.code == "NOT_FOUND"


@pytest.mark.parametrize("name", ["", "x" * 65, "tab\there", "new\nline", "del\x7f"])
async def test_a_bad_device_name_is_invalid(sync_node, session, name) -> None:
    client = await session(sync_node, fresh_user(), register=True)
    refused = await client.error(DeviceRename(device=client.fingerprint_of_key(), name=name))
    assert refused.code == "INVALID"


async def test_a_device_name_of_64_characters_is_accepted(sync_node, session) -> None:
    client = await session(sync_node, fresh_user(), register=True, device_name="é" * 64)
    assert [d.name for d in (await client.ok(Devices())).devices] == ["é" * 64]


async def test_revoking_a_device_closes_its_sessions_at_once(sync_node, session) -> None:
    user, channel, phone_key = fresh_user(), f"#{fresh_user('c')}", X25519PrivateKey.generate()
    laptop = await session(sync_node, user, register=True)
    phone = await session(sync_node, user, key=phone_key)
    phone_too = await session(sync_node, user, key=phone_key, password=None)
    reply = await laptop.ok(DeviceRevoke(device=phone.fingerprint_of_key()))
    assert reply.device == phone.fingerprint_of_key()
    await phone.wait_closed(timeout=2.0)
    await phone_too.wait_closed(timeout=2.0)
    # The laptop keeps working; the phone's key can no longer sign in without a password.
    await laptop.ok(Join(channel=channel))
    refused = await (await session(sync_node, key=phone_key)).error(auth(user, None))
    assert refused.code == "AUTH_FAILED"
    assert [d.current for d in (await laptop.ok(Devices())).devices] == [True]
    # A later password login records it again.
    await session(sync_node, user, key=phone_key)
    await (await session(sync_node, key=phone_key)).ok(auth(user, None))


async def test_revoking_the_own_device_answers_ok_then_closes(sync_node, session) -> None:
    client = await session(sync_node, fresh_user(), register=True)
    reply = await client.ok(DeviceRevoke(device=client.fingerprint_of_key()))
    assert reply.device == client.fingerprint_of_key()
    await client.wait_closed(timeout=2.0)


async def test_revoking_an_unknown_device_is_not_found(sync_node, session) -> None:
    client = await session(sync_node, fresh_user(), register=True)
    assert (await client.error(DeviceRevoke(device="SHA256:nope"))).code == "NOT_FOUND"


async def test_other_accounts_sessions_are_untouched_by_a_revoke(sync_node, session) -> None:
    mine, theirs, channel = fresh_user(), fresh_user(), f"#{fresh_user('c')}"
    shared_key = X25519PrivateKey.generate()  # one client key used for two accounts
    me = await session(sync_node, mine, key=shared_key, register=True)
    them = await session(sync_node, theirs, key=shared_key, register=True)
    await me.ok(DeviceRevoke(device=me.fingerprint_of_key()))
    await me.wait_closed(timeout=2.0)
    await them.ok(Join(channel=channel))
    await (await session(sync_node, key=shared_key)).ok(auth(theirs, None))


async def test_a_password_change_revokes_every_other_device(sync_node, session) -> None:
    user, channel = fresh_user(), f"#{fresh_user('c')}"
    here_key, other_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    here = await session(sync_node, user, key=here_key, register=True)
    same_device = await session(sync_node, user, key=here_key, password=None)
    other = await session(sync_node, user, key=other_key)
    legacy = await session(sync_node, user, features=())  # a 1.0 session of the account
    await here.ok(ChangePassword(old=PASSWORD, new=NEW_PASSWORD))
    await other.wait_closed(timeout=2.0)
    await legacy.wait_closed(timeout=2.0)
    # This device's sessions stay, and it still signs in without a password.
    await same_device.ok(Join(channel=channel))
    await (await session(sync_node, key=here_key)).ok(auth(user, None))
    refused = await (await session(sync_node, key=other_key)).error(auth(user, None))
    assert refused.code == "AUTH_FAILED"
    assert (await (await session(sync_node)).error(auth(user, PASSWORD))).code == "AUTH_FAILED"
    await session(sync_node, user, password=NEW_PASSWORD)


async def test_a_wrong_old_password_changes_nothing(sync_node, session) -> None:
    user = fresh_user()
    here = await session(sync_node, user, register=True)
    other = await session(sync_node, user)
    refused = await here.error(ChangePassword(old="not my password", new=NEW_PASSWORD))
    assert refused.code == "AUTH_FAILED"
    await other.ok(Devices())  # still open
    await session(sync_node, user, password=PASSWORD)


async def test_a_new_password_shorter_than_8_is_invalid(sync_node, session) -> None:
    client = await session(sync_node, fresh_user(), register=True)
    assert (await client.error(ChangePassword(old=PASSWORD, new="short"))).code == "INVALID"


async def test_past_max_devices_the_least_recently_seen_is_forgotten(sync_node, session) -> None:
    user = fresh_user()
    keys = [X25519PrivateKey.generate() for _ in range(MAX_DEVICES + 1)]
    clients = [await session(sync_node, user, key=keys[0], register=True)]
    clients += [await session(sync_node, user, key=key) for key in keys[1:MAX_DEVICES]]
    listed = (await clients[-1].ok(Devices())).devices
    assert len(listed) == MAX_DEVICES  # at the limit: all kept
    # Times are whole seconds: a second later, keys[0] is seen again, so one of keys[1:]
    # is now among the least recently seen, and a new device pushes exactly one of them out.
    await asyncio.sleep(1.1)
    await session(sync_node, user, key=keys[0], password=None)
    newest = await session(sync_node, user, key=keys[MAX_DEVICES])
    listed = {d.id for d in (await newest.ok(Devices())).devices}
    assert len(listed) == MAX_DEVICES
    assert {clients[0].fingerprint_of_key(), newest.fingerprint_of_key()} <= listed
    assert len({c.fingerprint_of_key() for c in clients[1:]} - listed) == 1


async def test_device_requests_need_a_login(sync_node, session) -> None:
    client = await session(sync_node)
    assert (await client.error(Devices())).code == "NOT_AUTHENTICATED"


async def test_a_revoked_device_session_gets_no_more_events(sync_node, session) -> None:
    user, friend, channel = fresh_user(), fresh_user(), f"#{fresh_user('c')}"
    laptop = await session(sync_node, user, register=True)
    phone = await session(sync_node, user)
    speaker = await session(sync_node, friend, register=True)
    for client in (laptop, speaker):
        await client.ok(Join(channel=channel))
    await laptop.ok(DeviceRevoke(device=phone.fingerprint_of_key()))
    await phone.wait_closed(timeout=2.0)
    await speaker.ok(say(channel, "after the revoke"))
    assert (await laptop.next_event_of(MsgEvent)).content == "after the revoke"


def test_refusals_never_log_a_traceback(sync_node) -> None:
    assert "Traceback" not in sync_node.log_text()
