"""Print the contents of a conversation's stored messages, one JSON string per line, as seen by
the Python client library (a second, independent client checking what the web client sent).

usage: python python_history.py ADDRESS USER DEST   (password in $ARONA_PW; DEST '#chan' or a user)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from aronanet.client.script import Destination, SessionOptions, connect_and_log_in


async def main(address: str, user: str, dest: str) -> None:
    with tempfile.TemporaryDirectory() as home:
        options = SessionOptions(
            address=address,
            user=user,
            password=lambda: os.environ["ARONA_PW"],  # asked only if the node wants it
            config_dir=Path(home),
        )
        client, _ = await connect_and_log_in(options, sys.stderr)
        async with client:
            where = Destination.parse(dest)
            for message in await client.history(where.dest_type, where.name, limit=200):
                print(json.dumps(message.content))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
