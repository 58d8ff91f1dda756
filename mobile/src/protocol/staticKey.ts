/**
 * The client's static key (§2: "the client's static key is its device identity"; §14.3: a
 * device). Noise needs only its public half and a Diffie-Hellman with a peer key, so the key can
 * live in platform crypto: a non-extractable WebCrypto X25519 key, whose private half the
 * app's JavaScript can use but never read.
 */
import { HandshakeError } from './errors';
import { DH_LEN } from './noise';

export interface StaticKey {
  readonly publicKey: Uint8Array;
  /** X25519 with a peer public key (32 bytes); rejects with `HandshakeError` on a low-order point. */
  dh(peerPublic: Uint8Array): Promise<Uint8Array>;
}

/** The subset of SubtleCrypto X25519 needs. */
export type X25519Subtle = Pick<SubtleCrypto, 'importKey' | 'deriveBits'>;

/**
 * A WebCrypto X25519 private key as a `StaticKey`. `privateKey` may be (and should be)
 * non-extractable: `deriveBits` is all the handshake asks of it.
 */
export function webCryptoStaticKey(subtle: X25519Subtle, privateKey: CryptoKey, publicKey: Uint8Array): StaticKey {
  return {
    publicKey,
    async dh(peerPublic) {
      try {
        const peer = await subtle.importKey('raw', peerPublic as BufferSource, { name: 'X25519' }, true, []);
        const bits = await subtle.deriveBits({ name: 'X25519', public: peer } as EcdhKeyDeriveParams, privateKey, DH_LEN * 8);
        return new Uint8Array(bits);
      } catch {
        // WebCrypto refuses an all-zero shared secret (a low-order peer point), as noble does.
        throw new HandshakeError('Diffie-Hellman with the peer key failed (low-order point)');
      }
    },
  };
}

/**
 * PKCS#8 wrapping of a raw 32-byte X25519 private key (RFC 8410), so a key kept as bytes by an
 * earlier version can be imported into WebCrypto once, as non-extractable.
 */
const PKCS8_X25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

export function pkcs8FromRawX25519(raw: Uint8Array): Uint8Array {
  if (raw.length !== DH_LEN) throw new TypeError(`an X25519 private key is ${DH_LEN} bytes, not ${raw.length}`);
  const out = new Uint8Array(PKCS8_X25519_PREFIX.length + DH_LEN);
  out.set(PKCS8_X25519_PREFIX);
  out.set(raw, PKCS8_X25519_PREFIX.length);
  return out;
}

