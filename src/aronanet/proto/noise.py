"""The Noise Protocol Framework (revision 34), in the specification's own vocabulary.

Only what ArTP needs: DH ``25519``, hash ``SHA256``, ciphers ``AESGCM`` (the contract's) and
``ChaChaPoly`` (tested on the public vectors so the code stays honest about nonce byte
order), and the patterns ``XX`` (ArTP-1.0 §2) and ``NK``, written as data. The objects
mirror §5 of the Noise spec: ``CipherState``, ``SymmetricState``, ``HandshakeState``.

Primitives come from ``cryptography`` (X25519, AEADs); SHA-256 and HMAC from ``hashlib``.
Every failure a peer can cause becomes an ``errors.ProtocolError`` subclass, never a bare
``ValueError``: the connection layer maps exactly those to a closed connection.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from aronanet.errors import DecryptError, HandshakeError, NonceExhaustedError

#: Noise §3: "All Noise messages are less than or equal to 65535 bytes in length."
MAX_MESSAGE = 65535
DHLEN = 32
HASHLEN = 32
TAG_LENGTH = 16
#: Noise §5.1: "The maximum nonce value 2^64-1 is reserved for rekey" and must not be used.
MAX_NONCE = 2**64 - 1
_ZEROS = bytes(32)

_Aead = AESGCM | ChaCha20Poly1305


@dataclass(frozen=True, slots=True)
class CipherFunctions:
    """A Noise cipher: how to build its AEAD from a key and how to pack its 12-byte nonce."""

    name: str
    aead: Callable[[bytes], _Aead]
    pack_nonce: Callable[[int], bytes]


CIPHERS: dict[str, CipherFunctions] = {
    # Noise §12.3 AESGCM: "4 bytes of zeros followed by the big-endian encoding of n";
    # ArTP-1.0 §2: "nonce = 4 zero bytes || 8-byte big-endian counter starting at 0".
    "AESGCM": CipherFunctions("AESGCM", AESGCM, struct.Struct(">4xQ").pack),
    # Noise §12.2 ChaChaPoly: "32 bits of zeros followed by little-endian encoding of n".
    "ChaChaPoly": CipherFunctions("ChaChaPoly", ChaCha20Poly1305, struct.Struct("<4xQ").pack),
}


@dataclass(frozen=True, slots=True)
class HandshakePattern:
    """A handshake pattern as data (Noise §7): pre-messages, then message token lists."""

    name: str
    initiator_premessage: tuple[str, ...]
    responder_premessage: tuple[str, ...]
    messages: tuple[tuple[str, ...], ...]


PATTERNS: dict[str, HandshakePattern] = {
    "XX": HandshakePattern("XX", (), (), (("e",), ("e", "ee", "s", "es"), ("s", "se"))),
    "NK": HandshakePattern("NK", (), ("s",), (("e", "es"), ("e", "ee"))),
}


def public_bytes(key: X25519PrivateKey) -> bytes:
    """The raw 32-byte X25519 public key of ``key``."""
    return key.public_key().public_bytes_raw()


def _hkdf2(chaining_key: bytes, input_key_material: bytes) -> tuple[bytes, bytes]:
    """Noise §4.3 HKDF with two outputs, on HMAC-SHA256."""
    temp_key = hmac.digest(chaining_key, input_key_material, "sha256")
    output1 = hmac.digest(temp_key, b"\x01", "sha256")
    output2 = hmac.digest(temp_key, output1 + b"\x02", "sha256")
    return output1, output2


class CipherState:
    """Noise §5.1: a key ``k`` (or none) and a counter nonce ``n``.

    The AEAD object is built once per key and the nonce packer is precomputed: this is the
    per-message hot path of every session.
    """

    __slots__ = ("_aead", "_functions", "_key", "_pack_nonce", "n")

    def __init__(self, cipher: str = "AESGCM", key: bytes | None = None) -> None:
        try:
            self._functions = CIPHERS[cipher]
        except KeyError:
            raise ValueError(f"unknown cipher {cipher!r}; known: {sorted(CIPHERS)}") from None
        self._pack_nonce = self._functions.pack_nonce
        self._key: bytes | None = None
        self._aead: _Aead | None = None
        self.n = 0
        self.initialize_key(key)

    def initialize_key(self, key: bytes | None) -> None:
        """Noise InitializeKey: set ``k`` and reset ``n`` to zero."""
        self._key = key
        self._aead = None if key is None else self._functions.aead(key)
        self.n = 0

    def has_key(self) -> bool:
        return self._key is not None

    def set_nonce(self, nonce: int) -> None:
        """Noise SetNonce; for out-of-order transports and tests, not used by ArTP itself."""
        self.n = nonce

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        """Encrypt and authenticate ``plaintext`` under the next nonce (or pass it through
        unchanged while there is no key, as the spec says)."""
        aead = self._aead
        if aead is None:
            return plaintext
        nonce = self.n
        if nonce == MAX_NONCE:
            raise NonceExhaustedError("nonce 2**64-1 is reserved; rekey or reconnect")
        # An empty AD passed as None skips a buffer conversion; AEAD-wise they are the same.
        ciphertext = aead.encrypt(self._pack_nonce(nonce), plaintext, ad or None)
        self.n = nonce + 1
        return ciphertext

    def encrypt(self, plaintext: bytes) -> bytes:
        """``encrypt_with_ad`` with the empty AD of every ArTP transport message (§2).

        Every transport message goes through here (or ``encrypt_many``), so it skips the AD
        argument and the no-key branch: it is only valid on a keyed CipherState (after
        ``split``).
        """
        nonce = self.n
        if nonce == MAX_NONCE:
            raise NonceExhaustedError("nonce 2**64-1 is reserved; rekey or reconnect")
        self.n = nonce + 1
        return self._aead.encrypt(self._pack_nonce(nonce), plaintext, None)  # type: ignore[union-attr]

    def encrypt_many(self, plaintexts: Sequence[bytes]) -> list[bytes]:
        """``encrypt`` each of ``plaintexts`` under consecutive nonces, in order.

        A session's flush encrypts everything queued for it in one call: the loop runs in C
        (``map``), so a fan-out delivery costs the AEAD call and no Python frame of its own.
        """
        nonce, count = self.n, len(plaintexts)
        if nonce + count > MAX_NONCE:
            raise NonceExhaustedError("nonce 2**64-1 is reserved; rekey or reconnect")
        nonces = map(self._pack_nonce, range(nonce, nonce + count))
        ciphertexts = list(map(self._aead.encrypt, nonces, plaintexts, repeat(None, count)))  # type: ignore[union-attr]
        self.n = nonce + count
        return ciphertexts

    @staticmethod
    def encrypt_each(ciphers: Sequence[CipherState], plaintext: bytes) -> list[bytes]:
        """``plaintext`` encrypted by each of ``ciphers`` under its next nonce: one event to
        many sessions. The loop makes no Python call per cipher (a frame each cost about as
        much as the AEAD call itself), and every nonce is checked before any is used.
        Only for keyed CipherStates."""
        nonces = [cipher.n for cipher in ciphers]
        if nonces and max(nonces) >= MAX_NONCE:
            raise NonceExhaustedError("nonce 2**64-1 is reserved; rekey or reconnect")
        ciphertexts = []
        for cipher, nonce in zip(ciphers, nonces, strict=True):
            cipher.n = nonce + 1
            ciphertexts.append(cipher._aead.encrypt(cipher._pack_nonce(nonce), plaintext, None))  # type: ignore[union-attr]
        return ciphertexts

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        """Decrypt under the next nonce; ``DecryptError`` on any authentication failure.

        ArTP-1.0 §2: "The counter is implicit: a replayed, dropped, reordered or altered frame
        fails to decrypt". Per Noise §5.1 ``n`` is not incremented on failure.
        """
        aead = self._aead
        if aead is None:
            return ciphertext
        nonce = self.n
        if nonce == MAX_NONCE:
            raise NonceExhaustedError("nonce 2**64-1 is reserved; rekey or reconnect")
        try:
            plaintext = aead.decrypt(self._pack_nonce(nonce), ciphertext, ad or None)
        except (InvalidTag, ValueError):
            raise DecryptError(
                f"message of {len(ciphertext)} bytes failed to authenticate at nonce {nonce}"
            ) from None
        self.n = nonce + 1
        return plaintext

    def rekey(self) -> None:
        """Noise §4.2 REKEY: ``k = ENCRYPT(k, maxnonce, zerolen, zeros)[:32]``; ``n`` kept."""
        aead = self._aead
        if aead is None:
            return
        new_key = aead.encrypt(self._pack_nonce(MAX_NONCE), _ZEROS, None)[:32]
        self._key = new_key
        self._aead = self._functions.aead(new_key)


class SymmetricState:
    """Noise §5.2: the chaining key ``ck``, the handshake hash ``h`` and a CipherState."""

    __slots__ = ("_cipher", "cipher_state", "ck", "h")

    def __init__(self, protocol_name: bytes, cipher: str) -> None:
        if len(protocol_name) <= HASHLEN:
            h = protocol_name.ljust(HASHLEN, b"\x00")
        else:
            h = hashlib.sha256(protocol_name).digest()
        self._cipher = cipher
        self.h = h
        self.ck = h
        self.cipher_state = CipherState(cipher)

    def mix_key(self, input_key_material: bytes) -> None:
        self.ck, temp_k = _hkdf2(self.ck, input_key_material)
        self.cipher_state.initialize_key(temp_k)

    def mix_hash(self, data: bytes) -> None:
        self.h = hashlib.sha256(self.h + data).digest()

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher_state.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher_state.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        """Two CipherStates: initiator-to-responder, then responder-to-initiator."""
        temp_k1, temp_k2 = _hkdf2(self.ck, b"")
        return CipherState(self._cipher, temp_k1), CipherState(self._cipher, temp_k2)


class HandshakeState:
    """Noise §5.3: runs one handshake pattern for one side.

    Call ``write_message`` and ``read_message`` in the pattern's order; when ``complete``,
    ``split()`` gives the transport CipherStates. Any failure leaves the state failed for
    good (every later call raises ``HandshakeError``): the caller must drop the connection.
    """

    def __init__(
        self,
        pattern: str,
        initiator: bool,
        prologue: bytes,
        s: X25519PrivateKey | None = None,
        e: X25519PrivateKey | None = None,
        rs: bytes | None = None,
        cipher: str = "AESGCM",
    ) -> None:
        if pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {pattern!r}; known: {sorted(PATTERNS)}")
        if cipher not in CIPHERS:
            raise ValueError(f"unknown cipher {cipher!r}; known: {sorted(CIPHERS)}")
        self._pattern = PATTERNS[pattern]
        self._initiator = initiator
        self._s = s
        self._s_public = None if s is None else public_bytes(s)
        self._e = e
        self._re: bytes | None = None
        self._rs = rs
        self._check_keys()
        name = f"Noise_{pattern}_25519_{cipher}_SHA256".encode("ascii")
        self._symmetric = SymmetricState(name, cipher)
        self._symmetric.mix_hash(prologue)
        self._mix_premessages()
        self._index = 0
        self._failed = False
        self._transport: tuple[CipherState, CipherState] | None = None

    # ------------------------------------------------------------------ properties

    @property
    def complete(self) -> bool:
        return self._transport is not None

    @property
    def remote_static(self) -> bytes | None:
        """The peer's static public key, once received (or as given for NK's initiator)."""
        return self._rs

    @property
    def handshake_hash(self) -> bytes:
        """``h``: after the last message, the same on both sides (channel binding)."""
        return self._symmetric.h

    def split(self) -> tuple[CipherState, CipherState]:
        """(initiator-to-responder, responder-to-initiator); only once ``complete``."""
        if self._transport is None:
            raise HandshakeError("the handshake is not complete")
        return self._transport

    # ------------------------------------------------------------------ messages

    def write_message(self, payload: bytes) -> bytes:
        """Produce our next handshake message carrying ``payload`` (encrypted once keyed)."""
        tokens = self._next_tokens(writing=True)
        symmetric = self._symmetric
        parts: list[bytes] = []
        for token in tokens:
            if token == "e":
                if self._e is None:
                    self._e = X25519PrivateKey.generate()
                e_public = public_bytes(self._e)
                parts.append(e_public)
                symmetric.mix_hash(e_public)
            elif token == "s":
                assert self._s_public is not None  # checked in _check_keys
                parts.append(symmetric.encrypt_and_hash(self._s_public))
            else:
                symmetric.mix_key(self._dh(token))
        parts.append(symmetric.encrypt_and_hash(payload))
        message = b"".join(parts)
        if len(message) > MAX_MESSAGE:
            self._failed = True
            raise HandshakeError(
                f"handshake message of {len(message)} bytes exceeds limit of {MAX_MESSAGE}"
            )
        self._advance()
        return message

    def read_message(self, message: bytes) -> bytes:
        """Process the peer's next handshake message and return its decrypted payload."""
        tokens = self._next_tokens(writing=False)
        if len(message) > MAX_MESSAGE:
            self._failed = True
            raise HandshakeError(
                f"handshake message of {len(message)} bytes exceeds limit of {MAX_MESSAGE}"
            )
        try:
            payload = self._read_tokens(tokens, memoryview(message))
        except HandshakeError:
            self._failed = True
            raise
        except DecryptError as error:
            self._failed = True
            raise HandshakeError(f"handshake message failed to decrypt: {error}") from None
        self._advance()
        return payload

    # ------------------------------------------------------------------ internals

    def _read_tokens(self, tokens: tuple[str, ...], message: memoryview) -> bytes:
        symmetric = self._symmetric
        offset = 0
        for token in tokens:
            if token == "e":
                self._re = self._take(message, offset, DHLEN, "ephemeral key")
                offset += DHLEN
                symmetric.mix_hash(self._re)
            elif token == "s":
                length = DHLEN + (TAG_LENGTH if symmetric.cipher_state.has_key() else 0)
                encrypted = self._take(message, offset, length, "static key")
                offset += length
                self._rs = symmetric.decrypt_and_hash(encrypted)
            else:
                symmetric.mix_key(self._dh(token))
        return symmetric.decrypt_and_hash(bytes(message[offset:]))

    @staticmethod
    def _take(message: memoryview, offset: int, length: int, what: str) -> bytes:
        if len(message) - offset < length:
            raise HandshakeError(
                f"handshake message of {len(message)} bytes is too short for its {what}"
            )
        return bytes(message[offset : offset + length])

    def _next_tokens(self, writing: bool) -> tuple[str, ...]:
        if self._failed:
            raise HandshakeError("the handshake already failed")
        if self._transport is not None:
            raise HandshakeError("the handshake is already complete")
        initiator_turn = self._index % 2 == 0
        if writing != (initiator_turn == self._initiator):
            action = "write" if writing else "read"
            raise HandshakeError(f"not our turn to {action} handshake message {self._index + 1}")
        return self._pattern.messages[self._index]

    def _advance(self) -> None:
        self._index += 1
        if self._index == len(self._pattern.messages):
            self._transport = self._symmetric.split()

    def _dh(self, token: str) -> bytes:
        """Noise §7: ``ee``, ``es``, ``se``, ``ss``; the first letter is the initiator's key."""
        initiator_key, responder_key = token[0], token[1]
        if self._initiator:
            local, remote = initiator_key, responder_key
        else:
            local, remote = responder_key, initiator_key
        private = self._e if local == "e" else self._s
        public = self._re if remote == "e" else self._rs
        if private is None or public is None:
            raise HandshakeError(f"token {token!r} needs a key this side does not have")
        try:
            return private.exchange(X25519PublicKey.from_public_bytes(public))
        except ValueError:
            # cryptography refuses an all-zero shared secret (a low-order point).
            raise HandshakeError(f"DH {token!r} with a low-order public key") from None

    def _own_premessage(self) -> tuple[str, ...]:
        pattern = self._pattern
        return pattern.initiator_premessage if self._initiator else pattern.responder_premessage

    def _check_keys(self) -> None:
        """Fail fast on a caller error: a pattern that needs a key we were not given."""
        own_tokens = set(self._own_premessage())
        first = 0 if self._initiator else 1
        for tokens in self._pattern.messages[first::2]:
            own_tokens.update(tokens)
        if "s" in own_tokens and self._s is None:
            raise ValueError(f"pattern {self._pattern.name} needs this side's static key `s`")
        pattern = self._pattern
        remote_pre = (
            pattern.responder_premessage if self._initiator else (pattern.initiator_premessage)
        )
        if "s" in remote_pre and self._rs is None:
            raise ValueError(f"pattern {self._pattern.name} needs the remote static key `rs`")

    def _mix_premessages(self) -> None:
        """Noise §5.3 Initialize: hash the pre-message public keys, initiator's first."""
        for side_is_initiator, tokens in (
            (True, self._pattern.initiator_premessage),
            (False, self._pattern.responder_premessage),
        ):
            for token in tokens:
                ours = side_is_initiator == self._initiator
                if token == "s":
                    key = self._s_public if ours else self._rs
                else:
                    key = public_bytes(self._e) if ours and self._e else self._re
                if key is None:
                    raise ValueError(f"pre-message token {token!r} needs a key")
                self._symmetric.mix_hash(key)
