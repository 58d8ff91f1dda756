"""§14.15 search: query latency over 1,000,000 stored messages, and what indexing costs.

    .venv/bin/python bench/bench_search.py [--messages N] [--queries N] [--inserts N]
                                           [--cache-dir DIR] [--no-node]

1. Builds (once; cached under ``--cache-dir``, default ``$TMPDIR/aronanet-bench-search``) a
   node database of ``--messages`` messages in 2,000 channels and 500 DMs, written through
   the node's own schema (so the FTS5 triggers index every row) with ``executemany`` in one
   transaction. Words follow a Zipf law over 50,000 words (a few very common, most rare);
   each channel also has two words of its own (jargon nobody else uses).
2. A user in 20 channels (busy and quiet ones): p50/p95 of one-word queries through
   ``SqliteStore.search`` (limit 21, as the node asks for 20): common words, mid-frequency
   words, rare words, jargon of channels the user is NOT in (the worst case of the scope
   filter: many matches, none readable), a prefix and a two-word query.
3. The same through a real node (in-process, real TCP socket, ``ArtpClient``): the user
   registers and JOINs the same 20 channels, then SEARCHes.
4. CPU per stored message (``insert_message``; one message per commit like a quiet node,
   64 like a busy one; ``synchronous=OFF`` so the disk does not blur CPU time), with and
   without the FTS triggers; indexing in batches of ``INDEX_EVERY`` as ``SqliteStore`` does.
5. What that is of a whole ``MSG``: CPU of an ``aronanet serve`` process (``/proc``) per
   ``MSG`` to a channel, one at a time (each its own group commit, as on a quiet node) and
   32 in flight, with the FTS triggers and without them (dropped from the database).

Prints Markdown tables and the machine's load, for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from loadgen.procstat import cpu_seconds
from loadgen.servers import node_server

from aronanet.client.connection import ArtpClient
from aronanet.client.search import search
from aronanet.config import Limits
from aronanet.proto.search_query import parse_query
from aronanet.server.node import Node
from aronanet.server.settings import NodeSettings, PasswordHashing
from aronanet.server.store.lifecycle_sql import RevisionCounter
from aronanet.server.store.rows import MessageSearch, NewMessage, dm_conversation
from aronanet.server.store.schema import migrate
from aronanet.server.store.sqlite import INDEX_EVERY, SqliteStore, connect, index_pending
from aronanet.server.store.sqlite_messages import insert_message

VOCABULARY = 50_000
CHANNELS = 2_000
DM_PAIRS = 500
USER_CHANNELS = 20
SEED = 14_15
SCHEMA_VERSION = "v2"  # bump when the schema or the data's shape changes
#: What keeps the index in step (since search migration 2, a new message needs no trigger).
TRIGGERS = ("messages_fts_delete", "messages_fts_update")


def word(rank: int) -> str:
    """A pronounceable word per rank; every 7th carries an accent (folded by search)."""
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    letters, n = [], rank + 1
    while n:
        n, c = divmod(n, len(consonants))
        n, v = divmod(n, len(vowels))
        letters.append(consonants[c] + vowels[v])
    text = "".join(letters)
    return text.replace("e", "é", 1) if rank % 7 == 3 else text


def jargon(channel: int) -> list[str]:
    return [f"jarg{channel}x{k}" for k in range(2)]


def channel_name(number: int) -> str:
    return f"#ch{number}"


def generate(count: int) -> list[tuple[str, str, str, str, str, int]]:
    rng = random.Random(SEED)
    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]
    words = rng.choices([word(r) for r in range(VOCABULARY)], weights=weights, k=count * 12)
    channel_weights = [1 / (c + 1) ** 0.8 for c in range(CHANNELS)]
    places = rng.choices(
        range(CHANNELS + DM_PAIRS), weights=[*channel_weights, *[0.002] * DM_PAIRS], k=count
    )
    lengths = rng.choices(range(3, 21), k=count)
    rows, at = [], 0
    for number, (place, length) in enumerate(zip(places, lengths, strict=True)):
        text = words[at : at + length]
        at = (at + length) % (len(words) - 21)
        if place < CHANNELS:
            if number % 5 == 0:
                text.append(jargon(place)[number % 2])
            name = channel_name(place)
            rows.append(
                (name, f"u{number % 997}", "channel", name, " ".join(text), 1_700_000_000 + number)
            )
        else:
            a, b = f"u{place}", f"u{place + 1}"
            rows.append(
                (dm_conversation(a, b), a, "user", b, " ".join(text), 1_700_000_000 + number)
            )
    return rows


def build(path: Path, count: int) -> None:
    """The database of ``count`` messages, through the node's schema (triggers included)."""
    started = time.perf_counter()
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    conn = connect(tmp)
    conn.execute("PRAGMA synchronous=OFF")
    migrate(conn)
    rows = generate(count)
    generated = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO users (name_key, name, password_hash, created) VALUES ('bench','bench','x',1)"
    )
    conn.executemany(
        "INSERT INTO channels (name, topic, created) VALUES (?, '', 1)",
        [(channel_name(c),) for c in range(CHANNELS)],
    )
    conn.executemany(
        "INSERT INTO messages (conversation, sender, dest_type, dest, content, timestamp) "
        "VALUES (?,?,?,?,?,?)",
        rows,
    )
    index_pending(conn)
    conn.execute("COMMIT")
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")
    conn.close()
    tmp.rename(path)
    print(
        f"built {count:,} messages in {time.perf_counter() - started:.0f} s "
        f"(generating {generated - started:.0f} s), {path.stat().st_size / 1e6:.0f} MB"
    )


def user_channels() -> list[int]:
    """10 of the 50 busiest channels and 10 quiet ones."""
    rng = random.Random(SEED + 1)
    return sorted(rng.sample(range(50), 10) + rng.sample(range(500, CHANNELS), 10))


def query_classes(count: int, mine: list[int]) -> dict[str, list[str]]:
    rng = random.Random(SEED + 2)
    theirs = [c for c in range(50) if c not in mine]
    return {
        "common word (rank 1-10)": [word(rng.randrange(10)) for _ in range(count)],
        "mid word (rank 100-1,000)": [word(rng.randrange(100, 1000)) for _ in range(count)],
        "rare word (rank 20,000-50,000)": [
            word(rng.randrange(20_000, VOCABULARY)) for _ in range(count)
        ],
        "jargon of a busy channel not joined": [
            rng.choice(jargon(rng.choice(theirs))) for _ in range(count)
        ],
        "prefix (3 letters)": [word(rng.randrange(10, 200))[:3] + "*" for _ in range(count)],
        "two words": [
            f"{word(rng.randrange(30))} {word(rng.randrange(30, 3000))}" for _ in range(count)
        ],
    }


async def timed(
    run: Callable[[str], Awaitable[int]], queries: list[str]
) -> tuple[float, float, float]:
    latencies, found = [], 0
    for query in queries:
        started = time.perf_counter()
        found += await run(query)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return (
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.95) - 1],
        found / len(queries),
    )


def table(title: str, results: dict[str, tuple[float, float, float]]) -> None:
    print(f"\n{title}\n")
    print("| query | p50 ms | p95 ms | results per query |")
    print("|---|---:|---:|---:|")
    for name, (p50, p95, found) in results.items():
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {found:.1f} |")


async def store_latency(db: Path, classes: dict[str, list[str]], mine: list[int]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        copy = work / "aronanet.sqlite3"
        shutil.copy(db, copy)
        conn = sqlite3.connect(copy)
        conn.executemany(
            "INSERT INTO memberships (channel, user_key) VALUES (?, 'bench')",
            [(channel_name(c),) for c in mine],
        )
        conn.commit()
        conn.close()
        store = SqliteStore(copy)
        await store.open()

        async def run(query: str) -> int:
            rows = await store.search(MessageSearch("bench", parse_query(query), limit=21))
            return len(rows)

        results = {name: await timed(run, queries) for name, queries in classes.items()}
        await store.close()
        table(f"Store (`SqliteStore.search`, {USER_CHANNELS} channels, limit 21)", results)
    finally:
        shutil.rmtree(work)


async def node_latency(db: Path, classes: dict[str, list[str]], mine: list[int]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-search-node-"))
    try:
        shutil.copy(db, work / "aronanet.sqlite3")
        settings = NodeSettings(
            data_dir=work,
            host="127.0.0.1",
            port=0,
            ws_port=0,
            web_dir=None,
            hashing=PasswordHashing(time_cost=1, memory_kib=8, parallelism=1),
            limits=Limits(rate_limit_enabled=False, max_channels_per_user=100),
        )
        node = Node(settings)
        await node.start()
        client = await ArtpClient.connect(
            f"127.0.0.1:{node.tcp_port}", device_key=X25519PrivateKey.generate()
        )
        await client.auth("searcher", "password123", register=True)
        for channel in mine:
            await client.join(channel_name(channel))

        async def run(query: str) -> int:
            return len((await search(client, query)).results)

        results = {name: await timed(run, queries) for name, queries in classes.items()}
        await client.close()
        await node.stop()
        table(
            f"Node (`SEARCH` over TCP, `ArtpClient`, {USER_CHANNELS} channels, limit 20)", results
        )
    finally:
        shutil.rmtree(work)


def insert_cpu(count: int, indexed: bool, batch: int) -> float:
    """CPU µs per stored message, group commits of ``batch``, fsync off."""
    work = Path(tempfile.mkdtemp(prefix="bench-search-insert-"))
    try:
        conn = connect(work / "db.sqlite3")
        conn.execute("PRAGMA synchronous=OFF")
        migrate(conn)
        if not indexed:
            for trigger in TRIGGERS:
                conn.execute(f"DROP TRIGGER {trigger}")
        messages = [
            NewMessage(conversation, sender, dest_type, dest, content, timestamp)
            for conversation, sender, dest_type, dest, content, timestamp in generate(count)
        ]
        revisions = RevisionCounter()
        started = time.process_time()
        for first in range(0, count, batch):
            conn.execute("BEGIN IMMEDIATE")
            for message in messages[first : first + batch]:
                conn.execute("SAVEPOINT job")
                insert_message(conn, message, revisions)
                conn.execute("RELEASE job")
            revisions.save(conn)
            conn.execute("COMMIT")
            if indexed and (first + batch) % INDEX_EVERY < batch:  # as SqliteStore does
                conn.execute("BEGIN IMMEDIATE")
                index_pending(conn)
                conn.execute("COMMIT")
        cpu = time.process_time() - started
        conn.close()
        return cpu / count * 1e6
    finally:
        shutil.rmtree(work)


async def send_messages(port: int, count: int, in_flight: int, pid: int) -> float:
    """Node CPU µs per MSG: ``count`` MSGs to a channel of one member, ``in_flight`` at once."""
    client = await ArtpClient.connect(f"127.0.0.1:{port}", device_key=X25519PrivateKey.generate())
    user = f"w{random.randrange(10**9)}"
    await client.auth(user, "password123", register=True)
    await client.join(f"#{user}")
    rows = generate(count)
    started = cpu_seconds(pid)
    for first in range(0, count, in_flight):
        await asyncio.gather(
            *(
                client.send_message("channel", f"#{user}", content)
                for _, _, _, _, content, _ in rows[first : first + in_flight]
            )
        )
    cpu = cpu_seconds(pid) - started
    await client.close()
    return cpu / count * 1e6


def node_msg_cpu(count: int) -> dict[tuple[bool, int], float]:
    """Node CPU per MSG with and without the FTS triggers, one and 32 in flight."""
    work = Path(tempfile.mkdtemp(prefix="bench-search-msg-"))
    results: dict[tuple[bool, int], float] = {}
    try:
        for indexed in (True, False):
            server = node_server(work)
            with server:
                for in_flight in (1, 32):
                    results[(indexed, in_flight)] = min(
                        asyncio.run(send_messages(server.port, count, in_flight, server.pid))
                        for _ in range(2)
                    )
            conn = sqlite3.connect(work / "node" / "aronanet.sqlite3")
            for trigger in TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            conn.commit()
            conn.close()
        return results
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per class")
    parser.add_argument("--inserts", type=int, default=50_000)
    parser.add_argument("--node-messages", type=int, default=5_000)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "aronanet-bench-search"
    )
    parser.add_argument("--no-node", action="store_true", help="skip the node measurement")
    parser.add_argument(
        "--indexing-only",
        action="store_true",
        help="only the CPU that indexing adds to storing a message (no 1,000,000-message build)",
    )
    args = parser.parse_args()
    print(
        f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    if not args.indexing_only:
        query_latency(args)
    indexing_cost(args)
    print(f"\nload average after: {os.getloadavg()}")


def query_latency(args: argparse.Namespace) -> None:
    """p50/p95 of the query classes through the store and, unless --no-node, a node."""
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    db = args.cache_dir / f"messages-{args.messages}-{SCHEMA_VERSION}.sqlite3"
    if not db.exists():
        build(db, args.messages)
    mine = user_channels()
    classes = query_classes(args.queries, mine)
    asyncio.run(store_latency(db, classes, mine))
    if not args.no_node:
        asyncio.run(node_latency(db, classes, mine))


def indexing_cost(args: argparse.Namespace) -> None:
    """What the FTS index adds to the store's and the node's CPU per stored message."""
    print(f"\nStore CPU per stored message ({args.inserts:,} messages, best of 3)\n")
    print("| messages per commit | without FTS µs | with FTS µs | indexing adds |")
    print("|---:|---:|---:|---:|")
    for batch in (1, 64):
        without = min(insert_cpu(args.inserts, False, batch) for _ in range(3))
        with_index = min(insert_cpu(args.inserts, True, batch) for _ in range(3))
        added = 100 * (with_index / without - 1)
        print(f"| {batch} | {without:.1f} | {with_index:.1f} | {added:.0f} % |")
    node = node_msg_cpu(args.node_messages)
    print(f"\nNode CPU per MSG ({args.node_messages:,} MSGs, best of 2)\n")
    print("| MSGs in flight | with FTS µs | without µs | indexing adds |\n|---:|---:|---:|---:|")
    for in_flight in (1, 32):
        with_fts, without_fts = node[(True, in_flight)], node[(False, in_flight)]
        added = 100 * (with_fts / without_fts - 1)
        print(f"| {in_flight} | {with_fts:.0f} | {without_fts:.0f} | {added:.0f} % |")


if __name__ == "__main__":
    main()
