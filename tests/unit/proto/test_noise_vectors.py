"""Known-answer tests: replay every public Noise vector byte for byte, both directions."""

from __future__ import annotations

import pytest

from aronanet.errors import DecryptError, HandshakeError
from aronanet.proto.noise import CipherState, HandshakeState

from .noise_vectors import NoiseVector, load_all, private_key

VECTORS = load_all()


def _handshake_pair(vector: NoiseVector) -> tuple[HandshakeState, HandshakeState]:
    initiator = HandshakeState(
        vector.pattern,
        initiator=True,
        prologue=vector.init_prologue,
        s=None if vector.init_static is None else private_key(vector.init_static),
        e=private_key(vector.init_ephemeral),
        rs=vector.init_remote_static,
        cipher=vector.cipher,
    )
    responder = HandshakeState(
        vector.pattern,
        initiator=False,
        prologue=vector.resp_prologue,
        s=private_key(vector.resp_static),
        e=private_key(vector.resp_ephemeral),
        cipher=vector.cipher,
    )
    return initiator, responder


def _complete_handshake(vector: NoiseVector) -> tuple[HandshakeState, HandshakeState]:
    initiator, responder = _handshake_pair(vector)
    for message in vector.messages[: vector.handshake_length]:
        sender, receiver = (
            (initiator, responder) if message.from_initiator else (responder, initiator)
        )
        assert sender.write_message(message.payload) == message.ciphertext
        assert receiver.read_message(message.ciphertext) == message.payload
    return initiator, responder


def test_every_vector_file_is_found_and_read() -> None:
    assert len(VECTORS) == 21
    assert {(v.pattern, v.cipher) for v in VECTORS} == {
        ("XX", "AESGCM"),
        ("NK", "AESGCM"),
        ("XX", "ChaChaPoly"),
    }


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_handshake_messages_match_the_vector_byte_for_byte(vector: NoiseVector) -> None:
    initiator, responder = _complete_handshake(vector)
    assert initiator.complete and responder.complete
    assert initiator.handshake_hash == responder.handshake_hash
    if vector.handshake_hash is not None:
        assert initiator.handshake_hash == vector.handshake_hash
    assert responder.remote_static is not None or vector.pattern == "NK"
    assert (
        initiator.remote_static == private_key(vector.resp_static).public_key().public_bytes_raw()
    )


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_transport_messages_match_the_vector_in_both_directions(vector: NoiseVector) -> None:
    initiator, responder = _complete_handshake(vector)
    initiator_send, initiator_receive = initiator.split()
    responder_receive, responder_send = responder.split()
    transport = vector.messages[vector.handshake_length :]
    assert transport, "every vector has transport messages"
    for message in transport:
        send, receive = (
            (initiator_send, responder_receive)
            if message.from_initiator
            else (responder_send, initiator_receive)
        )
        assert send.encrypt_with_ad(b"", message.payload) == message.ciphertext
        assert receive.decrypt_with_ad(b"", message.ciphertext) == message.payload


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_a_corrupted_handshake_message_fails_the_handshake(vector: NoiseVector) -> None:
    initiator, responder = _handshake_pair(vector)
    first = vector.messages[0]
    initiator.write_message(first.payload)
    responder.read_message(first.ciphertext)
    second = vector.messages[1]
    corrupted = bytearray(second.ciphertext)
    corrupted[-1] ^= 0x01
    responder.write_message(second.payload)
    with pytest.raises(HandshakeError):
        initiator.read_message(bytes(corrupted))
    with pytest.raises(HandshakeError, match="already failed"):
        initiator.read_message(second.ciphertext)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_a_corrupted_transport_message_fails_to_decrypt(vector: NoiseVector) -> None:
    initiator, responder = _complete_handshake(vector)
    message = vector.messages[vector.handshake_length]
    receive: CipherState = responder.split()[0] if message.from_initiator else initiator.split()[1]
    corrupted = bytearray(message.ciphertext)
    corrupted[0] ^= 0x80
    with pytest.raises(DecryptError):
        receive.decrypt_with_ad(b"", bytes(corrupted))
    # Noise §5.1: a failed decryption does not advance the nonce.
    assert receive.decrypt_with_ad(b"", message.ciphertext) == message.payload
