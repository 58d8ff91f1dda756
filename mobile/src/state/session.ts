/**
 * One chat session: the protocol client bound to the chat reducer. The screens call its verbs;
 * it dispatches what happened.
 *
 * When the link drops it reconnects with backoff (sooner when the platform says the network is
 * back), logs in again, catches every conversation up with HISTORY after the last id it has
 * (page after page, so no gap), settles the messages that were in flight, then sends what was
 * typed meanwhile, in order. Until all that is done, new messages wait in the outbox.
 */
import type { Aead } from '../protocol/aead';
import { toBase64 } from '../protocol/bytes';
import { ArtpClient, type NodeLimits, type ServerEvent } from '../protocol/client';
import { ArtpError, KeyChangedError, LocalErrorCode } from '../protocol/errors';
import type { DestType, MsgEvent, Ok } from '../protocol/messages';
import type { KeyPair } from '../protocol/noise';
import { checkImageLimits, ImageDownload } from '../protocol/transfers';
import { voice } from '../theme/voice';
import type { Transport } from '../transport/transport';
import { Backoff } from './backoff';
import { type ChatAction, type ChatState, type Conversation, conversationKey, messageIds, type SendError } from './chat';
import type { KnownNodes, PinResult } from './knownNodes';
import { findStoredCopy, type ImagePick, Outbox, type OutgoingMessage } from './outbox';

export type { ImagePick } from './outbox';

export const HISTORY_PAGE = 50;
/**
 * §3: HISTORY's `limit` is at most 200; catching up asks for big pages. The node may answer
 * fewer (it trims a page to fit one frame), so paging goes on until an empty page.
 */
export const CATCH_UP_PAGE = 200;

export interface SessionDeps {
  readonly aead: Aead;
  readonly random: (length: number) => Uint8Array;
  readonly deviceKey: KeyPair;
  readonly knownNodes: KnownNodes;
  readonly openTransport: (address: string) => Promise<Transport>;
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  readonly clientName?: string;
  readonly backoff?: Backoff;
  readonly catchUpPage?: number;
}

export interface ConnectResult {
  readonly node: string;
  readonly fingerprint: string;
  readonly pin: PinResult;
}

export class ChatSession {
  private client: ArtpClient | null = null;
  private address: string | null = null;
  private credentials: { user: string; password: string } | null = null;
  private readonly outbox = new Outbox();
  private readonly images = new Map<string, Promise<string>>();
  /** Image downloads cut short, kept so the next attempt resumes at the first missing chunk. */
  private readonly downloads = new Map<string, ImageDownload>();
  /** HELLO's limits of the node last connected to, for checks made while offline. */
  private limits: NodeLimits | null = null;
  private readonly backoff: Backoff;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** True from a reconnect's first byte until its outbox is flushed. */
  private recovering = false;
  /** A reconnect cannot succeed without the user (changed key, refused password). */
  private gaveUp = false;
  private stopped = false;

  constructor(private readonly deps: SessionDeps) {
    this.backoff = deps.backoff ?? new Backoff();
  }

  /** Connect and handshake; the node key is pinned on first use and refused if it changed. */
  async connect(address: string): Promise<ConnectResult> {
    let pin: PinResult = 'match';
    const client = await ArtpClient.connect({
      transport: await this.deps.openTransport(address),
      aead: this.deps.aead,
      random: this.deps.random,
      staticKey: this.deps.deviceKey,
      clientName: this.deps.clientName ?? 'aronanet-mobile/0.1',
      verifyNode: async (fingerprint) => {
        pin = await this.deps.knownNodes.check(address, fingerprint);
      },
    });
    this.attach(client, address);
    return { node: client.hello.node, fingerprint: client.nodeFingerprint, pin };
  }

  async login(user: string, password: string, register: boolean): Promise<void> {
    await this.authenticate(user, password, register);
    this.deps.dispatch({ type: 'linkChanged', link: 'online' });
  }

  /**
   * Open a conversation: JOIN a channel first when its members are not known yet (a member's
   * JOIN is answered with the same OK, topic and members, and causes no event, §6), then load
   * its latest page if no message is shown yet.
   */
  async open(destType: DestType, dest: string): Promise<void> {
    const key = conversationKey(destType, dest);
    const known = this.deps.getState().conversations[key];
    if (destType === 'channel' && !known?.members) {
      const ok = await this.requireClient().request({ type: 'JOIN', channel: dest });
      this.deps.dispatch({ type: 'channelJoined', channel: dest, topic: ok.topic ?? '', members: ok.members ?? [] });
    }
    if (destType === 'user' && !known) {
      // Ask first, open after: a DM to a user who does not exist fails here (NO_SUCH_USER) and
      // leaves no blank conversation behind, and the error reaches the screen the user is on.
      const messages = await this.history(destType, dest, HISTORY_PAGE, {});
      this.deps.dispatch({ type: 'conversationOpened', destType, dest });
      this.deps.dispatch({ type: 'historyLoaded', key, messages, older: true });
      return;
    }
    this.deps.dispatch({ type: 'conversationOpened', destType, dest });
    if (!known || messageIds(known).length === 0) await this.loadLatest(destType, dest);
  }

  /** Back to the conversation list. */
  closeConversation(): void {
    this.deps.dispatch({ type: 'conversationClosed' });
  }

  async leave(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    if (conversation?.destType === 'channel') {
      await this.requireClient().request({ type: 'PART', channel: conversation.dest });
    }
    this.deps.dispatch({ type: 'conversationLeft', key });
  }

  /**
   * Load the page before the oldest message shown (history loading on scroll). §6: "a client
   * pages on ... until it gets an empty list", so the beginning is reached only then.
   */
  async loadOlder(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    if (!conversation || conversation.reachedStart) return;
    const oldest = messageIds(conversation)[0];
    const messages = await this.history(conversation.destType, conversation.dest, HISTORY_PAGE, oldest ? { before: oldest } : {});
    this.deps.dispatch({ type: 'historyLoaded', key, messages, older: true });
  }

  /**
   * Send a text. It shows as pending at once; without a link it waits in the outbox and goes
   * out after the reconnect. A refusal marks it failed with the node's code (never thrown).
   */
  sendText(key: string, content: string): Promise<void> {
    return this.enqueue(key, { content });
  }

  /**
   * Send an image (§4 upload); like `sendText`, and resumed where it stopped after a drop. An
   * image over the node's byte or pixel limit is refused here, before it is queued (TOO_LARGE).
   */
  sendImage(key: string, image: ImagePick): Promise<void> {
    try {
      if (this.limits) checkImageLimits(image.bytes, this.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    const previewUri = `data:${image.mime};base64,${toBase64(image.bytes)}`;
    return this.enqueue(key, { content: '', image }, previewUri);
  }

  /** Try a failed message again (the user tapped it). */
  retry(key: string, localKey: string): Promise<void> {
    const message = this.outbox.get(localKey);
    if (!message || message.state !== 'failed') return Promise.resolve();
    this.outbox.requeue(message);
    this.deps.dispatch({ type: 'sendRetried', key, localKey });
    return this.sendIfReady(message);
  }

  /**
   * A data URI for an image, downloaded once (§4 IMG_GET; the bytes are checked against their
   * SHA-256, so a copy stays good across reconnects). Never throws: without a link it rejects,
   * and the next call tries again, resuming at the first chunk still missing (`start`, §10).
   */
  imageUri(image: string): Promise<string> {
    let uri = this.images.get(image);
    if (!uri) {
      const client = this.client;
      if (!client) return Promise.reject(new ArtpError(LocalErrorCode.CLOSED, 'not connected'));
      const download = this.downloads.get(image) ?? new ImageDownload(image);
      this.downloads.set(image, download);
      uri = download.run(client).then((found) => {
        this.downloads.delete(image);
        return `data:${found.mime};base64,${toBase64(found.bytes)}`;
      });
      uri.catch(() => this.images.delete(image));
      this.images.set(image, uri);
    }
    return uri;
  }

  /** The network came back (NetInfo, or the browser's `online`): reconnect now. */
  networkAvailable(): void {
    if (this.client !== null || !this.address || this.stopped || this.gaveUp) return;
    this.cancelRetry();
    this.backoff.reset();
    void this.reconnect();
  }

  /**
   * Try to reconnect now, whatever the timer says: the user pressed "retry now", or the tab
   * became visible again (a phone browser freezes background timers). No-op while linked.
   */
  retryNow(): void {
    this.networkAvailable();
  }

  /**
   * Drop the link and forget the node and the credentials: the user refused a first-use key
   * or logged out. Nothing reconnects until the next `connect`.
   */
  disconnect(): void {
    this.cancelRetry();
    const client = this.client;
    this.client = null;
    this.address = null;
    this.credentials = null;
    client?.close();
  }

  /** Log out: disconnect and clear what the screens show. */
  logout(): void {
    this.disconnect();
    this.deps.dispatch({ type: 'loggedOut' });
  }

  /** The network went away: no point retrying until it is back. */
  networkLost(): void {
    if (this.client !== null || !this.address || this.stopped || this.gaveUp) return;
    this.cancelRetry();
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
  }

  close(): void {
    this.stopped = true;
    this.cancelRetry();
    this.client?.close();
    this.client = null;
  }

  // ------------------------------------------------------------------------- sending

  private enqueue(key: string, body: { content: string; image?: ImagePick }, previewUri?: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    if (!conversation) return Promise.reject(new Error(`no conversation ${key}`));
    const message = this.outbox.add({ key, destType: conversation.destType, dest: conversation.dest, ...body });
    const timestamp = Math.floor(Date.now() / 1000);
    this.deps.dispatch({ type: 'sendStarted', key, localKey: message.localKey, content: body.content, timestamp, previewUri });
    return this.sendIfReady(message);
  }

  private sendIfReady(message: OutgoingMessage): Promise<void> {
    return this.client && !this.recovering ? this.deliver(message) : Promise.resolve();
  }

  private async deliver(message: OutgoingMessage): Promise<void> {
    const client = this.client;
    if (!client) return;
    message.state = 'inflight';
    try {
      const ok = await this.transmit(client, message);
      this.outbox.remove(message.localKey);
      const id = ok.msg_id ?? message.localKey;
      const timestamp = ok.timestamp ?? Math.floor(Date.now() / 1000);
      this.deps.dispatch({ type: 'sendSucceeded', key: message.key, localKey: message.localKey, id, timestamp });
    } catch (error) {
      // The link dropped with the message on the wire: it stays pending, settled after reconnecting.
      if (error instanceof ArtpError && error.code === LocalErrorCode.CLOSED) return;
      message.state = 'failed';
      this.deps.dispatch({ type: 'sendFailed', key: message.key, localKey: message.localKey, error: sendError(error) });
    }
  }

  private transmit(client: ArtpClient, message: OutgoingMessage): Promise<Ok> {
    const { key, localKey, destType, dest, image } = message;
    if (!image) return client.request({ type: 'MSG', dest_type: destType, dest, content: message.content });
    const onProgress = (progress: number) => this.deps.dispatch({ type: 'sendProgress', key, localKey, progress });
    return client.uploadImage({ ...image, destType, dest }, { transfer: message.transfer, resume: message.resume, onProgress });
  }

  // ---------------------------------------------------------------------- reconnecting

  private attach(client: ArtpClient, address: string): void {
    this.client = client;
    this.limits = client.limits;
    this.address = address;
    this.gaveUp = false;
    client.onEvent((event) => this.handleEvent(event));
    client.onClose(() => this.linkLost(client));
  }

  private async authenticate(user: string, password: string, register: boolean): Promise<void> {
    const ok = await this.requireClient().request({ type: 'AUTH', user, password, register });
    this.credentials = { user: ok.user ?? user, password };
    this.deps.dispatch({ type: 'loggedIn', user: ok.user ?? user, channels: ok.channels ?? [] });
  }

  private handleEvent(event: ServerEvent): void {
    if (event.type === 'MSG') this.deps.dispatch({ type: 'messageReceived', message: event });
    else if (event.type === 'JOIN' || event.type === 'PART' || event.type === 'TOPIC') {
      this.deps.dispatch({ type: 'channelEvent', event });
    }
  }

  private linkLost(client: ArtpClient): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.stopped || this.gaveUp) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconnect();
    }, this.backoff.next());
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async reconnect(): Promise<void> {
    if (!this.address || this.client || this.stopped || this.recovering) return;
    this.recovering = true;
    this.deps.dispatch({ type: 'linkChanged', link: 'connecting' });
    try {
      await this.connect(this.address);
      if (this.credentials) {
        await this.authenticate(this.credentials.user, this.credentials.password, false);
        this.settleInterrupted(await this.catchUp());
        await this.flushOutbox();
      }
      this.recovering = false;
      this.backoff.reset();
      this.deps.dispatch({ type: 'linkChanged', link: 'online' });
    } catch (error) {
      this.recovering = false;
      this.failedToReconnect(error);
    }
  }

  private failedToReconnect(error: unknown): void {
    const half = this.client; // connected, but login, catch-up or the flush failed
    this.client = null;
    half?.close();
    const problem = reconnectProblem(error);
    if (problem) {
      // Retrying cannot help: tell the user, and stop.
      this.gaveUp = true;
      this.deps.dispatch({ type: 'linkChanged', link: 'offline', problem });
      return;
    }
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    this.scheduleReconnect();
  }

  /** Catch every conversation up; returns what each one received, for settling the outbox. */
  private async catchUp(): Promise<Map<string, MsgEvent[]>> {
    const caughtUp = new Map<string, MsgEvent[]>();
    for (const conversation of Object.values(this.deps.getState().conversations)) {
      caughtUp.set(conversation.key, await this.catchUpConversation(conversation));
    }
    return caughtUp;
  }

  /**
   * PROTOCOL.md §6: "Catching up after a reconnect is `after: <last message id seen>`, repeated
   * until empty" (a page shorter than `limit` is not the end: the node trims pages to one frame).
   */
  private async catchUpConversation(conversation: Conversation): Promise<MsgEvent[]> {
    const { key, destType, dest } = conversation;
    let anchor = messageIds(conversation).at(-1);
    if (anchor === undefined) {
      const latest = await this.history(destType, dest, HISTORY_PAGE, {});
      this.deps.dispatch({ type: 'historyLoaded', key, messages: latest, older: true });
      return latest;
    }
    const pageSize = this.deps.catchUpPage ?? CATCH_UP_PAGE;
    const missed: MsgEvent[] = [];
    for (;;) {
      const page = await this.history(destType, dest, pageSize, { after: anchor });
      if (page.length === 0) return missed;
      this.deps.dispatch({ type: 'historyLoaded', key, messages: page, older: false, after: anchor });
      missed.push(...page);
      anchor = (page.at(-1) as MsgEvent).id;
    }
  }

  /** Messages in flight when the link dropped: settled from what the node stored, or queued again. */
  private settleInterrupted(caughtUp: Map<string, MsgEvent[]>): void {
    const me = this.credentials?.user ?? '';
    const claimed = new Set<string>();
    for (const message of this.outbox.interrupted()) {
      if (message.image) {
        // IMG_STATUS knows exactly: the upload resumes where the node stopped, or is already done.
        message.resume = true;
        message.state = 'queued';
        continue;
      }
      const stored = findStoredCopy(message, caughtUp.get(message.key) ?? [], me, claimed);
      if (!stored) {
        message.state = 'queued';
        continue;
      }
      claimed.add(stored.id);
      this.outbox.remove(message.localKey);
      const { key, localKey } = message;
      this.deps.dispatch({ type: 'sendSucceeded', key, localKey, id: stored.id, timestamp: stored.timestamp });
    }
  }

  /** Send what waited, oldest first; a link that drops again aborts the reconnect. */
  private async flushOutbox(): Promise<void> {
    for (let message = this.outbox.nextQueued(); message; message = this.outbox.nextQueued()) {
      await this.deliver(message);
      if (!this.client) throw new ArtpError(LocalErrorCode.CLOSED, 'the link dropped while sending the outbox');
    }
  }

  // ---------------------------------------------------------------------------- helpers

  /**
   * The latest page, or everything after `after` (catching up). Takes the destination, not the
   * state: the UI state may not have caught up with a conversation opened a moment ago.
   */
  private async loadLatest(destType: DestType, dest: string): Promise<void> {
    const messages = await this.history(destType, dest, HISTORY_PAGE, {});
    const key = conversationKey(destType, dest);
    this.deps.dispatch({ type: 'historyLoaded', key, messages, older: true });
  }

  private async history(
    destType: DestType,
    dest: string,
    limit: number,
    bound: { before?: string; after?: string },
  ): Promise<MsgEvent[]> {
    const ok = await this.requireClient().request({ type: 'HISTORY', dest_type: destType, dest, limit, ...bound });
    return [...(ok.messages ?? [])];
  }

  private requireClient(): ArtpClient {
    if (!this.client) throw new ArtpError(LocalErrorCode.CLOSED, 'not connected');
    return this.client;
  }
}

/** What the bubble of a failed message shows: the node's code, or the local check's. */
function sendError(error: unknown): SendError {
  if (error instanceof ArtpError) return { code: error.code, message: error.message };
  // checkRequest() refuses a request that breaks the contract before it leaves (§3 INVALID).
  return { code: 'INVALID', message: error instanceof Error ? error.message : String(error) };
}

/** A reason no retry can fix, in Arona's words; null when trying again may work. */
function reconnectProblem(error: unknown): string | null {
  if (error instanceof KeyChangedError) return voice.keyChanged(error.address, error.pinned, error.presented);
  if (error instanceof ArtpError && error.code === 'AUTH_FAILED') return voice.passwordRefused;
  return null;
}
