/**
 * Messages on their way out. Each one is `queued` (not on the wire yet: typed while the link
 * was down, or tapped for a retry), `inflight` (sent, no reply yet) or `failed` (the node said
 * no, or a local check did). An `inflight` message whose link dropped is *interrupted*: the
 * node may or may not have stored it, and the session settles that after reconnecting
 * before it sends anything again, so nothing is lost and nothing is posted twice.
 */
import type { DestType, MsgEvent } from '../protocol/messages';
import { newTransferId } from '../protocol/transfers';

export interface ImagePick {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mime: string;
}

export type OutgoingState = 'queued' | 'inflight' | 'failed';

export interface OutgoingMessage {
  readonly localKey: string;
  /** The conversation key (`#channel` or `@user`) and its destination. */
  readonly key: string;
  readonly destType: DestType;
  readonly dest: string;
  readonly content: string;
  readonly image?: ImagePick;
  state: OutgoingState;
  /** An image's transfer id: kept across a dropped link so the upload resumes (IMG_STATUS). */
  transfer?: string;
  /** Ask the node what it holds of `transfer` before sending more. */
  resume: boolean;
}

export type NewOutgoing = Pick<OutgoingMessage, 'key' | 'destType' | 'dest' | 'content' | 'image'>;

export class Outbox {
  /** Insertion order is the order the user sent in, and the order of re-sending. */
  private readonly messages = new Map<string, OutgoingMessage>();
  private counter = 0;

  add(message: NewOutgoing): OutgoingMessage {
    this.counter += 1;
    const localKey = `local:${this.counter}`;
    const outgoing: OutgoingMessage = {
      ...message,
      localKey,
      state: 'queued',
      resume: false,
      transfer: message.image ? newTransferId() : undefined,
    };
    this.messages.set(localKey, outgoing);
    return outgoing;
  }

  get(localKey: string): OutgoingMessage | undefined {
    return this.messages.get(localKey);
  }

  remove(localKey: string): void {
    this.messages.delete(localKey);
  }

  /** The oldest message waiting to be sent. */
  nextQueued(): OutgoingMessage | undefined {
    for (const message of this.messages.values()) if (message.state === 'queued') return message;
    return undefined;
  }

  /** Messages that were on the wire when the link dropped. */
  interrupted(): OutgoingMessage[] {
    return [...this.messages.values()].filter((message) => message.state === 'inflight');
  }

  /** A failed message goes back in the queue; an image starts a fresh transfer (the old one failed). */
  requeue(message: OutgoingMessage): void {
    if (message.state === 'failed' && message.image) {
      message.transfer = newTransferId();
      message.resume = false;
    }
    message.state = 'queued';
  }
}

/**
 * The node's copy of an interrupted text message, if it stored one: a message from `me` with
 * the same text among those the catch-up found after the last id seen before the drop. ArTP
 * has no client message id, so this is a match on content; `claimed` keeps two identical
 * texts in flight from settling on the same copy.
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
      candidate.from.toLowerCase() === me.toLowerCase() &&
      candidate.content === message.content,
  );
}
