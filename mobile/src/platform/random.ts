import { getRandomValues } from 'expo-crypto';

/** Secure random bytes: the OS generator on devices, crypto.getRandomValues on the web. */
export function randomBytes(length: number): Uint8Array {
  return getRandomValues(new Uint8Array(length));
}
