"""``aronanet backup`` of a running node under write load, and ``aronanet restore``.

A real node process takes messages from clients that wait for each ``OK``; a backup runs
meanwhile. The restored node must show in HISTORY every message acknowledged before the
backup began, keep its identity, and its files must stay private.
"""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import subprocess
import tarfile
from pathlib import Path

from aronanet.proto.messages import History, Join, SendMsg
from support.real_node import aronanet_command

from .conftest import NodeProcess
from .driver import TestClient

CHANNEL = "#backup"
SENDERS = 4


async def run_aronanet(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *aronanet_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def all_history(client: TestClient) -> list[str]:
    """Every message of CHANNEL, oldest first, paging with ``after``."""
    contents: list[str] = []
    after = "0"
    while True:
        ok = await client.ok(History(dest_type="channel", dest=CHANNEL, after=after, limit=200))
        assert isinstance(ok.messages, list)
        if not ok.messages:
            return contents
        contents += [event.content for event in ok.messages]
        after = ok.messages[-1].id


async def test_an_online_backup_under_load_restores_every_acknowledged_message(
    node_process, tmp_path
):
    node: NodeProcess = node_process("--rate-limit", "off")
    (node.data_dir / "images" / "ab").mkdir(parents=True)
    (node.data_dir / "images" / "ab" / "ab12").write_bytes(b"an image blob")
    clients = [await TestClient.connect(node.port) for _ in range(SENDERS)]
    for number, client in enumerate(clients):
        await client.login(f"writer{number}")
        await client.ok(Join(channel=CHANNEL))
    acknowledged: list[str] = []
    stop = asyncio.Event()

    async def write(number: int, client: TestClient) -> None:
        sent = 0
        while not stop.is_set():
            content = f"w{number}-{sent}"
            await client.ok(SendMsg(dest_type="channel", dest=CHANNEL, content=content))
            acknowledged.append(content)
            sent += 1

    writers = [asyncio.create_task(write(n, c)) for n, c in enumerate(clients)]
    while len(acknowledged) < 200:
        assert not any(writer.done() for writer in writers), "a writer failed"
        await asyncio.sleep(0.05)
    before_backup = list(acknowledged)
    archive = tmp_path / "node.backup.tar"
    status, out, err = await run_aronanet(
        "backup", str(node.data_dir), str(archive), "--config", str(node.config_path)
    )
    during_backup = len(acknowledged) - len(before_backup)
    stop.set()
    await asyncio.gather(*writers)
    for client in clients:
        await client.close()
    assert status == 0, err
    assert "database: 100%" in err  # progress shown
    assert during_backup > 0, "the load went on while the backup ran"
    assert mode_of(archive) == 0o600
    original_fingerprint = node.wait_for_log(r"Fingerprint (\S+)")[1]
    assert original_fingerprint in out
    node.stop()

    restored_dir = tmp_path / "restored"
    status, out, err = await run_aronanet("restore", str(archive), str(restored_dir))
    assert status == 0, err
    assert mode_of(restored_dir) == 0o700
    assert mode_of(restored_dir / "node.key") == 0o600
    assert mode_of(restored_dir / "aronanet.sqlite3") == 0o600
    assert mode_of(restored_dir / "images" / "ab") == 0o700
    assert (restored_dir / "images" / "ab" / "ab12").read_bytes() == b"an image blob"
    assert (restored_dir / "config.toml").read_text() == node.config_path.read_text()
    with sqlite3.connect(restored_dir / "aronanet.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restored = NodeProcess(restored_dir, rate_limit=False)
    node_process.track(restored.start())
    assert restored.wait_for_log(r"Fingerprint (\S+)")[1] == original_fingerprint
    reader = await TestClient.connect(restored.port)
    await reader.login("writer0", register=False)
    history = await all_history(reader)
    await reader.close()
    missing = set(before_backup) - set(history)
    assert not missing, f"{len(missing)} acknowledged messages missing, e.g. {sorted(missing)[:3]}"
    assert len(history) == len(set(history))  # nothing twice
    assert set(history) <= set(acknowledged)  # nothing invented (or half-written)

    # A restore never overwrites: not a running node's directory, not a non-empty one.
    for flags in ((), ("--force",)):
        status, _, err = await run_aronanet("restore", str(archive), str(restored_dir), *flags)
        assert status == 1 and "another node (PID" in err
    assert restored.running
    restored.stop()
    status, _, err = await run_aronanet("restore", str(archive), str(restored_dir))
    assert status == 1 and "is not empty" in err and "--force" in err


async def test_restore_force_moves_the_old_contents_aside(node_process, tmp_path):
    node: NodeProcess = node_process()
    archive = tmp_path / "first.tar"
    status, _, err = await run_aronanet("backup", str(node.data_dir), str(archive))
    assert status == 0, err
    status, _, err = await run_aronanet("backup", str(node.data_dir), str(archive))
    assert status == 1 and "exists" in err
    inside = node.data_dir / "self.tar"
    status, _, err = await run_aronanet("backup", str(node.data_dir), str(inside))
    assert status == 1 and "outside the data directory" in err and not inside.exists()
    node.stop()
    target = tmp_path / "target"
    target.mkdir()
    (target / "old-note").write_text("keep me")
    status, out, err = await run_aronanet("restore", str(archive), str(target), "--force")
    assert status == 0, err
    aside = next(tmp_path.glob("target.replaced-*"))
    assert (aside / "old-note").read_text() == "keep me"
    assert not (target / "old-note").exists()
    assert (target / "node.key").is_file()
    assert str(aside) in out


async def test_restore_refuses_what_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.tar"
    with tarfile.open(bogus, "w") as archive:
        archive.add(__file__, arcname="../escape.py")
    status, _, err = await run_aronanet("restore", str(bogus), str(tmp_path / "d"))
    assert status == 1 and "not an AronaNET backup" in err
    assert not (tmp_path / "escape.py").exists()


async def test_restore_refuses_a_backup_with_an_entry_outside_it_before_writing(tmp_path):
    hostile = tmp_path / "hostile.tar"
    manifest = tmp_path / "MANIFEST.json"
    manifest.write_text('{"format": "aronanet-backup", "version": 1}')
    with tarfile.open(hostile, "w") as archive:
        archive.add(manifest, arcname="MANIFEST.json")
        archive.add(__file__, arcname="data/node.key")
        archive.add(__file__, arcname="data/../../escape.py")
    target = tmp_path / "d"
    status, _, err = await run_aronanet("restore", str(hostile), str(target))
    assert status == 1 and "unexpected entry 'data/../../escape.py'" in err
    assert not (tmp_path / "escape.py").exists()
    assert not (target / "node.key").exists()


async def test_backup_of_a_postgres_node_prints_pg_dump_guidance(tmp_path):
    data_dir = tmp_path / "pgnode"
    data_dir.mkdir()
    (data_dir / "node.key").write_bytes(b"k" * 32)
    url = "postgresql://aronanet:secret@127.0.0.1:5432/aronanet"
    archive = tmp_path / "pg.tar"
    status, _, err = await run_aronanet("backup", str(data_dir), str(archive), "--store", url)
    assert status == 0, err
    assert "pg_dump --format=custom" in err and "secret" not in err
    with tarfile.open(archive) as written:
        assert sorted(written.getnames()) == ["MANIFEST.json", "data/node.key"]
