/** Native: the device's private key goes to the Android Keystore / iOS Keychain. */
import * as SecureStore from 'expo-secure-store';

import type { KeyValueStore } from './keyValue';

export { type KeyValueStore, plainStore } from './keyValue';

export const secretStore: KeyValueStore = {
  get: (key) => SecureStore.getItemAsync(key),
  set: (key, value) => SecureStore.setItemAsync(key, value),
  remove: (key) => SecureStore.deleteItemAsync(key),
};
