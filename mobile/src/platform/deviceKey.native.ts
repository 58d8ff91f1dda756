/** Phones: the device key as bytes in the Android Keystore / iOS Keychain (expo-secure-store). */
import { loadDeviceKeyBytes } from './deviceKeyBytes';
import type { DeviceKey } from './deviceKeyTypes';
import { secretStore } from './storage';

export type { DeviceKey, DeviceKeyStorage } from './deviceKeyTypes';

export async function loadDeviceKey(random: (length: number) => Uint8Array): Promise<DeviceKey> {
  return { key: await loadDeviceKeyBytes(secretStore, random), storage: 'secure-store' };
}
