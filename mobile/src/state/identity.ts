/** The device identity (§2: "the client's static key is its device identity"), kept across runs. */
import { fromHex, toHex } from '../protocol/bytes';
import { generateKeyPair, type KeyPair, keyPairFromPrivate } from '../protocol/noise';
import type { KeyValueStore } from '../platform/keyValue';

const KEY = 'aronanet.device_key';

export async function loadDeviceKey(store: KeyValueStore, random: (length: number) => Uint8Array): Promise<KeyPair> {
  const saved = await store.get(KEY);
  if (saved && /^[0-9a-f]{64}$/.test(saved)) return keyPairFromPrivate(fromHex(saved));
  const fresh = generateKeyPair(random);
  await store.set(KEY, toHex(fresh.privateKey));
  return fresh;
}
