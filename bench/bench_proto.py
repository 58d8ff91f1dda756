"""Micro-benchmarks of the sans-I/O protocol core, next to raw AES-GCM in the same run.

    .venv/bin/python bench/bench_proto.py [--messages N] [--handshakes N]

Prints a table: per-call cost of the hot paths on the contract's example MSG event
(ArTP-1.0 §3), the raw ``AESGCM.encrypt``/``decrypt`` of the same bytes for comparison, the
protocol overhead as a multiple of raw (target: below 3x), and handshakes per second with
both sides in one process. Best of several repeats, so a noisy neighbour inflates nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aronanet.proto.codec import decode_event, encode
from aronanet.proto.connection import Connection, Role
from aronanet.proto.messages import Event, Hello, MsgEvent

REPEATS = 5
CONTRACT_MSG_EVENT = MsgEvent(
    id="01JD5Q9YQ4N7B0C2V3X8Z6K1MA",
    from_="sensei",
    dest_type="channel",
    dest="#general",
    content="Hello Arona!",
    timestamp=1234567890,
)
HELLO = Hello(node="bench")


@dataclass(frozen=True)
class Row:
    name: str
    seconds_per_call: float
    baseline: float | None = None

    def render(self) -> str:
        micros = self.seconds_per_call * 1e6
        ratio = "" if self.baseline is None else f"{self.seconds_per_call / self.baseline:6.2f}x"
        return f"{self.name:<46}{micros:>10.2f} µs{ratio:>10}"


def best_per_call(run: Callable[[], int]) -> float:
    """Best seconds per call over REPEATS runs; ``run`` returns how many calls it made."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        calls = run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def open_pair() -> tuple[Connection, Connection]:
    client = Connection(Role.CLIENT, X25519PrivateKey.generate())
    server = Connection(Role.SERVER, X25519PrivateKey.generate(), hello=HELLO)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    client.events_received()
    server.events_received()
    return client, server


def bench_raw(plaintext: bytes, count: int) -> tuple[float, float]:
    aead = AESGCM(os.urandom(32))
    nonces = [n.to_bytes(12, "big") for n in range(count)]

    def encrypt() -> int:
        for nonce in nonces:
            aead.encrypt(nonce, plaintext, None)
        return count

    ciphertexts = [aead.encrypt(nonce, plaintext, None) for nonce in nonces]

    def decrypt() -> int:
        for nonce, ciphertext in zip(nonces, ciphertexts, strict=True):
            aead.decrypt(nonce, ciphertext, None)
        return count

    return best_per_call(encrypt), best_per_call(decrypt)


def bench_send(plaintext: bytes, count: int, *, encode_each: bool) -> float:
    def run() -> int:
        _, server = open_pair()
        for _ in range(count):
            if encode_each:
                server.send(CONTRACT_MSG_EVENT)
            else:
                server.send_encoded(plaintext)
            server.data_to_send()
        return count

    return best_per_call(run)


def bench_receive(count: int) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        client, server = open_pair()
        frames = []
        for _ in range(count):
            server.send(CONTRACT_MSG_EVENT)
            frames.append(server.data_to_send())
        start = time.perf_counter()
        for frame in frames:
            client.receive_data(frame)
            client.events_received()
        best = min(best, (time.perf_counter() - start) / count)
    return best


def bench_decode(plaintext: bytes, count: int) -> tuple[float, float]:
    """(our ``decode_event``, a bare msgspec decode into the same union): the JSON floor."""
    bare = msgspec.json.Decoder(Event)

    def ours() -> int:
        for _ in range(count):
            decode_event(plaintext)
        return count

    def floor() -> int:
        for _ in range(count):
            bare.decode(plaintext)
        return count

    return best_per_call(ours), best_per_call(floor)


def bench_handshakes(count: int) -> float:
    def run() -> int:
        for _ in range(count):
            open_pair()
        return count

    return best_per_call(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--handshakes", type=int, default=200)
    args = parser.parse_args()
    plaintext = encode(CONTRACT_MSG_EVENT)
    raw_encrypt, raw_decrypt = bench_raw(plaintext, args.messages)
    decode, bare_decode = bench_decode(plaintext, args.messages)
    receive_floor = raw_decrypt + bare_decode
    rows = [
        Row("raw AESGCM.encrypt", raw_encrypt),
        Row("encrypt+frame: send_encoded+data_to_send",
            bench_send(plaintext, args.messages, encode_each=False), raw_encrypt),
        Row("encode+encrypt+frame: send+data_to_send",
            bench_send(plaintext, args.messages, encode_each=True), raw_encrypt),
        Row("raw AESGCM.decrypt", raw_decrypt),
        Row("raw AESGCM.decrypt + bare msgspec decode", receive_floor, raw_decrypt),
        Row("codec.decode_event alone", decode, bare_decode),
        Row("deframe+decrypt+decode: receive_data+events",
            bench_receive(args.messages), receive_floor),
    ]  # fmt: skip
    handshake = bench_handshakes(args.handshakes)
    print(f"ArTP proto core, MSG event of {len(plaintext)} bytes, best of {REPEATS}")
    print(f"{'operation':<46}{'per call':>13}{'vs raw':>10}")
    for row in rows:
        print(row.render())
    print(f"{'handshake (both sides, one process)':<46}{handshake * 1e6:>10.2f} µs"
          f"{1 / handshake:>10.0f}/s")  # fmt: skip


if __name__ == "__main__":
    main()
