"""Noise state objects beyond the vectors: nonces, rekey, misuse and hostile messages."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.errors import DecryptError, HandshakeError, NonceExhaustedError
from aronanet.proto.noise import MAX_NONCE, PATTERNS, CipherState, HandshakeState

KEY = bytes(range(32))


def _xx_pair(prologue: bytes = b"ArTP/1.0") -> tuple[HandshakeState, HandshakeState]:
    initiator = HandshakeState("XX", True, prologue, s=X25519PrivateKey.generate())
    responder = HandshakeState("XX", False, prologue, s=X25519PrivateKey.generate())
    return initiator, responder


def _run_xx(initiator: HandshakeState, responder: HandshakeState) -> None:
    responder.read_message(initiator.write_message(b""))
    initiator.read_message(responder.write_message(b"hello"))
    responder.read_message(initiator.write_message(b""))


def test_patterns_are_data() -> None:
    assert PATTERNS["XX"].messages == (("e",), ("e", "ee", "s", "es"), ("s", "se"))
    assert PATTERNS["NK"].responder_premessage == ("s",)


def test_a_cipher_state_without_a_key_passes_plaintext_through() -> None:
    assert CipherState().encrypt_with_ad(b"ad", b"plain") == b"plain"


def test_the_aesgcm_nonce_is_big_endian_after_four_zero_bytes() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    state = CipherState("AESGCM", KEY)
    state.set_nonce(258)
    expected = AESGCM(KEY).encrypt(b"\x00" * 4 + (258).to_bytes(8, "big"), b"x", b"")
    assert state.encrypt_with_ad(b"", b"x") == expected


def test_the_chachapoly_nonce_is_little_endian_after_four_zero_bytes() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    state = CipherState("ChaChaPoly", KEY)
    state.set_nonce(258)
    expected = ChaCha20Poly1305(KEY).encrypt(b"\x00" * 4 + (258).to_bytes(8, "little"), b"x", b"")
    assert state.encrypt_with_ad(b"", b"x") == expected


def test_the_reserved_nonce_is_refused_for_encryption_and_decryption() -> None:
    sender, receiver = CipherState("AESGCM", KEY), CipherState("AESGCM", KEY)
    sender.set_nonce(MAX_NONCE - 1)
    receiver.set_nonce(MAX_NONCE - 1)
    assert receiver.decrypt_with_ad(b"", sender.encrypt_with_ad(b"", b"last")) == b"last"
    with pytest.raises(NonceExhaustedError):
        sender.encrypt_with_ad(b"", b"one too many")
    with pytest.raises(NonceExhaustedError):
        receiver.decrypt_with_ad(b"", b"\x00" * 32)


def test_encrypt_many_uses_consecutive_nonces_and_stops_short_of_the_reserved_one() -> None:
    one_by_one, many = CipherState("AESGCM", KEY), CipherState("AESGCM", KEY)
    plaintexts = [b"a", b"bb", b"ccc"]
    assert many.encrypt_many(plaintexts) == [one_by_one.encrypt(p) for p in plaintexts]
    assert many.n == one_by_one.n == 3
    many.set_nonce(MAX_NONCE - 2)
    with pytest.raises(NonceExhaustedError):
        many.encrypt_many(plaintexts)
    assert many.n == MAX_NONCE - 2  # nothing was used up
    assert len(many.encrypt_many(plaintexts[:2])) == 2


def test_rekey_changes_the_key_on_both_sides_alike() -> None:
    sender, receiver = CipherState("AESGCM", KEY), CipherState("AESGCM", KEY)
    before = CipherState("AESGCM", KEY).encrypt_with_ad(b"", b"m")
    sender.rekey()
    receiver.rekey()
    ciphertext = sender.encrypt_with_ad(b"", b"m")
    assert ciphertext != before
    assert receiver.decrypt_with_ad(b"", ciphertext) == b"m"


def test_a_replayed_transport_message_fails_to_decrypt() -> None:
    sender, receiver = CipherState("AESGCM", KEY), CipherState("AESGCM", KEY)
    first = sender.encrypt_with_ad(b"", b"one")
    assert receiver.decrypt_with_ad(b"", first) == b"one"
    with pytest.raises(DecryptError):
        receiver.decrypt_with_ad(b"", first)


def test_a_message_shorter_than_a_tag_fails_to_decrypt() -> None:
    with pytest.raises(DecryptError):
        CipherState("AESGCM", KEY).decrypt_with_ad(b"", b"short")


def test_an_unknown_cipher_or_pattern_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="cipher"):
        CipherState("DES")
    with pytest.raises(ValueError, match="pattern"):
        HandshakeState("KK", True, b"")


def test_a_pattern_that_needs_a_static_key_refuses_to_start_without_it() -> None:
    with pytest.raises(ValueError, match="static key `s`"):
        HandshakeState("XX", True, b"")
    with pytest.raises(ValueError, match="remote static key `rs`"):
        HandshakeState("NK", True, b"")


def test_xx_gives_both_sides_the_same_hash_and_each_others_static_key() -> None:
    initiator, responder = _xx_pair()
    _run_xx(initiator, responder)
    assert initiator.handshake_hash == responder.handshake_hash
    assert initiator.remote_static is not None
    assert responder.remote_static is not None
    i_send, i_receive = initiator.split()
    r_receive, r_send = responder.split()
    assert r_receive.decrypt_with_ad(b"", i_send.encrypt_with_ad(b"", b"up")) == b"up"
    assert i_receive.decrypt_with_ad(b"", r_send.encrypt_with_ad(b"", b"down")) == b"down"


def test_a_different_prologue_fails_the_handshake() -> None:
    initiator = HandshakeState("XX", True, b"ArTP/1.0", s=X25519PrivateKey.generate())
    responder = HandshakeState("XX", False, b"ArTP/2.0", s=X25519PrivateKey.generate())
    responder.read_message(initiator.write_message(b""))
    with pytest.raises(HandshakeError):
        initiator.read_message(responder.write_message(b""))


def test_writing_out_of_turn_is_refused() -> None:
    initiator, responder = _xx_pair()
    with pytest.raises(HandshakeError, match="not our turn"):
        responder.write_message(b"")
    with pytest.raises(HandshakeError, match="not our turn"):
        initiator.read_message(b"\x00" * 32)


def test_split_before_completion_is_refused() -> None:
    initiator, _ = _xx_pair()
    with pytest.raises(HandshakeError, match="not complete"):
        initiator.split()


def test_messages_after_completion_are_refused() -> None:
    initiator, responder = _xx_pair()
    _run_xx(initiator, responder)
    with pytest.raises(HandshakeError, match="already complete"):
        initiator.write_message(b"")


@pytest.mark.parametrize("length", [0, 31])
def test_a_first_message_too_short_for_its_ephemeral_key_fails(length: int) -> None:
    _, responder = _xx_pair()
    with pytest.raises(HandshakeError, match="too short"):
        responder.read_message(b"\x01" * length)


def test_a_second_message_too_short_for_the_static_key_fails() -> None:
    initiator, responder = _xx_pair()
    responder.read_message(initiator.write_message(b""))
    message = responder.write_message(b"")
    with pytest.raises(HandshakeError, match="too short"):
        initiator.read_message(message[:60])


def test_a_low_order_ephemeral_key_fails_the_handshake() -> None:
    initiator, responder = _xx_pair()
    responder.read_message(initiator.write_message(b""))
    with pytest.raises(HandshakeError, match="low-order"):
        initiator.read_message(bytes(32) + b"\x00" * 64)


def test_an_oversized_handshake_payload_is_refused() -> None:
    initiator, _ = _xx_pair()
    with pytest.raises(HandshakeError, match="exceeds limit of 65535"):
        initiator.write_message(b"x" * 65535)
