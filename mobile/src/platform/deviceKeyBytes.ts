/**
 * The device identity (§2: "the client's static key is its device identity") as raw bytes in a
 * key-value store: the phones' secure store, and the web's fallback where WebCrypto has no
 * X25519 (see platform/deviceKey.ts for the non-extractable key the web uses otherwise).
 */
import { fromHex, toHex } from '../protocol/bytes';
import { generateKeyPair, type KeyPair, keyPairFromPrivate } from '../protocol/noise';
import type { KeyValueStore } from './keyValue';

/** Where the key is kept as hex (and where earlier web versions kept it). */
export const LEGACY_DEVICE_KEY = 'aronanet.device_key';

export async function loadDeviceKeyBytes(store: KeyValueStore, random: (length: number) => Uint8Array): Promise<KeyPair> {
  const saved = await store.get(LEGACY_DEVICE_KEY);
  if (saved && /^[0-9a-f]{64}$/.test(saved)) return keyPairFromPrivate(fromHex(saved));
  const fresh = generateKeyPair(random);
  await store.set(LEGACY_DEVICE_KEY, toHex(fresh.privateKey));
  return fresh;
}
