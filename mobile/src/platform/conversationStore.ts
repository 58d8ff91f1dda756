/**
 * Web: the conversation cache (state/cache) in IndexedDB, one record stored by structured
 * clone. Without IndexedDB it lives in memory (the app then opens offline without messages).
 */
import { type CachedConversations, type ConversationStore, memoryConversationStore } from '../state/cache';
import { CONVERSATIONS, hasIndexedDb, transact } from './idb';

const SNAPSHOT = 'snapshot';

export function conversationStore(): ConversationStore {
  if (!hasIndexedDb()) return memoryConversationStore();
  return {
    load: async () => ((await transact(CONVERSATIONS, 'readonly', (store) => store.get(SNAPSHOT))) as CachedConversations | undefined) ?? null,
    save: async (snapshot) => void (await transact(CONVERSATIONS, 'readwrite', (store) => store.put(snapshot, SNAPSHOT))),
    clear: async () => void (await transact(CONVERSATIONS, 'readwrite', (store) => store.delete(SNAPSHOT))),
  };
}
