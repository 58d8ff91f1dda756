"""ArTP §2-§3 over real sockets: handshake, accounts, channels, messages, history."""

from __future__ import annotations

from aronanet.errors import ErrorCode
from aronanet.identity import fingerprint, public_key_bytes
from aronanet.proto.messages import (
    Auth,
    History,
    Join,
    JoinEvent,
    ListChannels,
    MsgEvent,
    Part,
    PartEvent,
    Ping,
    PongReply,
    SendMsg,
    Topic,
    TopicEvent,
)

from .driver import PASSWORD


async def test_handshake_presents_node_key_and_real_limits_in_hello(start_node, connect):
    node = await start_node(max_content=1234)
    client = await connect(node)
    assert client.fingerprint == node.fingerprint
    assert client.fingerprint == fingerprint(public_key_bytes(node._key))
    assert client.hello is not None
    assert client.hello.limits.max_content == 1234
    assert client.hello.limits.max_frame == 65535


async def test_register_then_login_from_another_session(node, connect):
    first = await connect(node)
    ok = await first.login("Sensei")
    assert ok.user == "Sensei" and ok.channels == []
    second = await connect(node)
    ok = await second.login("sensei", register=False)
    assert ok.user == "Sensei"


async def test_names_are_unique_case_insensitively(node, connect):
    await (await connect(node)).login("Arona")
    error = await (await connect(node)).error(Auth(user="ARONA", password=PASSWORD, register=True))
    assert error.code == ErrorCode.USER_EXISTS


async def test_login_failures_all_say_auth_failed(node, connect):
    await (await connect(node)).login("plana")
    client = await connect(node)
    wrong_password = await client.error(Auth(user="plana", password="not the password"))
    unknown_user = await client.error(Auth(user="nobody", password=PASSWORD))
    assert wrong_password.code == unknown_user.code == ErrorCode.AUTH_FAILED
    assert wrong_password.message == unknown_user.message


async def test_requests_before_auth_get_not_authenticated_but_ping_works(node, connect):
    client = await connect(node)
    error = await client.error(Join(channel="#general"))
    assert error.code == ErrorCode.NOT_AUTHENTICATED
    assert error.re is not None
    pong = await client.request(Ping())
    assert isinstance(pong, PongReply) and pong.re is not None


async def test_invalid_password_length_is_invalid(node, connect):
    client = await connect(node)
    await client.send_plaintext(
        b'{"version":"1.0","type":"AUTH","user":"u","password":"short","id":"a"}'
    )
    reply = await client.replies.setdefault("a", client.expect_reply("a"))
    assert reply.code == ErrorCode.INVALID and reply.re == "a"


async def test_channel_message_reaches_members_and_senders_other_sessions(node, connect):
    alice_laptop, alice_phone, bob = await connect(node), await connect(node), await connect(node)
    await alice_laptop.login("alice")
    await alice_phone.login("alice", register=False)
    await bob.login("bob")
    await alice_laptop.ok(Join(channel="#general"))
    await bob.ok(Join(channel="#general"))
    ok = await alice_laptop.ok(
        SendMsg(dest_type="channel", dest="#general", content="Hello Arona!")
    )
    for receiver in (bob, alice_phone):
        event = await receiver.next_event_of(MsgEvent)
        assert (event.id, event.timestamp) == (ok.msg_id, ok.timestamp)
        assert (event.from_, event.dest, event.content) == ("alice", "#general", "Hello Arona!")
    await alice_laptop.no_event(MsgEvent)  # the sending session gets its OK, not the event


async def test_join_is_announced_and_membership_outlives_the_session(node, connect):
    bob = await connect(node)
    await bob.login("bob")
    await bob.ok(Join(channel="#club"))
    carol = await connect(node)
    await carol.login("carol")
    ok = await carol.ok(Join(channel="#club"))
    assert ok.members == ["bob", "carol"] and ok.topic == ""
    joined = await bob.next_event()
    assert isinstance(joined, JoinEvent) and joined.from_ == "carol" and joined.channel == "#club"
    await carol.close()
    again = await connect(node)
    assert (await again.login("carol", register=False)).channels == ["#club"]


async def test_part_reaches_remaining_members_and_ends_membership(node, connect):
    bob, carol = await connect(node), await connect(node)
    await bob.login("bob")
    await carol.login("carol")
    for client in (bob, carol):
        await client.ok(Join(channel="#club"))
    await carol.ok(Part(channel="#club"))
    parted = await bob.next_event_of(PartEvent)
    assert parted.from_ == "carol"
    error = await carol.error(SendMsg(dest_type="channel", dest="#club", content="still here?"))
    assert error.code == ErrorCode.NOT_IN_CHANNEL


async def test_topic_is_set_by_members_and_announced(node, connect):
    bob, carol = await connect(node), await connect(node)
    await bob.login("bob")
    await carol.login("carol")
    await bob.ok(Join(channel="#club"))
    error = await carol.error(Topic(channel="#club", topic="hi"))
    assert error.code == ErrorCode.NOT_IN_CHANNEL
    await carol.ok(Join(channel="#club"))
    assert (await carol.ok(Topic(channel="#club", topic="Kivotos news"))).topic == "Kivotos news"
    event = await bob.next_event_of(TopicEvent)
    assert event.topic == "Kivotos news" and event.from_ == "carol"
    listing = await bob.ok(ListChannels())
    assert [(c.name, c.topic, c.members) for c in listing.channel_list] == [
        ("#club", "Kivotos news", 2)
    ]


async def test_direct_message_reaches_recipient_and_is_stored_for_offline_users(node, connect):
    alice, bob = await connect(node), await connect(node)
    await alice.login("alice")
    await bob.login("bob")
    await bob.close()
    ok = await alice.ok(SendMsg(dest_type="user", dest="BOB", content="are you there?"))
    bob = await connect(node)
    await bob.login("bob", register=False)
    history = await bob.ok(History(dest_type="user", dest="alice"))
    [message] = history.messages
    assert (message.id, message.from_, message.dest_type, message.dest) == (
        ok.msg_id,
        "alice",
        "user",
        "bob",
    )
    await alice.ok(SendMsg(dest_type="user", dest="bob", content="welcome back"))
    live = await bob.next_event_of(MsgEvent)
    assert live.content == "welcome back" and live.dest == "bob"


async def test_direct_message_to_unknown_user_is_no_such_user(node, connect):
    alice = await connect(node)
    await alice.login("alice")
    error = await alice.error(SendMsg(dest_type="user", dest="ghost", content="boo"))
    assert error.code == ErrorCode.NO_SUCH_USER


async def test_history_pages_before_and_after_oldest_first(node, connect):
    alice = await connect(node)
    await alice.login("alice")
    await alice.ok(Join(channel="#log"))
    ids = [
        (await alice.ok(SendMsg(dest_type="channel", dest="#log", content=f"m{n}"))).msg_id
        for n in range(10)
    ]
    latest = await alice.ok(History(dest_type="channel", dest="#log", limit=3))
    assert [m.id for m in latest.messages] == ids[-3:]
    before = await alice.ok(History(dest_type="channel", dest="#log", before=ids[5], limit=3))
    assert [m.id for m in before.messages] == ids[2:5]
    after = await alice.ok(History(dest_type="channel", dest="#log", after=ids[5], limit=3))
    assert [m.id for m in after.messages] == ids[6:9]
    everything = await alice.ok(History(dest_type="channel", dest="#log", after=ids[0], limit=200))
    assert [m.content for m in everything.messages] == [f"m{n}" for n in range(1, 10)]


async def test_history_of_a_channel_needs_membership(node, connect):
    alice = await connect(node)
    await alice.login("alice")
    error = await alice.error(History(dest_type="channel", dest="#secret"))
    assert error.code == ErrorCode.NOT_IN_CHANNEL


async def test_history_that_would_exceed_a_frame_is_trimmed_to_the_newest(node, connect):
    alice = await connect(node)
    await alice.login("alice")
    await alice.ok(Join(channel="#big"))
    for _ in range(20):
        await alice.ok(SendMsg(dest_type="channel", dest="#big", content="x" * 4000))
    history = await alice.ok(History(dest_type="channel", dest="#big", limit=200))
    assert 10 <= len(history.messages) < 20
    latest = await alice.ok(History(dest_type="channel", dest="#big", limit=1))
    assert history.messages[-1].id == latest.messages[0].id


async def test_tcp_and_websocket_users_talk_in_one_channel(node, connect):
    tcp, ws = await connect(node), await connect(node, ws=True)
    await tcp.login("tcpuser")
    await ws.login("wsuser")
    for client in (tcp, ws):
        await client.ok(Join(channel="#mixed"))
    await ws.ok(SendMsg(dest_type="channel", dest="#mixed", content="from the browser"))
    assert (await tcp.next_event_of(MsgEvent)).content == "from the browser"
    await tcp.ok(SendMsg(dest_type="channel", dest="#mixed", content="from the terminal"))
    assert (await ws.next_event_of(MsgEvent)).content == "from the terminal"
