"""render: one safe line per event for `aronanet tail`."""

from __future__ import annotations

import json

from aronanet.client.render import format_time, render_json, render_line, safe_text
from aronanet.proto import messages

T = 1234567890


def msg(**fields: object) -> messages.MsgEvent:
    base: dict[str, object] = {
        "id": "m1",
        "from_": "sensei",
        "dest_type": "channel",
        "dest": "#general",
        "content": "Hello Arona!",
        "timestamp": T,
    }
    return messages.MsgEvent(**(base | fields))  # type: ignore[arg-type]


def test_a_channel_message_reads_time_channel_sender_text() -> None:
    assert render_line(msg()) == f"{format_time(T)} #general <sensei> Hello Arona!"


def test_a_direct_message_shows_sender_and_recipient() -> None:
    line = render_line(msg(dest_type="user", dest="arona", content="hi"))
    assert line == f"{format_time(T)} [sensei -> arona] hi"


def test_join_part_and_topic_name_the_channel_and_the_user() -> None:
    join = messages.JoinEvent(id="j", from_="arona", channel="#general", timestamp=T)
    part = messages.PartEvent(id="p", from_="arona", channel="#general", timestamp=T)
    topic = messages.TopicEvent(id="t", from_="arona", channel="#general", topic="tea", timestamp=T)
    assert render_line(join).endswith("#general * arona joined")
    assert render_line(part).endswith("#general * arona left")
    assert render_line(topic).endswith("#general * arona set the topic: tea")


def test_an_image_attachment_is_described_with_its_hash() -> None:
    attachment = messages.Attachment(
        image="ab" * 32, name="arona.png", mime="image/png", size=70000, width=64, height=32
    )
    line = render_line(msg(content="", attachment=attachment))
    assert line.endswith(f"<sensei> [image arona.png 64x32 70000 bytes sha256:{'ab' * 32}]")


def test_terminal_escape_sequences_in_content_are_shown_escaped() -> None:
    line = render_line(msg(content="\x1b]0;pwned\x07red\x1b[31m"))
    assert "\x1b" not in line and "\x07" not in line
    assert line.endswith("\\x1b]0;pwned\\x07red\\x1b[31m")


def test_a_multi_line_message_stays_on_one_line() -> None:
    assert "\n" not in render_line(msg(content="one\ntwo\r\n"))
    assert render_line(msg(content="one\ntwo")).endswith("one\\ntwo")


def test_bidi_overrides_cannot_disguise_text() -> None:
    assert safe_text("abc\u202edcba") == "abc\\u202edcba"


def test_ordinary_unicode_is_left_alone() -> None:
    assert safe_text("アロナ 🎉 ça") == "アロナ 🎉 ça"


def test_json_output_is_the_wire_form_with_from() -> None:
    decoded = json.loads(render_json(msg()))
    assert decoded["from"] == "sensei"
    assert decoded["type"] == "MSG"


def test_an_error_event_shows_its_code_and_message() -> None:
    error = messages.Error(code="RATE_LIMITED", message="slow down")
    assert render_line(error) == "error RATE_LIMITED: slow down"


def test_a_read_marker_from_another_device_names_the_conversation_and_the_message() -> None:
    read = messages.ReadEvent(id="r", dest_type="user", dest="plana", read="42", timestamp=T)
    assert render_line(read) == f"{format_time(T)} plana * read up to 42"
