/** Node's WebCrypto, the constant-time AES-GCM the protocol tests use (as browsers do). */
import { webcrypto } from 'node:crypto';

import { type Aead, webCryptoAead } from '../../src/protocol/aead';

export const nodeAead: Aead = webCryptoAead(webcrypto.subtle as unknown as SubtleCrypto);

export function randomBytes(length: number): Uint8Array {
  return webcrypto.getRandomValues(new Uint8Array(length));
}
