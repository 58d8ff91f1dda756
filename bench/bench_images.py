"""Image transfer speed: upload and download of a 10 MiB image over loopback (ArTP §4).

End to end, as a user sees it: ``upload_image`` (local checks, SHA-256, base64, Noise
encryption, the node's decryption, spilling, hashing, Pillow validation, the durable
commit of file and message, ``OK``) and ``download_image`` (``IMG_GET`` stream, decryption,
the SHA-256 check, the rename into the cache). Next to them, in the same run: the raw
throughput of the same bytes through AES-256-GCM in one process (encrypt then decrypt, in
the same 32 KiB chunks, the work one transport hop cannot avoid), the reference the issue
sets the target against (end to end at least 40% of it).

The node is a real ``aronanet serve`` child process (``loadgen/servers.py``).
Example: ``.venv/bin/python bench/bench_images.py --repeat 3``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from loadgen import report
from loadgen.servers import node_server
from PIL import Image

from aronanet.client import ArtpClient
from aronanet.client.transfers import download_image, upload_image
from aronanet.proto.messages import Attachment, MsgEvent

MIB = 1024 * 1024
PASSWORD = "correct horse battery"
T = TypeVar("T")


def noise_png(target_bytes: int) -> bytes:
    """An incompressible PNG of about ``target_bytes`` (random RGB pixels)."""
    side = int((target_bytes / 3) ** 0.5)
    pixels = random.Random(0).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def aes_gcm_mib_per_s(data: bytes, chunk_size: int) -> float:
    """Encrypt then decrypt ``data`` in ``chunk_size`` pieces with AES-256-GCM, one process."""
    cipher = AESGCM(os.urandom(32))
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    started = time.perf_counter()
    for counter, piece in enumerate(pieces):
        nonce = counter.to_bytes(12, "big")
        cipher.decrypt(nonce, cipher.encrypt(nonce, piece, None), None)
    return len(data) / MIB / (time.perf_counter() - started)


async def timed(action: Awaitable[T]) -> tuple[float, T]:
    """Seconds ``action`` took, and its result."""
    started = time.perf_counter()
    result = await action
    return time.perf_counter() - started, result


async def measure(
    address: str, image: Path, work: Path, repeat: int
) -> tuple[list[float], list[float]]:
    """Upload and download ``image`` ``repeat`` times; returns the seconds of each."""
    sender = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    reader = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    await sender.auth("bench_sender", PASSWORD, register=True)
    await reader.auth("bench_reader", PASSWORD, register=True)
    for client in (sender, reader):
        await client.join("#bench")
    uploads, downloads = [], []
    for round_number in range(repeat):
        seconds, ok = await timed(upload_image(sender, image, "channel", "#bench"))
        uploads.append(seconds)
        attachment = await image_attachment(reader, str(ok.msg_id))
        cache = work / f"cache{round_number}"  # a fresh cache: every download is real
        seconds, _ = await timed(download_image(reader, attachment, cache))
        downloads.append(seconds)
    await sender.close()
    await reader.close()
    return uploads, downloads


async def image_attachment(reader: ArtpClient, msg_id: str) -> Attachment:
    """The attachment of message ``msg_id``, as the reader received it."""
    async for event in reader.events():
        if isinstance(event, MsgEvent) and event.id == msg_id:
            assert isinstance(event.attachment, Attachment)
            return event.attachment
    raise RuntimeError("the connection closed before the image message arrived")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=float, default=10.0, help="image size (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="transfers of each kind (median)")
    parser.add_argument("--node-args", default="", help="extra `aronanet serve` flags")
    parser.add_argument("--work-dir", type=Path, help="keep the node's state and log here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        # Under the node's max_image (10 MiB): the PNG overhead is kept inside the target.
        image = work / "bench.png"
        image.write_bytes(noise_png(int(args.size_mib * MIB) - 64 * 1024))
        size_mib = image.stat().st_size / MIB
        raw = aes_gcm_mib_per_s(image.read_bytes(), 32768)
        with node_server(work, extra_args=args.node_args.split()) as node:
            uploads, downloads = asyncio.run(
                measure(f"127.0.0.1:{node.port}", image, work, args.repeat)
            )
    up = size_mib / statistics.median(uploads)
    down = size_mib / statistics.median(downloads)
    rows = [
        ("AES-256-GCM raw, one process (encrypt + decrypt)", report.fmt(raw), "100%"),
        ("upload end to end (upload_image -> OK)", report.fmt(up), f"{100 * up / raw:.0f}%"),
        (
            "download end to end (download_image, verified)",
            report.fmt(down),
            f"{100 * down / raw:.0f}%",
        ),
    ]
    print(f"### Image transfer, {size_mib:.2f} MiB PNG over loopback (median of {args.repeat})\n")
    print(report.markdown_table(("path", "MiB/s", "of raw AES-GCM"), rows))
    print(f"\n{report.machine_facts()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
