"""Image transfer speed: upload and download of a 10 MiB image over loopback (ArTP §4).

End to end, as a user sees it: ``upload_image`` (local checks, SHA-256, base64, Noise
encryption, the node's decryption, spilling, hashing, Pillow validation, the durable
commit of file and message, ``OK``) and ``download_image`` (``IMG_GET`` stream, decryption,
the SHA-256 check, the rename into the cache). Next to them, in the same run and process:

* the raw throughput of the same bytes through AES-256-GCM (encrypt then decrypt, in the
  same 32 KiB chunks, the work one transport hop cannot avoid): the reference the issue
  sets the target against (end to end at least 40% of it);
* the wire floor: what ArTP's framing costs per chunk at both ends with the project's own
  code and nothing else (base64, JSON encoding, AES-GCM encryption, decryption, JSON
  decoding, base64 decoding), in one process: no transfer over base64-in-JSON can beat it;
* the node's per-image checks, which come after the last chunk: SHA-256 and Pillow's
  validation of the image.

Per transfer it also reports the CPU time of each end (the clients in this process, the
node from ``/proc``), which a busy machine disturbs far less than the wall time.

Every round uploads a different image (the same bytes twice would be deduplicated, and
the second upload would skip the durable commit). One small warm-up round comes first
(imports, the validator thread, the database indexes). The node is a real
``aronanet serve`` child process (``loadgen/servers.py``).

Example: ``.venv/bin/python bench/bench_images.py --repeat 5``
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pybase64
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from loadgen import report
from loadgen.procstat import cpu_seconds
from loadgen.servers import node_server
from PIL import Image

from aronanet.client import ArtpClient
from aronanet.client.transfers import download_image, upload_image
from aronanet.proto import codec
from aronanet.proto.messages import Attachment, ImgChunk, MsgEvent
from aronanet.server.image_validation import validate_image

MIB = 1024 * 1024
CHUNK = 32768
PASSWORD = "correct horse battery"
T = TypeVar("T")


def noise_png(target_bytes: int, seed: int = 0) -> bytes:
    """An incompressible PNG of about ``target_bytes`` (random RGB pixels)."""
    side = int((target_bytes / 3) ** 0.5)
    pixels = random.Random(seed).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def best_mib_per_s(size: int, work: Callable[[], object], rounds: int = 5) -> float:
    """MiB/s of the fastest of ``rounds`` runs of ``work`` over ``size`` bytes."""
    fastest = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return size / MIB / fastest


def pieces_of(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def aes_gcm_mib_per_s(data: bytes) -> float:
    """Encrypt then decrypt ``data`` in 32 KiB pieces with AES-256-GCM, one process."""
    cipher = AESGCM(os.urandom(32))
    pieces = pieces_of(data)

    def run() -> None:
        for counter, piece in enumerate(pieces):
            nonce = counter.to_bytes(12, "big")
            cipher.decrypt(nonce, cipher.encrypt(nonce, piece, None), None)

    return best_mib_per_s(len(data), run)


def wire_floor_mib_per_s(data: bytes) -> float:
    """Both ends of ArTP's chunk framing in one process, with the project's own code:
    base64 + ``IMG_CHUNK`` JSON + AES-GCM out, AES-GCM + JSON + base64 back in."""
    cipher = AESGCM(os.urandom(32))
    pieces = pieces_of(data)

    def run() -> None:
        for index, piece in enumerate(pieces):
            nonce = index.to_bytes(12, "big")
            chunk = ImgChunk(
                transfer="t1",
                index=index,
                total=len(pieces),
                data=pybase64.b64encode_as_string(piece),
            )
            frame = cipher.encrypt(nonce, codec.encode(chunk), None)
            received = codec.decode_request(cipher.decrypt(nonce, frame, None))
            assert isinstance(received, ImgChunk)
            pybase64.b64decode(received.data, validate=True)

    return best_mib_per_s(len(data), run)


def node_checks(image: Path) -> tuple[float, float]:
    """MiB/s of the node's after-the-last-chunk checks: SHA-256 and Pillow's validation."""
    data = image.read_bytes()
    sha = best_mib_per_s(len(data), lambda: hashlib.sha256(data).hexdigest())
    check = best_mib_per_s(len(data), lambda: validate_image(image, max_pixels=40_000_000))
    return sha, check


@dataclass
class Transfers:
    """Per transfer of one kind: wall seconds, and CPU seconds of this process (both
    clients) and of the node (all its threads; ``/proc`` ticks of 10 ms, so read the sum)."""

    seconds: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    node_cpu: list[float] = field(default_factory=list)


async def timed(action: Awaitable[T], node_pid: int, into: Transfers) -> T:
    """Run ``action``, recording its wall time and the CPU time of both ends into ``into``."""
    wall, client, node = time.perf_counter(), time.process_time(), cpu_seconds(node_pid)
    result = await action
    into.seconds.append(time.perf_counter() - wall)
    into.client_cpu.append(time.process_time() - client)
    into.node_cpu.append(cpu_seconds(node_pid) - node)
    return result


async def measure(
    address: str, node_pid: int, images: list[Path], warm_up: Path, work: Path
) -> tuple[Transfers, Transfers]:
    """Upload then download each of ``images``; returns what each transfer took."""
    sender = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    reader = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    await sender.auth("bench_sender", PASSWORD, register=True)
    await reader.auth("bench_reader", PASSWORD, register=True)
    for client in (sender, reader):
        await client.join("#bench")
    uploads, downloads = Transfers(), Transfers()
    await round_trip(sender, reader, warm_up, work / "warm-up", node_pid, (Transfers(),) * 2)
    for number, image in enumerate(images):
        # A fresh cache each round: every download is real.
        cache = work / f"cache{number}"
        await round_trip(sender, reader, image, cache, node_pid, (uploads, downloads))
    await sender.close()
    await reader.close()
    return uploads, downloads


async def round_trip(
    sender: ArtpClient,
    reader: ArtpClient,
    image: Path,
    cache: Path,
    node_pid: int,
    into: tuple[Transfers, Transfers],
) -> None:
    """One upload, then the reader's download of it, each recorded into ``into``."""
    ok = await timed(upload_image(sender, image, "channel", "#bench"), node_pid, into[0])
    attachment = await image_attachment(reader, str(ok.msg_id))
    await timed(download_image(reader, attachment, cache), node_pid, into[1])


async def image_attachment(reader: ArtpClient, msg_id: str) -> Attachment:
    """The attachment of message ``msg_id``, as the reader received it."""
    async for event in reader.events():
        if isinstance(event, MsgEvent) and event.id == msg_id:
            assert isinstance(event.attachment, Attachment)
            return event.attachment
    raise RuntimeError("the connection closed before the image message arrived")


def percent_row(label: str, value: float, raw: float) -> tuple[str, ...]:
    return label, report.fmt(value), "", f"{100 * value / raw:.1f}%", "", ""


def transfer_row(label: str, size_mib: float, kind: Transfers, raw: float) -> tuple[str, ...]:
    """Median and best MiB/s, and CPU milliseconds per transfer at each end."""
    median = size_mib / statistics.median(kind.seconds)
    best = size_mib / min(kind.seconds)
    count = len(kind.seconds)
    return (
        label,
        report.fmt(median),
        report.fmt(best),
        f"{100 * median / raw:.1f}%",
        f"{1000 * sum(kind.client_cpu) / count:.0f}",
        f"{1000 * sum(kind.node_cpu) / count:.0f}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=float, default=10.0, help="image size (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="transfers of each kind (median)")
    parser.add_argument("--node-args", default="", help="extra `aronanet serve` flags")
    parser.add_argument("--work-dir", type=Path, help="keep the node's state and log here")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        # Under the node's max_image (10 MiB): the PNG overhead is kept inside the target.
        images = []
        for number in range(args.repeat):
            images.append(work / f"bench{number}.png")
            images[-1].write_bytes(noise_png(int(args.size_mib * MIB) - 64 * 1024, seed=number))
        warm_up = work / "warm-up.png"
        warm_up.write_bytes(noise_png(256 * 1024, seed=-1))
        size_mib = images[0].stat().st_size / MIB
        data = images[0].read_bytes()
        raw, floor = aes_gcm_mib_per_s(data), wire_floor_mib_per_s(data)
        sha, check = node_checks(images[0])
        with node_server(work, extra_args=args.node_args.split()) as node:
            uploads, downloads = asyncio.run(
                measure(f"127.0.0.1:{node.port}", node.pid, images, warm_up, work)
            )
    load_after = os.getloadavg()
    rows = [
        percent_row("AES-256-GCM raw, one process (encrypt + decrypt)", raw, raw),
        percent_row("wire floor, one process (base64 + JSON + AES-GCM, both ends)", floor, raw),
        percent_row("SHA-256, one pass", sha, raw),
        percent_row("Pillow validation (validate_image), one pass", check, raw),
        transfer_row("upload end to end (upload_image -> OK)", size_mib, uploads, raw),
        transfer_row("download end to end (download_image, verified)", size_mib, downloads, raw),
    ]
    print(f"### Image transfer, {size_mib:.2f} MiB PNG over loopback (median of {args.repeat})\n")
    headers = ("path", "MiB/s", "best MiB/s", "of raw", "client CPU ms", "node CPU ms")
    print(report.markdown_table(headers, rows))
    print(f"\nupload seconds: {', '.join(f'{s:.3f}' for s in uploads.seconds)}")
    print(f"download seconds: {', '.join(f'{s:.3f}' for s in downloads.seconds)}")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"\n{report.machine_facts()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
