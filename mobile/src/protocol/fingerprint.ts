import { sha256 } from '@noble/hashes/sha2.js';

import { toBase64 } from './bytes';

/**
 * §2: a node's fingerprint is `SHA256:` + unpadded standard base64 of SHA-256 of its 32-byte
 * static public key (OpenSSH style). Users compare it out of band; the app pins it.
 */
export function fingerprint(publicKey: Uint8Array): string {
  return `SHA256:${toBase64(sha256(publicKey), false)}`;
}
