"""``chat.json``: the per-node device sign-in survives a round trip; a hand-edited file with
the wrong shapes in ``devices`` loses only those entries."""

from __future__ import annotations

import json
from pathlib import Path

from aronanet.tui.cli import startup_settings
from aronanet.tui.settings import FILE_NAME, ChatSettings, load_settings, save_settings


def test_devices_round_trip_and_the_command_line_keeps_them(tmp_path: Path) -> None:
    saved = ChatSettings("a:1", "sensei", "dark", {"a:1": "sensei", "b:2": "hoshino"})
    save_settings(tmp_path, saved)
    assert load_settings(tmp_path) == saved
    started = startup_settings(tmp_path, "b:2", None)
    assert (started.address, started.user, started.device_user("b:2")) == (
        "b:2",
        "sensei",
        "hoshino",
    )
    assert started.device_user("c:3") == ""


def test_wrong_shapes_in_devices_are_dropped(tmp_path: Path) -> None:
    raw = {"address": "a:1", "devices": {"a:1": "sensei", "b:2": 7, "c:3": ""}}
    (tmp_path / FILE_NAME).write_text(json.dumps(raw), encoding="utf-8")
    assert load_settings(tmp_path).devices == {"a:1": "sensei"}
    (tmp_path / FILE_NAME).write_text(json.dumps({"devices": ["a:1"]}), encoding="utf-8")
    assert load_settings(tmp_path).devices == {}
