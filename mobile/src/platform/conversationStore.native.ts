/**
 * Phones: the conversation cache (state/cache) as one JSON document in AsyncStorage (the app's
 * files). Bounded by the cache's limits to a few MB.
 */
import type { CachedConversations, ConversationStore } from '../state/cache';
import { plainStore } from './keyValue';

const KEY = 'aronanet.conversations';

export function conversationStore(): ConversationStore {
  return {
    load: async () => {
      const raw = await plainStore.get(KEY);
      return raw ? (JSON.parse(raw) as CachedConversations) : null;
    },
    save: (snapshot) => plainStore.set(KEY, JSON.stringify(snapshot)),
    clear: () => plainStore.remove(KEY),
  };
}
