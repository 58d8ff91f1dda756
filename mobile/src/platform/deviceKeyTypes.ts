import type { KeyPair } from '../protocol/noise';
import type { StaticKey } from '../protocol/staticKey';

/**
 * Where the device key lives, for the settings screen to say so plainly:
 * - `webcrypto`: a non-extractable WebCrypto X25519 key in IndexedDB (the page can use it, no
 *   script can read it out);
 * - `local-storage`: this browser has no X25519 in WebCrypto (or no IndexedDB): the key is raw
 *   bytes in the site's local storage, readable by any script running on the page;
 * - `secure-store`: Android Keystore / iOS Keychain (phones).
 */
export type DeviceKeyStorage = 'webcrypto' | 'local-storage' | 'secure-store';

export interface DeviceKey {
  readonly key: KeyPair | StaticKey;
  readonly storage: DeviceKeyStorage;
  /** Why the web fell back to local storage (the browser's own error), if it did. */
  readonly fallbackReason?: string;
}
