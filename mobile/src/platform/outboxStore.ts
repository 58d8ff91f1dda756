/**
 * Web: the outbox in IndexedDB, so a message typed while the node is unreachable survives a
 * page reload. Entries are stored by structured clone (an image's bytes included) and read back
 * in typing order (`seq`, the object store's key). Without IndexedDB the outbox lives in memory.
 */
import { memoryOutboxStore, type OutboxStore, type StoredOutgoing } from '../state/outbox';
import { hasIndexedDb, OUTBOX, transact } from './idb';

export function outboxStore(): OutboxStore {
  if (!hasIndexedDb()) return memoryOutboxStore();
  return {
    load: async () => (await transact(OUTBOX, 'readonly', (store) => store.getAll())) as StoredOutgoing[],
    put: async (entry) => void (await transact(OUTBOX, 'readwrite', (store) => store.put(entry))),
    remove: async (seq) => void (await transact(OUTBOX, 'readwrite', (store) => store.delete(seq))),
    clear: async () => void (await transact(OUTBOX, 'readwrite', (store) => store.clear())),
  };
}
