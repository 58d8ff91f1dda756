"""The durable outbox: entries survive a crash, leave only on their OK, keep typed order."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aronanet.client.outbox import Outbox, new_cid, outbox_path


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return outbox_path(tmp_path / "config", "127.0.0.1:7777", "Arona")


def test_cid_is_128_random_bits_in_base64url() -> None:
    cid = new_cid()
    assert len(cid) == 22
    assert set(cid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert new_cid(lambda n: b"\xff" * n) == "_____________________w"
    assert new_cid() != cid


def test_path_is_one_file_per_node_and_user_ignoring_case(tmp_path: Path) -> None:
    same = outbox_path(tmp_path, "127.0.0.1:7777", "arona")
    assert outbox_path(tmp_path, "127.0.0.1:7777", "ARONA") == same
    assert outbox_path(tmp_path, "127.0.0.1:7778", "arona") != same
    assert outbox_path(tmp_path, "127.0.0.1:7777", "plana") != same
    assert same.parent == tmp_path / "outbox"


def test_entries_come_back_in_the_order_they_were_added(path: Path) -> None:
    outbox = Outbox(path)
    added = [outbox.add("channel", "#general", f"line {n}", 100 + n) for n in range(5)]
    assert outbox.pending() == added
    assert Outbox(path).pending() == added


def test_an_entry_leaves_only_when_its_ok_is_recorded(path: Path) -> None:
    outbox = Outbox(path)
    first = outbox.add("user", "plana", "hello", 1)
    second = outbox.add("user", "plana", "hello", 2)  # same text: a different message
    assert first.cid != second.cid
    outbox.done(first.cid)
    outbox.done("never-added")  # a duplicate OK for something already forgotten
    assert Outbox(path).pending() == [second]


def test_the_file_is_private_to_its_owner(path: Path) -> None:
    Outbox(path).add("channel", "#general", "secret plans", 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_entry_survives_a_process_killed_right_after_adding_it(path: Path) -> None:
    """The crash between append and OK: the killed process never got an OK; the next one
    finds the entry, with the same cid, so the resend is recognised as a duplicate."""
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from aronanet.client.outbox import Outbox\n"
        "entry = Outbox(Path(sys.argv[1])).add('channel', '#general', 'typed offline', 7)\n"
        "print(entry.cid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == -signal.SIGKILL
    [entry] = Outbox(path).pending()
    assert entry.cid == result.stdout.strip()
    assert (entry.dest, entry.content, entry.queued_at) == ("#general", "typed offline", 7)


def test_a_torn_last_line_is_skipped_and_the_file_repaired(path: Path) -> None:
    outbox = Outbox(path)
    kept = outbox.add("channel", "#general", "whole", 1)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"op":"add","cid":"torn","dest_type":"chan')  # a crash mid-write
    reopened = Outbox(path)
    assert reopened.pending() == [kept]
    later = reopened.add("channel", "#general", "after the crash", 2)
    assert Outbox(path).pending() == [kept, later]


def test_compaction_keeps_only_pending_entries_in_order(path: Path) -> None:
    outbox = Outbox(path, compact_after=4)
    entries = [outbox.add("channel", "#general", f"m{n}", n) for n in range(6)]
    for entry in entries[:4]:
        outbox.done(entry.cid)  # the fourth done triggers compaction (4 finished > 2 pending)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [record["cid"] for record in records] == [e.cid for e in entries[4:]]
    assert all(record["op"] == "add" for record in records)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Outbox(path).pending() == entries[4:]


def test_compaction_removes_the_file_once_nothing_is_pending(path: Path) -> None:
    outbox = Outbox(path, compact_after=2)
    entries = [outbox.add("user", "plana", f"m{n}", n) for n in range(2)]
    for entry in entries:
        outbox.done(entry.cid)
    assert not path.exists()
    assert Outbox(path).pending() == []


def test_compaction_waits_while_pending_entries_outnumber_finished_ones(path: Path) -> None:
    outbox = Outbox(path, compact_after=2)
    entries = [outbox.add("user", "plana", f"m{n}", n) for n in range(5)]
    outbox.done(entries[0].cid)
    outbox.done(entries[1].cid)
    assert len(path.read_text().splitlines()) == 7  # 5 adds and 2 dones, not yet rewritten
    assert Outbox(path).pending() == entries[2:]


def test_a_damaged_line_in_the_middle_is_skipped_with_a_warning(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(path)
    first = outbox.add("channel", "#general", "one", 1)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    second = Outbox(path).add("channel", "#general", "two", 2)
    assert Outbox(path).pending() == [first, second]
    assert "unreadable line 2" in caplog.text
    assert "one" not in caplog.text  # never log message content
    assert os.path.exists(path)
