/**
 * Sending through the outbox (PROTOCOL.md §14.4): every message is written to the persistent
 * outbox before anything else, shown as pending, sent with its client id when the session can
 * send, and leaves the outbox only when an OK for it arrives (duplicate or not).
 */
import { toBase64 } from '../protocol/bytes';
import type { ArtpClient } from '../protocol/client';
import { ArtpError, LocalErrorCode } from '../protocol/errors';
import type { MsgEvent, Ok, ReplyQuote } from '../protocol/messages';
import type { ChatAction, ChatState, SendError } from './chat';
import { destinationOf } from './conversations';
import { findStoredCopy, type ImagePick, type Outbox, type OutgoingMessage } from './outbox';

export interface SendingDeps {
  readonly outbox: Outbox;
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  /** The signed-in link, if any. */
  readonly client: () => ArtpClient | null;
  /** False while a sign-in is catching up: new messages wait so they go out after older ones. */
  readonly canSend: () => boolean;
}

export class Sending {
  constructor(private readonly deps: SendingDeps) {}

  /** Try a failed message again (the user tapped it). */
  retry(key: string, localKey: string): Promise<void> {
    const message = this.deps.outbox.get(localKey);
    if (!message || message.state !== 'failed') return Promise.resolve();
    this.deps.outbox.requeue(message);
    this.deps.dispatch({ type: 'sendRetried', key, localKey });
    return this.sendIfReady(message);
  }

  /** Show what an earlier run left in the outbox as pending, ready to go out after sign-in. */
  async restore(): Promise<void> {
    await this.deps.outbox.restore();
    for (const message of this.deps.outbox.all()) if (message.state !== 'failed') this.showPending(message);
  }

  async enqueue(key: string, body: { content: string; image?: ImagePick; replyTo?: string; reply?: ReplyQuote }): Promise<void> {
    // A conversation not shown yet (a DM typed to a name) is named by its key alone.
    const { destType, dest } = this.deps.getState().conversations[key] ?? destinationOf(key);
    const timestamp = Math.floor(Date.now() / 1000);
    const message = await this.deps.outbox.add({ key, destType, dest, timestamp, ...body });
    this.showPending(message);
    return this.sendIfReady(message);
  }

  private showPending(message: OutgoingMessage): void {
    const { key, destType, dest, localKey, cid, content, timestamp, image, replyTo, reply } = message;
    const previewUri = image ? `data:${image.mime};base64,${toBase64(image.bytes)}` : undefined;
    this.deps.dispatch({ type: 'sendStarted', key, destType, dest, localKey, cid, content, timestamp, previewUri, replyTo, reply });
  }

  private sendIfReady(message: OutgoingMessage): Promise<void> {
    return this.deps.canSend() ? this.deliver(message) : Promise.resolve();
  }

  /** Send one message; it leaves the outbox only when an OK for it arrives (§14.4). */
  private async deliver(message: OutgoingMessage): Promise<void> {
    const client = this.deps.client();
    if (!client) return;
    message.state = 'inflight';
    try {
      const ok = await this.transmit(client, message);
      await this.deps.outbox.remove(message.localKey);
      const { key, localKey } = message;
      this.deps.dispatch({ type: 'sendSucceeded', key, localKey, id: ok.msg_id ?? localKey, timestamp: ok.timestamp ?? 0 });
    } catch (error) {
      // The link dropped with the message on the wire: settled after the reconnect.
      if (error instanceof ArtpError && error.code === LocalErrorCode.CLOSED) return;
      await this.deps.outbox.fail(message).catch(() => undefined);
      this.deps.dispatch({ type: 'sendFailed', key: message.key, localKey: message.localKey, error: sendError(error) });
    }
  }

  private transmit(client: ArtpClient, message: OutgoingMessage): Promise<Ok> {
    const { key, localKey, destType, dest, image, cid } = message;
    if (!image) {
      const id = client.features.has('sync') ? { cid } : {};
      const reply = message.replyTo !== undefined ? { reply_to: message.replyTo } : {};
      return client.request({ type: 'MSG', dest_type: destType, dest, content: message.content, ...id, ...reply });
    }
    const onProgress = (progress: number) => this.deps.dispatch({ type: 'sendProgress', key, localKey, progress });
    return client.uploadImage({ ...image, destType, dest }, { transfer: message.transfer, resume: message.resume, onProgress });
  }

  /**
   * Messages in flight when the link dropped. With `sync` each goes out again with its `cid`
   * (a duplicate is answered with the original OK). A node without `sync` has no client ids:
   * a text it stored is found among the caught-up messages by content instead. An image resumes
   * with IMG_STATUS, which knows exactly.
   */
  settleInterrupted(client: ArtpClient, caughtUp: Map<string, MsgEvent[]>): void {
    const me = this.deps.getState().user ?? '';
    const claimed = new Set<string>();
    for (const message of this.deps.outbox.interrupted()) {
      message.state = 'queued';
      if (message.image) message.resume = true;
      if (message.image || client.features.has('sync')) continue;
      const stored = findStoredCopy(message, caughtUp.get(message.key) ?? [], me, claimed);
      if (!stored) continue;
      claimed.add(stored.id);
      void this.deps.outbox.remove(message.localKey);
      const { key, localKey } = message;
      this.deps.dispatch({ type: 'sendSucceeded', key, localKey, id: stored.id, timestamp: stored.timestamp });
    }
  }

  /** Send what waited, oldest first; a link that drops again aborts the reconnect. */
  async flush(): Promise<void> {
    for (let message = this.deps.outbox.nextQueued(); message; message = this.deps.outbox.nextQueued()) {
      await this.deliver(message);
      if (!this.deps.client()) throw new ArtpError(LocalErrorCode.CLOSED, 'the link dropped while sending the outbox');
    }
  }
}

/** What the bubble of a failed message shows: the node's code, or the local check's. */
function sendError(error: unknown): SendError {
  if (error instanceof ArtpError) return { code: error.code, message: error.message };
  // checkRequest() refuses a request that breaks the contract before it leaves (§3 INVALID).
  return { code: 'INVALID', message: error instanceof Error ? error.message : String(error) };
}
