"""docs/PROTOCOL.md §13 shows a handshake byte for byte; this keeps the document true."""

from __future__ import annotations

import re
from pathlib import Path

from aronanet.identity import fingerprint, public_key_bytes
from aronanet.proto.codec import encode
from aronanet.proto.messages import Ping, PongReply

from .connection_pair import HELLO, fixed_key, make_pair

PROTOCOL_MD = Path(__file__).resolve().parents[3] / "docs" / "PROTOCOL.md"


def _document_without_whitespace() -> str:
    return re.sub(r"\s+", "", PROTOCOL_MD.read_text(encoding="utf-8"))


def test_protocol_md_shows_the_exact_bytes_of_a_fixed_key_handshake() -> None:
    client, server = make_pair()
    message_1 = client.data_to_send()
    server.receive_data(message_1)
    message_2 = server.data_to_send()
    client.receive_data(message_2)
    message_3 = client.data_to_send()
    server.receive_data(message_3)
    client.send(Ping(id="p1"))
    server.send(PongReply(re="p1"))
    document = _document_without_whitespace()
    for frame in (message_1, message_2, message_3, client.data_to_send(), server.data_to_send()):
        assert frame.hex() in document
    assert encode(HELLO).decode() in document


def test_protocol_md_gives_each_side_its_own_key_and_fingerprint() -> None:
    """Each key's row names whose it is: the node's is seed 3, the client's seed 1 (an
    independent client found them swapped, and the old test only looked for the values)."""
    document = _document_without_whitespace()
    for side, seed in (("thenode", 3), ("theclient", 1)):
        public = public_key_bytes(fixed_key(seed))
        row = f"|{side}(privatekey32×`{seed:02x}`)|`{public.hex()}`|`{fingerprint(public)}`|"
        assert row in document, f"no row for {side}"
    assert fingerprint(bytes(range(32))) in document
