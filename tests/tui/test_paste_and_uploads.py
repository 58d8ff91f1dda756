"""Pasting a path sends the image; the pieces of an upload that need no node."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from textual import events
from textual.widgets import Static
from tui_helpers import lively_state, open_chat, snapshot_app, wait_for

from aronanet.client.transfers import LocalImage
from aronanet.proto.messages import Ok
from aronanet.tui.theme import LIGHT
from aronanet.tui.uploads import own_image_event, pasted_image_path
from aronanet.tui.widgets.chat_input import ChatInput
from aronanet.tui.widgets.inline_image import ImageUpload


def picture(tmp_path: Path, name: str = "arona picture.png") -> Path:
    path = tmp_path / name
    Image.new("RGB", (4, 4), (255, 255, 255)).save(path)
    return path


def test_a_pasted_path_is_an_image_in_any_of_the_forms_terminals_paste(tmp_path: Path) -> None:
    path = picture(tmp_path)
    escaped = str(path).replace(" ", "\\ ")
    uri = "file://" + str(path).replace(" ", "%20")
    for pasted in (str(path), f"'{path}'", f'"{path}"', escaped, uri, f"  {path}\n"):
        assert pasted_image_path(pasted) == path, pasted


def test_text_that_is_not_an_existing_image_file_is_just_text(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    for pasted in ("hello there", str(notes), str(tmp_path / "missing.png"), f"{notes}\n{notes}"):
        assert pasted_image_path(pasted) is None, pasted


def test_own_image_event_is_built_from_the_ok_and_the_local_metadata(tmp_path: Path) -> None:
    state = lively_state()
    image = LocalImage(
        path=tmp_path / "x.png", name="x.png", mime="image/png", size=90, sha256="d" * 64,
        width=4, height=3,
    )  # fmt: skip
    ok = Ok(transfer="t-1", image="d" * 64, msg_id="m77", timestamp=1234)
    event = own_image_event(ok, image, sender="sensei", buffer=state.buffers["#general"], now=9)
    assert (event.id, event.timestamp, event.from_, event.dest) == (
        "m77",
        1234,
        "sensei",
        "#general",
    )
    assert event.attachment and (event.attachment.width, event.attachment.height) == (4, 3)
    dm = own_image_event(ok, image, sender="sensei", buffer=state.buffers["hoshino"], now=9)
    assert (dm.dest_type, dm.dest) == ("user", "hoshino")


async def test_pasting_an_image_path_starts_an_upload_instead_of_typing_it(tmp_path: Path) -> None:
    path = picture(tmp_path)
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        chat_input = app.screen.query_one(ChatInput)
        chat_input.post_message(events.Paste(str(path)))
        await wait_for(pilot, lambda: bool(app.screen.query(ImageUpload)))
        widget = app.screen.query_one(ImageUpload)
        caption = str(widget.query_one(".image-upload--caption", Static).content)
        assert caption.startswith("uploading arona picture.png")
        assert chat_input.value == ""
        chat_input.post_message(events.Paste("just words"))
        await pilot.pause()
        assert chat_input.value == "just words"
