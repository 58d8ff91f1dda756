/** An in-memory `KeyValueStore`, standing in for AsyncStorage where no device exists. */
import type { KeyValueStore } from '../../src/platform/keyValue';

export function memoryStore(): KeyValueStore {
  const values = new Map<string, string>();
  return {
    get: async (key) => values.get(key) ?? null,
    set: async (key, value) => void values.set(key, value),
    remove: async (key) => void values.delete(key),
  };
}
