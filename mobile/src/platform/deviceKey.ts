/**
 * Web: the device key (§14.3: the device's identity on every node) as a non-extractable
 * WebCrypto X25519 key kept in IndexedDB. Chromium supports X25519 in WebCrypto; where a
 * browser does not (or has no IndexedDB), the key falls back to raw bytes in local storage
 * and `storage` says so, for the settings screen to tell the user.
 *
 * A key an earlier version kept as hex in local storage is moved once: imported as a
 * non-extractable key (so the device keeps its identity and its sign-in), then erased there.
 */
import { fromHex } from '../protocol/bytes';
import { keyPairFromPrivate } from '../protocol/noise';
import { pkcs8FromRawX25519, webCryptoStaticKey } from '../protocol/staticKey';
import { LEGACY_DEVICE_KEY, loadDeviceKeyBytes } from './deviceKeyBytes';
import type { DeviceKey } from './deviceKeyTypes';
import { hasIndexedDb, KEYS, transact } from './idb';
import { plainStore } from './keyValue';

export type { DeviceKey, DeviceKeyStorage } from './deviceKeyTypes';

const RECORD = 'device';
const X25519 = { name: 'X25519' } as const;

interface StoredKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: Uint8Array;
}

export async function loadDeviceKey(random: (length: number) => Uint8Array): Promise<DeviceKey> {
  const subtle = globalThis.crypto?.subtle;
  try {
    if (!subtle) throw new Error('WebCrypto is unavailable (the page is not a secure context)');
    if (!hasIndexedDb()) throw new Error('this browser offers no IndexedDB here');
    const stored = (await transact(KEYS, 'readonly', (store) => store.get(RECORD))) as StoredKey | undefined;
    const record = stored ?? (await createKey(subtle));
    return { key: webCryptoStaticKey(subtle, record.privateKey, record.publicKey), storage: 'webcrypto' };
  } catch (error) {
    const key = await loadDeviceKeyBytes(plainStore, random);
    return { key, storage: 'local-storage', fallbackReason: error instanceof Error ? error.message : String(error) };
  }
}

/** A new non-extractable key, or the legacy hex key moved in; stored before the hex is erased. */
async function createKey(subtle: SubtleCrypto): Promise<StoredKey> {
  const legacy = await plainStore.get(LEGACY_DEVICE_KEY);
  let record: StoredKey;
  if (legacy && /^[0-9a-f]{64}$/.test(legacy)) {
    const raw = fromHex(legacy);
    const privateKey = await subtle.importKey('pkcs8', pkcs8FromRawX25519(raw) as BufferSource, X25519, false, ['deriveBits']);
    record = { privateKey, publicKey: keyPairFromPrivate(raw).publicKey };
  } else {
    const pair = (await subtle.generateKey(X25519, false, ['deriveBits'])) as CryptoKeyPair;
    record = { privateKey: pair.privateKey, publicKey: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)) };
  }
  await transact(KEYS, 'readwrite', (store) => store.put(record, RECORD));
  if (legacy) await plainStore.remove(LEGACY_DEVICE_KEY);
  return record;
}
