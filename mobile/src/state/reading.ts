/**
 * Read markers (§14.6): a conversation is read only while it is on screen scrolled to its
 * newest message; then READ moves the marker there on the node, once per new message, so the
 * user's other devices agree. Without a link or `sync` it waits until the conversation is
 * viewed again.
 */
import type { ArtpClient } from '../protocol/client';
import type { ChatAction, ChatState } from './chat';
import { newestMessageId } from './conversations';

export interface ReadingDeps {
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  /** The signed-in link, if any. */
  readonly client: () => ArtpClient | null;
}

export class Reading {
  /** The read marker last sent per conversation, so viewing sends READ once per new message. */
  private readonly readSent = new Map<string, string>();
  /** The conversation on screen scrolled to its newest message, if any: the only one READ moves. */
  private atNewest: string | null = null;

  constructor(private readonly deps: ReadingDeps) {}

  /** Conversation `key` is, or is no longer, on screen at its newest message. */
  viewing(key: string, atNewest: boolean): void {
    if (atNewest) {
      this.atNewest = key;
      void this.markRead(key);
    } else if (this.atNewest === key) {
      this.atNewest = null;
    }
  }

  /** Whether conversation `key` is the one on screen at its newest message. */
  isAtNewest(key: string): boolean {
    return key === this.atNewest;
  }

  /** Back to the conversation list: nothing is on screen. */
  closed(): void {
    this.atNewest = null;
  }

  /** Logout: forget what was sent and what is on screen. */
  clear(): void {
    this.readSent.clear();
    this.atNewest = null;
  }

  /** Move the read marker of conversation `key` to its newest message, on the node. */
  async markRead(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    const client = this.deps.client();
    if (!conversation || !client || !client.features.has('sync')) return;
    const newest = newestMessageId(conversation);
    if (newest === undefined || conversation.read === newest || this.readSent.get(key) === newest) return;
    this.readSent.set(key, newest);
    const { destType, dest } = conversation;
    try {
      const ok = await client.request({ type: 'READ', dest_type: destType, dest, up_to: newest });
      this.deps.dispatch({ type: 'readMarked', destType, dest, read: ok.read ?? newest });
    } catch {
      this.readSent.delete(key); // sent again when next viewed
    }
  }
}
