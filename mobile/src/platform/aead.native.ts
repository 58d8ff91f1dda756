/**
 * Android and iOS: AES-256-GCM from the platform's native crypto through expo-crypto
 * (javax.crypto on Android, CryptoKit on iOS), never a table-based JavaScript AES.
 */
import { AESEncryptionKey, AESSealedData, aesDecryptAsync, aesEncryptAsync } from 'expo-crypto';

import type { Aead, AeadKey } from '../protocol/aead';
import { TAG_LENGTH } from '../protocol/aead';
import { DecryptError } from '../protocol/errors';

const adOption = (ad: Uint8Array) => (ad.length > 0 ? { additionalData: ad } : {});

export function platformAead(): Aead {
  return {
    async importKey(raw: Uint8Array): Promise<AeadKey> {
      const key = await AESEncryptionKey.import(raw);
      return {
        async seal(nonce, ad, plaintext) {
          const sealed = await aesEncryptAsync(plaintext, key, { nonce: { bytes: nonce }, ...adOption(ad) });
          return sealed.ciphertext({ includeTag: true, encoding: 'bytes' });
        },
        async open(nonce, ad, ciphertext) {
          if (ciphertext.length < TAG_LENGTH) throw new DecryptError('ciphertext shorter than the tag');
          try {
            const sealed = AESSealedData.fromParts(nonce, ciphertext, TAG_LENGTH);
            return await aesDecryptAsync(sealed, key, adOption(ad));
          } catch {
            throw new DecryptError('message failed to authenticate');
          }
        },
      };
    },
  };
}
