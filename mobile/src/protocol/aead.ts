/**
 * AES-256-GCM behind one small interface, so the Noise code never picks an implementation.
 *
 * AES must be constant-time: WebCrypto in browsers and Node, the platform's native module on
 * devices (see `src/platform/aead.native.ts`). Pure-JS table-based AES leaks timing and must
 * not be plugged in here.
 */

import { DecryptError } from './errors';

/** One imported key; `open` rejects with `DecryptError` when authentication fails. */
export interface AeadKey {
  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

/** A source of AES-256-GCM keys with a 16-byte tag and 12-byte nonce. */
export interface Aead {
  importKey(raw: Uint8Array): Promise<AeadKey>;
}

/** The 16-byte GCM tag every Noise ciphertext carries. */
export const TAG_LENGTH = 16;

/** The subset of SubtleCrypto this module needs (WebCrypto; Node's `crypto.webcrypto.subtle`). */
export type SubtleLike = Pick<SubtleCrypto, 'importKey' | 'encrypt' | 'decrypt'>;

/**
 * AES-GCM from WebCrypto. Browsers expose `crypto.subtle` only in secure contexts (HTTPS or
 * localhost), so the caller must check it exists and explain when it does not.
 */
export function webCryptoAead(subtle: SubtleLike): Aead {
  return {
    async importKey(raw: Uint8Array): Promise<AeadKey> {
      const key = await subtle.importKey('raw', raw as BufferSource, { name: 'AES-GCM' }, false, [
        'encrypt',
        'decrypt',
      ]);
      const params = (nonce: Uint8Array, ad: Uint8Array): AesGcmParams => ({
        name: 'AES-GCM',
        iv: nonce as BufferSource,
        additionalData: ad as BufferSource,
        tagLength: TAG_LENGTH * 8,
      });
      return {
        async seal(nonce, ad, plaintext) {
          const out = await subtle.encrypt(params(nonce, ad), key, plaintext as BufferSource);
          return new Uint8Array(out);
        },
        async open(nonce, ad, ciphertext) {
          if (ciphertext.length < TAG_LENGTH) {
            throw new DecryptError(`ciphertext of ${ciphertext.length} bytes is shorter than the tag`);
          }
          try {
            const out = await subtle.decrypt(params(nonce, ad), key, ciphertext as BufferSource);
            return new Uint8Array(out);
          } catch {
            throw new DecryptError('message failed to authenticate');
          }
        },
      };
    },
  };
}
