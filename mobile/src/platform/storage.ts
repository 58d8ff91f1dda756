/** Web: the device's private key has nowhere better to live than the browser's storage. */
import { type KeyValueStore, plainStore } from './keyValue';

export { type KeyValueStore, plainStore } from './keyValue';

export const secretStore: KeyValueStore = plainStore;
