/**
 * What the device keeps of the conversations (issue 12), so the app opens with its list, the
 * counts and the latest messages while the node is unreachable: IndexedDB on the web, the app's
 * files on phones, memory in tests. Read-only while offline (what is typed goes to the outbox);
 * after the next sign-in the node's CONVERSATIONS and the catch-up after the newest cached id
 * bring it up to date, merged by message id and client id, so nothing shows twice.
 *
 * Bounded, so it stays a few MB at most: the newest `messagesPerConversation` messages the node
 * confirmed in each conversation, and no more than `totalChars` characters in all (the least
 * recent conversations lose their messages first, never their place in the list). Pending and
 * failed messages are not kept here: the outbox keeps them. Cleared on logout.
 */
import type { ChatMessage, ChatState, Conversation } from './chat';
import { sortedConversations } from './conversations';
import { sameName } from './names';

/** The cached conversations of one user. */
export interface CachedConversations {
  readonly user: string;
  readonly conversations: readonly Conversation[];
}

/** Where the cache lives (platform/conversationStore on the web and on phones). */
export interface ConversationStore {
  load(): Promise<CachedConversations | null>;
  save(snapshot: CachedConversations): Promise<void>;
  clear(): Promise<void>;
}

export interface CacheLimits {
  /** The newest messages kept per conversation. */
  readonly messagesPerConversation: number;
  /** Roughly how many characters (of JSON) the whole cache may hold. */
  readonly totalChars: number;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = { messagesPerConversation: 100, totalChars: 2_000_000 };

/** A store in memory: for tests, and for a browser without IndexedDB. */
export function memoryConversationStore(): ConversationStore {
  let kept: CachedConversations | null = null;
  return {
    load: async () => kept,
    save: async (snapshot) => void (kept = snapshot),
    clear: async () => void (kept = null),
  };
}

/** A message as the cache keeps it: confirmed by the node, without what only a sending needs. */
function cachedMessage(message: ChatMessage): ChatMessage {
  const { previewUri: _preview, progress: _progress, error: _error, ...kept } = message;
  return kept;
}

/** One conversation bounded to `limit` confirmed messages (its counts and marker kept). */
function bounded(conversation: Conversation, limit: number): Conversation {
  const confirmed = conversation.messages.filter((m) => m.id !== undefined && m.status === 'sent');
  const messages = confirmed.slice(Math.max(0, confirmed.length - limit)).map(cachedMessage);
  // The beginning is still reached only if nothing before it was cut.
  const reachedStart = conversation.reachedStart && messages.length === confirmed.length;
  return { ...conversation, messages, reachedStart };
}

/** What to keep of `state`, within `limits`; null when nobody is signed in. */
export function snapshotOf(state: ChatState, limits: CacheLimits = DEFAULT_CACHE_LIMITS): CachedConversations | null {
  if (!state.user) return null;
  let budget = limits.totalChars;
  const conversations = sortedConversations(state).map((conversation) => {
    const kept = bounded(conversation, limits.messagesPerConversation);
    const size = JSON.stringify(kept).length;
    if (size <= budget) {
      budget -= size;
      return kept;
    }
    return { ...kept, messages: [], reachedStart: false }; // listed, its messages come from the node
  });
  return { user: state.user, conversations };
}

/** The cached conversations of `user`, or none when the cache belongs to someone else. */
export function cachedFor(cached: CachedConversations | null, user: string): readonly Conversation[] {
  return cached && sameName(cached.user, user) ? cached.conversations : [];
}

/**
 * Writes the cache a moment after the state changes (many changes, one write), one write at a
 * time and in order, so a `clear()` at logout is never overtaken by a save still under way.
 */
export class CacheWriter {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private latest: ChatState | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ConversationStore,
    private readonly limits: CacheLimits = DEFAULT_CACHE_LIMITS,
    private readonly delayMs = 500,
  ) {}

  load(): Promise<CachedConversations | null> {
    return this.store.load().catch(() => null); // an unreadable cache is no cache
  }

  /** The state changed: save it soon. */
  changed(state: ChatState): void {
    this.latest = state;
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Save the latest state now; resolves once it is written. */
  flush(): Promise<void> {
    this.cancel();
    const snapshot = this.latest ? snapshotOf(this.latest, this.limits) : null;
    this.latest = null;
    if (snapshot) this.enqueue(() => this.store.save(snapshot));
    return this.chain;
  }

  /** Forget the cache (logout, another account): nothing pending is written after this. */
  clear(): Promise<void> {
    this.cancel();
    this.latest = null;
    this.enqueue(() => this.store.clear());
    return this.chain;
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private enqueue(write: () => Promise<void>): void {
    // A failed write (storage full, private mode) loses only the cache, never the app.
    this.chain = this.chain.then(write).catch(() => undefined);
  }
}
