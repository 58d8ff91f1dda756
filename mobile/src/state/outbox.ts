/**
 * Messages on their way out, kept in a persistent store so a message typed while the node is
 * unreachable survives a restart of the app (a page reload) and is sent exactly once, in the
 * order typed.
 *
 * Each message carries a client id (`cid`, PROTOCOL.md §14.4) chosen when it is typed and kept
 * in the store with it: a resend of the same `cid` is answered with the original `OK`
 * (`duplicate: true`), never posted twice, so a message is removed only when an `OK` for it
 * arrives. States: `queued` (not on the wire yet), `inflight` (sent, no reply yet), `failed`
 * (the node said no, or a local check did). An `inflight` message whose link dropped is
 * *interrupted*; it goes out again with its `cid` after the reconnect.
 */
import { toBase64 } from '../protocol/bytes';
import type { DestType, MsgEvent, ReplyQuote } from '../protocol/messages';
import { newTransferId } from '../protocol/transfers';
import { sameName } from './names';

export interface ImagePick {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mime: string;
}

export type OutgoingState = 'queued' | 'inflight' | 'failed';

/** What the store keeps of a message: everything needed to send it after a restart. */
export interface StoredOutgoing {
  /** Position in typing order; the store returns entries sorted by it. */
  readonly seq: number;
  readonly cid: string;
  /** The conversation key (`#channel` or `@user`) and its destination. */
  readonly key: string;
  readonly destType: DestType;
  readonly dest: string;
  readonly content: string;
  /** When it was typed (seconds), for its pending bubble after a restart. */
  readonly timestamp: number;
  readonly image?: ImagePick;
  /** An image's transfer id: kept so the upload resumes (IMG_STATUS) instead of starting over. */
  readonly transfer?: string;
  /** §14.9: the message this one answers, and its quote for the pending bubble. */
  readonly replyTo?: string;
  readonly reply?: ReplyQuote;
}

/** A persistent outbox store: IndexedDB on the web, device storage on phones, memory in tests. */
export interface OutboxStore {
  load(): Promise<StoredOutgoing[]>;
  put(entry: StoredOutgoing): Promise<void>;
  remove(seq: number): Promise<void>;
  clear(): Promise<void>;
}

export interface OutgoingMessage extends StoredOutgoing {
  /** The key of its bubble in the chat state: `local:<cid>`, the same after a restart. */
  readonly localKey: string;
  state: OutgoingState;
  /** Ask the node what it holds of `transfer` before sending more. */
  resume: boolean;
  transfer?: string;
}

export type NewOutgoing = Pick<StoredOutgoing, 'key' | 'destType' | 'dest' | 'content' | 'timestamp' | 'image' | 'replyTo' | 'reply'>;

/** §14.4: 128 random bits as 22 characters of base64url, the alphabet `[A-Za-z0-9_-]`. */
export function newCid(random: (length: number) => Uint8Array): string {
  return toBase64(random(16)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An in-memory store, for tests and for platforms without persistent storage. */
export function memoryOutboxStore(): OutboxStore {
  const entries = new Map<number, StoredOutgoing>();
  return {
    load: async () => [...entries.values()].sort((a, b) => a.seq - b.seq),
    put: async (entry) => void entries.set(entry.seq, entry),
    remove: async (seq) => void entries.delete(seq),
    clear: async () => entries.clear(),
  };
}

export class Outbox {
  /** Insertion order is the order the user sent in, and the order of re-sending. */
  private readonly messages = new Map<string, OutgoingMessage>();
  private nextSeq = 1;
  /** Store writes, in order: a removal never overtakes the write that added the entry. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: OutboxStore,
    private readonly random: (length: number) => Uint8Array,
  ) {}

  /** Read what an earlier run left; loaded messages wait as `queued`, images resuming. */
  async restore(): Promise<OutgoingMessage[]> {
    const restored: OutgoingMessage[] = [];
    for (const entry of await this.store.load()) {
      if (this.messages.has(localKeyOf(entry.cid))) continue;
      // An image may have been mid-upload when the app stopped: IMG_STATUS says (§10).
      const message = this.track(entry, entry.image !== undefined);
      restored.push(message);
    }
    return restored;
  }

  /** Queue a new message and write it to the store before anything is sent. */
  async add(message: NewOutgoing): Promise<OutgoingMessage> {
    const entry: StoredOutgoing = {
      ...message,
      // Later than anything stored by an earlier run, even one not restored yet.
      seq: Math.max(this.nextSeq, Date.now() * 1000),
      cid: newCid(this.random),
      transfer: message.image ? newTransferId() : undefined,
    };
    const outgoing = this.track(entry, false);
    await this.write(() => this.store.put(entry));
    return outgoing;
  }

  get(localKey: string): OutgoingMessage | undefined {
    return this.messages.get(localKey);
  }

  all(): OutgoingMessage[] {
    return [...this.messages.values()];
  }

  /** The node acknowledged it (`OK`, duplicate or not): forget it here and in the store. */
  remove(localKey: string): Promise<void> {
    const message = this.messages.get(localKey);
    this.messages.delete(localKey);
    return message ? this.write(() => this.store.remove(message.seq)) : Promise.resolve();
  }

  /** Forget everything (logout). */
  clear(): Promise<void> {
    this.messages.clear();
    return this.write(() => this.store.clear());
  }

  /** The oldest message waiting to be sent. */
  nextQueued(): OutgoingMessage | undefined {
    for (const message of this.messages.values()) if (message.state === 'queued') return message;
    return undefined;
  }

  /** Messages that were on the wire when the link dropped. */
  interrupted(): OutgoingMessage[] {
    return this.all().filter((message) => message.state === 'inflight');
  }

  /**
   * The node refused it (or a local check did): it stays here for a retry tap, but leaves the
   * store, so a restart does not send again what the node said no to.
   */
  fail(message: OutgoingMessage): Promise<void> {
    message.state = 'failed';
    return this.write(() => this.store.remove(message.seq));
  }

  /** A failed message goes back in the queue (and the store); an image starts a fresh transfer. */
  requeue(message: OutgoingMessage): void {
    if (message.state === 'failed' && message.image) {
      message.transfer = newTransferId();
      message.resume = false;
    }
    message.state = 'queued';
    const { localKey: _localKey, state: _state, resume: _resume, ...entry } = message;
    void this.write(() => this.store.put(entry));
  }

  private track(entry: StoredOutgoing, resume: boolean): OutgoingMessage {
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    const outgoing: OutgoingMessage = { ...entry, localKey: localKeyOf(entry.cid), state: 'queued', resume };
    this.messages.set(outgoing.localKey, outgoing);
    return outgoing;
  }

  private write(operation: () => Promise<void>): Promise<void> {
    const done = this.writes.then(operation);
    this.writes = done.catch(() => undefined);
    return done;
  }
}

function localKeyOf(cid: string): string {
  return `local:${cid}`;
}

/**
 * For a node without `sync` (ArTP/1.0, no client ids): the node's copy of an interrupted text
 * message, if it stored one: a message from `me` with the same text among those the catch-up
 * found after the last id seen before the drop. `claimed` keeps two identical texts in flight
 * from settling on the same copy. With `sync` the `cid` decides instead, exactly.
 */
export function findStoredCopy(
  message: OutgoingMessage,
  caughtUp: readonly MsgEvent[],
  me: string,
  claimed: ReadonlySet<string>,
): MsgEvent | undefined {
  return caughtUp.find(
    (candidate) =>
      !claimed.has(candidate.id) &&
      candidate.attachment === undefined &&
      sameName(candidate.from, me) &&
      candidate.content === message.content,
  );
}
