"""The ``moderation`` part of the ``Store`` (§14.16-14.21) on BOTH backends: ownership,
admission, bans with their audit entries, tokens; and the upgrade of a database written
before it (its channels have no owner until an admin names one)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from aronanet.server.store import postgres_schema, schema
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.moderation_rows import AuditRecord
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import ChannelRow, UserRow
from aronanet.server.store.sqlite import SqliteStore

from .services import fresh_schema


def audit(action: str, **fields: str) -> AuditRecord:
    return AuditRecord(at=100, by="ann", action=action, **fields)  # type: ignore[arg-type]


@pytest.fixture
async def moderation_store(store: ModerationStore) -> ModerationStore:
    for name in ("Ann", "Bob", "Cy"):
        await store.create_user(UserRow(name, "hash", 1))
    return store


async def test_the_creator_owns_a_new_channel_and_only_one_owner(
    moderation_store: ModerationStore,
) -> None:
    store = moderation_store
    await store.join_channel(ChannelRow("#c", "", 1), "Ann")
    assert await store.joined("#c", "ann") == "owner"
    await store.join_channel(ChannelRow("#c", "", 1), "Bob")
    assert await store.joined("#c", "bob") == "member"
    await store.set_role("#c", "bob", "owner", audit("role:owner", user="Bob", channel="#c"))
    state = await store.channel_moderation("#c")
    assert state.roles == {"ann": "operator", "bob": "owner"}


async def test_admission_bans_and_invitations(moderation_store: ModerationStore) -> None:
    store = moderation_store
    await store.join_channel(ChannelRow("#c", "", 1), "Ann")
    await store.joined("#c", "ann")
    await store.set_modes("#c", {"invite_only": True}, audit("mode", channel="#c"))
    assert await store.invite_only_channels() == ["#c"]
    assert await store.admission("#c", "bob", False) == "invite_only"
    assert await store.admission("#c", "bob", True) is None  # an admin
    await store.invite("#c", "bob", "Ann", 5, audit("invite", user="Bob", channel="#c"))
    assert await store.admission("#c", "bob", False) is None
    await store.join_channel(ChannelRow("#c", "", 1), "Bob")
    assert await store.joined("#c", "bob") == "member"  # the invitation is used up
    record = audit("ban", user="Bob", channel="#c", reason="spam")
    assert await store.remove_member("#c", "bob", record, ("Bob", "Ann", "spam", 7))
    assert await store.admission("#c", "bob", True) == "banned"
    assert [(b.user, b.by, b.reason) for b in await store.bans("#c")] == [("Bob", "Ann", "spam")]
    assert [m for _, m in await store.load_memberships()] == ["Ann"]
    assert await store.unban("#c", "bob", audit("unban", user="Bob", channel="#c"))
    assert not await store.unban("#c", "bob", audit("unban", user="Bob", channel="#c"))
    assert [row.action for row in await store.audit(None, 10)] == ["unban", "ban", "invite", "mode"]


async def test_tokens_are_spent_and_expire(moderation_store: ModerationStore) -> None:
    store = moderation_store
    await store.add_token("h1", "invite", None, 2, 50, audit("registration_invite"))
    assert await store.use_token("h1", "invite", 10) == ""
    assert await store.use_token("h1", "reset", 10) is None  # another kind
    await store.refund_token("h1")
    assert await store.use_token("h1", "invite", 10) == ""
    assert await store.use_token("h1", "invite", 10) == ""
    assert await store.use_token("h1", "invite", 10) is None  # used up
    await store.add_token("h2", "reset", "bob", 1, 50, audit("password_reset", user="Bob"))
    assert await store.use_token("h2", "reset", 60) is None  # expired
    await store.add_token("h3", "reset", "bob", 1, 50, audit("password_reset", user="Bob"))
    assert await store.use_token("h3", "reset", 10) == "bob"


async def test_an_expired_channel_takes_its_moderation_with_it(
    moderation_store: ModerationStore,
) -> None:
    store = moderation_store
    await store.join_channel(ChannelRow("#c", "", 1), "Ann")
    await store.joined("#c", "ann")
    await store.remove_member("#c", "bob", audit("ban"), ("Bob", "Ann", "", 1))
    await store.part_channel("#c", "Ann")
    assert await store.delete_empty_channel("#c")
    await store.join_channel(ChannelRow("#c", "", 2), "Cy")
    assert await store.joined("#c", "cy") == "owner"  # a new channel, a new owner
    assert await store.admission("#c", "bob", False) is None


# ------------------------------------------------------------------ upgrades


def _before_moderation(registry: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {name: scripts for name, scripts in registry.items() if name != "moderation"}


OLD_CHANNEL = (
    "INSERT INTO users (name_key, name, password_hash, created) VALUES ('ann', 'Ann', 'h', 1);"
    "INSERT INTO channels (name, topic, created) VALUES ('#old', 'from before', 1);"
    "INSERT INTO memberships (channel, user_key) VALUES ('#old', 'ann');"
)


async def _check_upgraded(upgraded: ModerationStore) -> None:
    await upgraded.open()
    try:
        await upgraded.create_user(UserRow("Bob", "hash", 1))
        await upgraded.join_channel(ChannelRow("#old", "", 1), "Bob")
        assert await upgraded.joined("#old", "bob") == "member"  # no owner claimed
        assert (await upgraded.channel_moderation("#old")).roles == {}
        assert await upgraded.admission("#old", "bob", False) is None
        assert not await upgraded.is_disabled("ann")
    finally:
        await upgraded.close()


async def test_an_sqlite_database_before_moderation_upgrades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as old_version:
        old_version.setattr(schema, "_REGISTRY", _before_moderation(schema._REGISTRY))
        conn = sqlite3.connect(path, isolation_level=None)
        schema.migrate(conn)
        conn.executescript(OLD_CHANNEL)
        conn.close()
    await _check_upgraded(SqliteStore(path))


async def test_a_postgres_database_before_moderation_upgrades(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fresh_schema() as url:
        with monkeypatch.context() as old_version:
            old_version.setattr(
                postgres_schema, "MIGRATIONS", _before_moderation(postgres_schema.MIGRATIONS)
            )
            old = PostgresStore(url)
            await old.open()
            await old.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_CHANNEL)
        await _check_upgraded(PostgresStore(url))
