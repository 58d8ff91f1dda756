"""Failed messages go back to the queue only when the user asks (/retry), in their places."""

from __future__ import annotations

from aronanet.client.state import (
    ChatState,
    Delivery,
    EventsReceived,
    LinkDown,
    LoggedIn,
    MessageQueued,
    RetryRequested,
    SendFailed,
    SendStarted,
    failed_lines,
    latest_attachment,
    queued_outgoing,
    reduce,
)
from aronanet.proto.messages import Attachment, MsgEvent


def run(state: ChatState, *actions: object) -> ChatState:
    for action in actions:
        state = reduce(state, action)  # type: ignore[arg-type]
    return state


def with_two_failures() -> ChatState:
    state = run(
        ChatState(),
        LoggedIn("sensei", ("#general", "#lounge"), 900),
        MessageQueued("#general", "first", 1000),
        MessageQueued("#general", "second", 1001),
        MessageQueued("#lounge", "elsewhere", 1002),
    )
    first, second = (line.id for line in state.buffers["#general"].lines)
    elsewhere = state.buffers["#lounge"].lines[0].id
    return run(
        state,
        SendStarted(first),
        SendFailed(first, "NO_SUCH_USER: nobody"),
        SendStarted(second),
        SendStarted(elsewhere),
        LinkDown("connection reset", 1.0, 1003),
    )


def test_retry_requeues_every_failed_line_of_the_buffer_in_order() -> None:
    state = with_two_failures()
    assert [line.text for line in failed_lines(state.buffers["#general"])] == ["first", "second"]
    state = reduce(state, RetryRequested("#general"))
    queued = [(buffer.key, line.text) for buffer, line in queued_outgoing(state)]
    assert queued == [("#general", "first"), ("#general", "second")]
    assert all(line.failure == "" for line in state.buffers["#general"].lines)


def test_retry_leaves_other_buffers_failed() -> None:
    state = reduce(with_two_failures(), RetryRequested("#general"))
    assert [line.delivery for line in state.buffers["#lounge"].lines] == [Delivery.FAILED]


def test_retry_of_an_unknown_buffer_changes_nothing() -> None:
    state = with_two_failures()
    assert reduce(state, RetryRequested("#nowhere")) is state


def test_latest_attachment_is_the_newest_image_of_the_buffer() -> None:
    def picture(name: str) -> Attachment:
        return Attachment(image="c" * 64, name=name, mime="image/png", size=9, width=3, height=3)

    events = tuple(
        MsgEvent(
            id=f"m{n}",
            from_="hoshino",
            dest_type="channel",
            dest="#general",
            content="",
            timestamp=1000 + n,
            attachment=picture(f"{n}.png"),
        )
        for n in range(3)
    )
    state = run(ChatState(), LoggedIn("sensei", ("#general",), 900), EventsReceived(events))
    found = latest_attachment(state.buffers["#general"])
    assert found is not None and found.name == "2.png"
    assert latest_attachment(state.buffers["*arona*"]) is None
