"""The terminal client's moderation, pure parts: the slash commands, the words for events
and refusals, durations and mode changes, invitation links, and the reducer (roles, modes,
lines, a kick of oneself, blocked users hidden)."""

from __future__ import annotations

from typing import Any

import pytest

from aronanet.client import commands as cmd
from aronanet.client.command_spec import CommandError
from aronanet.client.invite_link import parse_invite_link
from aronanet.client.moderation_commands import (
    BlockCommand,
    InviteCommand,
    ModeCommand,
    MuteCommand,
    RemoveCommand,
    RoleCommand,
)
from aronanet.client.moderation_words import (
    describe,
    explain,
    format_duration,
    member_sort_key,
    parse_duration,
    parse_mode_changes,
    role_mark,
)
from aronanet.client.state import (
    STATUS_KEY,
    BlocksLoaded,
    ChannelJoined,
    ChatState,
    EventsReceived,
    LoggedIn,
    ModerationReceived,
    RosterLoaded,
    reduce,
)
from aronanet.proto.messages import MsgEvent
from aronanet.proto.moderation import Action, ModerationEvent, Modes

FP = "SHA256:Jh4WTwNZduoQHnHxd9+2c3sI/EbzYe2ko0S+WWfk4/U"
TOKEN = "O8nkEWyzMGZkQdSkVhT47rp2glAhA0p27dSKPOxjtg8"


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("/kick kei spam and more", RemoveCommand("kick", "kei", "spam and more")),
        ("/ban kei", RemoveCommand("ban", "kei", "")),
        ("/unban kei", RemoveCommand("unban", "kei", "")),
        ("/mute kei 10m flooding", MuteCommand("kei", 600, "flooding")),
        ("/mute kei 1d12h", MuteCommand("kei", 129600, "")),
        ("/unmute kei", MuteCommand("kei", 0)),
        ("/op kei", RoleCommand("kei", "operator")),
        ("/deop kei", RoleCommand("kei", "member")),
        ("/voice kei", RoleCommand("kei", "voiced")),
        ("/devoice kei", RoleCommand("kei", "member")),
        ("/invite kei", InviteCommand("kei")),
        ("/mode", ModeCommand(None)),
        (
            "/mode +i -m +t",
            ModeCommand({"invite_only": True, "moderated": False, "topic_locked": True}),
        ),
        (
            "/mode +im-t",
            ModeCommand({"invite_only": True, "moderated": True, "topic_locked": False}),
        ),
        ("/block kei", BlockCommand("kei", True)),
        ("/block", BlockCommand(None)),
        ("/unblock kei", BlockCommand("kei", False)),
    ],
)
def test_moderation_commands_parse(line: str, parsed: object) -> None:
    assert cmd.parse(line) == parsed


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/kick", "usage: /kick USER [reason]"),
        ("/kick no/such", "is not a user name"),
        ("/mute kei", "usage: /mute USER DURATION [reason]"),
        ("/mute kei soon", "'soon' is not a duration"),
        ("/mute kei 31d", "at most 30 days"),
        ("/mute kei 0", "is not a duration"),
        ("/mode +x", "'x' is not a mode change"),
        ("/mode i", "'i' is not a mode change"),
        ("/op kei now", "usage: /op USER"),
        ("/unblock", "usage: /unblock USER"),
        ("/kick kei " + "x" * 391, "at most 390 characters"),
    ],
)
def test_moderation_commands_refuse_in_words(line: str, says: str) -> None:
    refused = cmd.parse(line)
    assert isinstance(refused, CommandError)
    assert says in refused.message


def test_help_lists_the_moderation_commands() -> None:
    listed = "\n".join(cmd.help_lines(None))
    for usage in ("/kick USER [reason]", "/mute USER DURATION [reason]", "/mode [+i -m +t]"):
        assert usage in listed
    assert any("+i invite-only" in line for line in cmd.help_lines("mode"))


def _event(action: Action, **fields: Any) -> ModerationEvent:
    return ModerationEvent(
        id=f"e-{action}",
        action=action,
        channel="#plaza",
        by="arona",
        timestamp=1,
        **fields,
    )


def test_events_read_as_sentences() -> None:
    assert (
        describe(_event("ban", user="kei", reason="spam"))
        == "kei was banned from #plaza by arona: spam"
    )
    assert (
        describe(_event("kick", user="Sensei"), me="sensei")
        == "you were kicked from #plaza by arona"
    )
    assert (
        describe(_event("role", user="kei", role="operator"))
        == "arona made kei an operator of #plaza"
    )
    assert (
        describe(_event("role", user="kei", role="member"))
        == "arona made kei a plain member of #plaza"
    )
    assert (
        describe(_event("mode", modes=Modes(invite_only=True))) == "arona set #plaza to invite-only"
    )
    assert describe(_event("mode", modes=Modes())) == "arona set #plaza to open (no modes)"
    assert describe(_event("invite", user="kei")) == "arona invited kei to #plaza"
    assert describe(_event("unmute", user="kei")).startswith("kei may speak again")


def test_marks_durations_modes_and_explanations() -> None:
    assert [role_mark(r) for r in ("owner", "operator", "voiced", "member", None)] == [
        "~",
        "@",
        "+",
        "",
        "",
    ]
    names = sorted(
        ["zed", "kei", "arona"],
        key=lambda n: member_sort_key(n, {"arona": "owner", "zed": "voiced"}.get(n)),
    )
    assert names == ["arona", "zed", "kei"]
    assert [parse_duration(t) for t in ("90", "10m", "2h", "1w", "1h30m", "2x", "", "31d")] == [
        90,
        600,
        7200,
        604800,
        5400,
        None,
        None,
        None,
    ]
    assert format_duration(5400) == "1h 30m"
    assert parse_mode_changes("-t") == {"topic_locked": False}
    assert isinstance(parse_mode_changes(""), str)
    assert "operators" in (explain("NOT_OPERATOR") or "")
    assert explain("RATE_LIMITED") is None


def test_invitation_links_parse_encoded_or_not() -> None:
    encoded = (
        "aronanet://127.0.0.1:7777/?fp=SHA256%3AJh4WTwNZduoQHnHxd9%2B2c3sI%2FEbzYe2ko0S%2BWWfk4%2FU"
    )
    link = parse_invite_link(f"{encoded}&invite={TOKEN}")
    assert (link.address, link.fingerprint, link.token) == ("127.0.0.1:7777", FP, TOKEN)
    assert (
        parse_invite_link(f"aronanet://Node.Example/?fp={FP}&invite={TOKEN}").address
        == "node.example:7777"
    )
    for bad in (
        f"aronanet://h:1/?invite={TOKEN}",
        f"aronanet://h:1/?fp={FP}&invite=bad!",
        "h:1",
        "aronanet:///?fp=x",
    ):
        with pytest.raises(ValueError):
            parse_invite_link(bad)


def _in_plaza() -> ChatState:
    state = reduce(ChatState(), LoggedIn("sensei", ("#plaza",), 1))
    return reduce(state, ChannelJoined("#plaza", "", ("arona", "kei", "sensei"), 1))


def test_the_reducer_keeps_roles_modes_and_lines() -> None:
    # "zed" was trimmed from JOIN's member list; the roster, every page of it, has them.
    roster = (("arona", "owner"), ("kei", "member"), ("sensei", "member"), ("Zed", "member"))
    state = reduce(_in_plaza(), RosterLoaded("#plaza", roster, frozenset()))
    assert state.buffers["#plaza"].roles == {"arona": "owner"}
    assert state.buffers["#plaza"].members == ("arona", "kei", "sensei", "Zed")
    state = reduce(state, ModerationReceived(_event("role", user="kei", role="voiced"), "voiced"))
    assert state.buffers["#plaza"].roles == {"arona": "owner", "kei": "voiced"}
    state = reduce(state, ModerationReceived(_event("mode", modes=Modes(moderated=True)), "mode"))
    assert state.buffers["#plaza"].modes == frozenset({"moderated"})
    state = reduce(state, ModerationReceived(_event("ban", user="kei"), "kei was banned"))
    plaza = state.buffers["#plaza"]
    assert plaza.members == ("arona", "sensei", "Zed") and "kei" not in plaza.roles
    assert [line.text for line in plaza.lines if line.kind == "info"][-1] == "kei was banned"
    again = reduce(state, ModerationReceived(_event("ban", user="kei"), "kei was banned"))
    assert again.buffers["#plaza"].lines == plaza.lines  # one line per event id


def test_a_kick_of_myself_closes_the_channel_and_tells_the_status_buffer() -> None:
    state = reduce(
        _in_plaza(), ModerationReceived(_event("kick", user="sensei"), "you were kicked")
    )
    assert "#plaza" not in state.buffers
    assert state.buffers[STATUS_KEY].lines[-1].text == "you were kicked"


def test_blocked_users_channel_messages_are_hidden() -> None:
    def said(msg_id: str, who: str) -> MsgEvent:
        return MsgEvent(
            id=msg_id, from_=who, dest_type="channel", dest="#plaza", content="hi", timestamp=1
        )

    state = reduce(_in_plaza(), EventsReceived((said("1", "kei"), said("2", "arona"))))
    state = reduce(state, BlocksLoaded(("KEI",)))
    assert [line.sender for line in state.buffers["#plaza"].lines if line.kind == "message"] == [
        "arona"
    ]
    state = reduce(state, EventsReceived((said("3", "kei"),)))
    assert [line.id for line in state.buffers["#plaza"].lines if line.kind == "message"] == ["2"]
