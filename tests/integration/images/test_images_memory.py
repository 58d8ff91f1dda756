"""The node's memory stays flat while 20 clients upload 5 MiB each at once (§4, issue).

Bound: the uploads total 100 MiB (133 MiB of base64 on the wire). A node that held the
transfers in memory would grow by at least that much. A node that spills grows only by what
is in flight: per session at most ``2 * STATUS_EVERY`` chunks the client sent ahead (1 MiB of
image, about 3 MiB as base64 text and decoded bytes while queued, usually far less because
chunks are written as they arrive), plus one Pillow decode at a time (5.3 MB for the
1330x1330 RGB image) and allocator slack. Measured here: 12 to 14 MiB of growth at the peak
(VmHWM against the VmRSS baseline). 32 MiB sits well between the two: a third of what
holding the uploads would need, more than twice what spilling takes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import image_samples as samples
from image_node import ImageNode, user_session

from aronanet.client.transfers import upload_image

CLIENTS = 20
IMAGE_BYTES = 5 * 1024 * 1024
GROWTH_BOUND_KIB = 32 * 1024


async def test_node_memory_stays_flat_while_twenty_clients_upload_five_mib_each(
    tmp_path: Path,
) -> None:
    image = tmp_path / "five.png"
    image.write_bytes(samples.png_of_size(IMAGE_BYTES))
    node = ImageNode(tmp_path / "memory-node").start()
    try:
        clients = [
            await user_session(node.tcp_address, f"heavy{number}") for number in range(CLIENTS)
        ]
        for client in clients:
            await client.join("#heavy")
        # Warm the image path once (Pillow's import, the worker thread, the indexes), so that
        # the baseline holds the code and only the concurrent uploads are measured.
        warm = tmp_path / "warm.png"
        warm.write_bytes(samples.png(32, 32))
        await upload_image(clients[0], warm, "channel", "#heavy")
        baseline = node.memory_kib("VmRSS")

        results = await asyncio.gather(
            *(upload_image(client, image, "channel", "#heavy") for client in clients)
        )

        peak, after = node.memory_kib("VmHWM"), node.memory_kib("VmRSS")
        assert len({ok.msg_id for ok in results}) == CLIENTS
        assert peak - baseline < GROWTH_BOUND_KIB, (
            f"node grew from {baseline} KiB to a peak of {peak} KiB (now {after} KiB) "
            f"while receiving {CLIENTS} x {IMAGE_BYTES} bytes"
        )
        for client in clients:
            await client.close()
    finally:
        node.stop()
