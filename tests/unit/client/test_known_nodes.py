"""KnownNodes: trust on first use, as ArTP/1.0 §2 requires, in a file people may edit."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from aronanet.client.known_nodes import KnownNodes
from aronanet.errors import KeyChangedError

KEY_A = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
KEY_B = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs"


@pytest.fixture
def known(tmp_path: Path) -> KnownNodes:
    return KnownNodes(tmp_path / "config" / "known_nodes")


def test_check_reports_new_for_an_address_never_seen(known: KnownNodes) -> None:
    assert known.check("node:7777", KEY_A) == "new"
    assert known.lookup("node:7777") is None


def test_check_reports_known_once_the_same_key_is_pinned(known: KnownNodes) -> None:
    known.pin("node:7777", KEY_A)
    assert known.check("node:7777", KEY_A) == "known"


def test_check_raises_key_changed_with_both_fingerprints(known: KnownNodes) -> None:
    known.pin("node:7777", KEY_A)
    with pytest.raises(KeyChangedError) as caught:
        known.check("node:7777", KEY_B)
    assert (caught.value.address, caught.value.pinned, caught.value.presented) == (
        "node:7777",
        KEY_A,
        KEY_B,
    )


def test_pins_are_per_address(known: KnownNodes) -> None:
    known.pin("node:7777", KEY_A)
    assert known.check("ws://node:7778/artp", KEY_B) == "new"


def test_pin_replaces_the_earlier_key_of_the_same_address(known: KnownNodes) -> None:
    known.pin("node:7777", KEY_A)
    known.pin("node:7777", KEY_B)
    assert known.entries() == {"node:7777": KEY_B}


def test_forget_removes_only_that_address(known: KnownNodes) -> None:
    known.pin("one:7777", KEY_A)
    known.pin("two:7777", KEY_B)
    known.forget("one:7777")
    assert known.entries() == {"two:7777": KEY_B}


def test_forget_of_an_unknown_address_creates_no_file(known: KnownNodes) -> None:
    known.forget("nowhere:7777")
    assert not known.path.exists()


def test_file_is_written_with_mode_0600_in_a_0700_directory(known: KnownNodes) -> None:
    known.pin("node:7777", KEY_A)
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(known.path.parent.stat().st_mode) == 0o700


def test_rewriting_tightens_a_file_left_world_readable(known: KnownNodes) -> None:
    known.path.parent.mkdir(parents=True)
    known.path.write_text(f"node:7777 {KEY_A}\n")
    known.path.chmod(0o666)
    known.pin("other:7777", KEY_B)
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600


def test_file_has_one_address_and_fingerprint_per_line(known: KnownNodes) -> None:
    known.pin("one:7777", KEY_A)
    known.pin("[::1]:7000", KEY_B)
    assert known.path.read_text() == f"one:7777 {KEY_A}\n[::1]:7000 {KEY_B}\n"


def test_writes_leave_no_temporary_files_behind(known: KnownNodes) -> None:
    known.pin("one:7777", KEY_A)
    known.forget("one:7777")
    assert [p.name for p in known.path.parent.iterdir()] == ["known_nodes"]


def test_corrupt_lines_are_ignored_but_kept_on_rewrite(known: KnownNodes) -> None:
    known.path.parent.mkdir(parents=True)
    corrupt = ["just-an-address", "node:1 not-a-fingerprint", f"a:1 {KEY_A} extra"]
    known.path.write_text("# my nodes\n\n" + "\n".join(corrupt) + f"\ngood:7777 {KEY_A}\n")
    assert known.entries() == {"good:7777": KEY_A}
    assert known.check("just-an-address", KEY_B) == "new"
    known.pin("new:7777", KEY_B)
    text = known.path.read_text()
    assert all(line in text for line in ["# my nodes", *corrupt])
    assert known.entries() == {"good:7777": KEY_A, "new:7777": KEY_B}


def test_undecodable_bytes_do_not_stop_the_other_pins_from_loading(known: KnownNodes) -> None:
    known.path.parent.mkdir(parents=True)
    known.path.write_bytes(b"\xff\xfe garbage\n" + f"good:7777 {KEY_A}\n".encode())
    assert known.lookup("good:7777") == KEY_A


def test_changes_by_another_process_are_seen_without_reloading(known: KnownNodes) -> None:
    other = KnownNodes(known.path)
    other.pin("node:7777", KEY_A)
    assert known.lookup("node:7777") == KEY_A


@pytest.mark.parametrize(
    ("address", "fingerprint"),
    [("has space:1", KEY_A), ("", KEY_A), ("#comment", KEY_A), ("node:1", "MD5:abc")],
)
def test_pin_refuses_what_could_not_be_read_back(
    known: KnownNodes, address: str, fingerprint: str
) -> None:
    with pytest.raises(ValueError):
        known.pin(address, fingerprint)
    assert not known.path.exists()
