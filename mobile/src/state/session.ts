/**
 * One chat session: the protocol client bound to the chat reducer. The screens call its verbs;
 * it dispatches what happened. It re-connects when the link drops or the network comes back,
 * logs in again and catches up with HISTORY after the last message it has.
 */
import type { Aead } from '../protocol/aead';
import { toBase64 } from '../protocol/bytes';
import { ArtpClient, type ServerEvent } from '../protocol/client';
import type { DestType, MsgEvent } from '../protocol/messages';
import type { KeyPair } from '../protocol/noise';
import type { Transport } from '../transport/transport';
import { type ChatAction, type ChatState, conversationKey } from './chat';
import type { KnownNodes, PinResult } from './knownNodes';

export const HISTORY_PAGE = 50;
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10000];

export interface SessionDeps {
  readonly aead: Aead;
  readonly random: (length: number) => Uint8Array;
  readonly deviceKey: KeyPair;
  readonly knownNodes: KnownNodes;
  readonly openTransport: (address: string) => Promise<Transport>;
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  readonly clientName?: string;
}

export interface ConnectResult {
  readonly node: string;
  readonly fingerprint: string;
  readonly pin: PinResult;
}

export interface ImagePick {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mime: string;
}

export class ChatSession {
  private client: ArtpClient | null = null;
  private address: string | null = null;
  private credentials: { user: string; password: string } | null = null;
  private readonly outbox = new Map<string, { content: string; image?: ImagePick }>();
  private readonly images = new Map<string, Promise<string>>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;
  private localCounter = 0;

  constructor(private readonly deps: SessionDeps) {}

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
    const ok = await this.requireClient().request({ type: 'AUTH', user, password, register });
    this.credentials = { user: ok.user ?? user, password };
    this.deps.dispatch({ type: 'loggedIn', user: ok.user ?? user, channels: ok.channels ?? [] });
  }

  /** Open a conversation: JOIN a channel first if needed, then load its latest page. */
  async open(destType: DestType, dest: string): Promise<void> {
    const key = conversationKey(destType, dest);
    const known = this.deps.getState().conversations[key];
    if (destType === 'channel' && !known) await this.requireClient().request({ type: 'JOIN', channel: dest });
    this.deps.dispatch({ type: 'conversationOpened', destType, dest });
    if (!known || known.messages.length === 0) await this.loadLatest(destType, dest);
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

  /** Load the page before the oldest message shown (history loading on scroll). */
  async loadOlder(key: string): Promise<void> {
    const conversation = this.deps.getState().conversations[key];
    if (!conversation || conversation.reachedStart) return;
    const oldest = conversation.messages.find((m) => m.id)?.id;
    const ok = await this.requireClient().request({
      type: 'HISTORY',
      dest_type: conversation.destType,
      dest: conversation.dest,
      limit: HISTORY_PAGE,
      ...(oldest ? { before: oldest } : {}),
    });
    const messages = ok.messages ?? [];
    this.deps.dispatch({ type: 'historyLoaded', key, messages, older: true, limit: HISTORY_PAGE });
  }

  sendText(key: string, content: string): Promise<void> {
    const localKey = this.newLocalKey();
    this.outbox.set(localKey, { content });
    this.deps.dispatch({ type: 'sendStarted', key, localKey, content, timestamp: nowSeconds() });
    return this.deliver(key, localKey);
  }

  sendImage(key: string, image: ImagePick): Promise<void> {
    const localKey = this.newLocalKey();
    const previewUri = `data:${image.mime};base64,${toBase64(image.bytes)}`;
    this.outbox.set(localKey, { content: '', image });
    this.deps.dispatch({ type: 'sendStarted', key, localKey, content: '', timestamp: nowSeconds(), previewUri });
    return this.deliver(key, localKey);
  }

  /** Try a failed message again. */
  retry(key: string, localKey: string): Promise<void> {
    this.deps.dispatch({ type: 'sendRetried', key, localKey });
    return this.deliver(key, localKey);
  }

  /** A data URI for an image, downloaded once per session (§4 IMG_GET). */
  imageUri(image: string): Promise<string> {
    let uri = this.images.get(image);
    if (!uri) {
      uri = this.requireClient()
        .downloadImage(image)
        .then((found) => `data:${found.mime};base64,${toBase64(found.bytes)}`);
      uri.catch(() => this.images.delete(image));
      this.images.set(image, uri);
    }
    return uri;
  }

  /** The network came back (NetInfo): reconnect now instead of waiting for the timer. */
  networkAvailable(): void {
    if (this.client === null && this.address && !this.stopped) void this.reconnect();
  }

  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.close();
    this.client = null;
  }

  private async deliver(key: string, localKey: string): Promise<void> {
    const item = this.outbox.get(localKey);
    const conversation = this.deps.getState().conversations[key];
    if (!item || !conversation) return;
    try {
      const client = this.requireClient();
      const ok = item.image
        ? await client.uploadImage(
            { ...item.image, destType: conversation.destType, dest: conversation.dest },
            (progress) => this.deps.dispatch({ type: 'sendProgress', key, localKey, progress }),
          )
        : await client.request({
            type: 'MSG',
            dest_type: conversation.destType,
            dest: conversation.dest,
            content: item.content,
          });
      this.outbox.delete(localKey);
      const id = ok.msg_id ?? localKey;
      this.deps.dispatch({ type: 'sendSucceeded', key, localKey, id, timestamp: ok.timestamp ?? nowSeconds() });
    } catch (error) {
      this.deps.dispatch({ type: 'sendFailed', key, localKey });
      throw error;
    }
  }

  /**
   * The latest page, or everything after `after` (catching up). Takes the destination, not the
   * state: the UI state may not have caught up with a conversation opened a moment ago.
   */
  private async loadLatest(destType: DestType, dest: string, after?: string): Promise<void> {
    const key = conversationKey(destType, dest);
    const ok = await this.requireClient().request({
      type: 'HISTORY',
      dest_type: destType,
      dest,
      limit: after ? 200 : HISTORY_PAGE,
      ...(after ? { after } : {}),
    });
    const messages = ok.messages ?? [];
    const older = !after;
    this.deps.dispatch({ type: 'historyLoaded', key, messages, older, limit: after ? 200 : HISTORY_PAGE });
  }

  private attach(client: ArtpClient, address: string): void {
    this.client = client;
    this.address = address;
    this.attempts = 0;
    client.onEvent((event) => this.handleEvent(event));
    client.onClose(() => this.linkLost(client));
  }

  private handleEvent(event: ServerEvent): void {
    if (event.type === 'MSG') this.deps.dispatch({ type: 'messageReceived', message: event as MsgEvent });
  }

  private linkLost(client: ArtpClient): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.images.clear();
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.stopped) return;
    const delay = RETRY_DELAYS_MS[Math.min(this.attempts, RETRY_DELAYS_MS.length - 1)] as number;
    this.attempts += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (!this.address || this.client || this.stopped) return;
    this.deps.dispatch({ type: 'linkChanged', link: 'connecting' });
    try {
      await this.connect(this.address);
      if (this.credentials) await this.login(this.credentials.user, this.credentials.password, false);
      await this.catchUp();
      this.deps.dispatch({ type: 'linkChanged', link: 'online' });
    } catch {
      const half = this.client as ArtpClient | null; // connected, but login or catch-up failed
      half?.close();
      this.client = null;
      this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
      this.scheduleReconnect();
    }
  }

  /** After a reconnect, fetch what was missed in every conversation. */
  private async catchUp(): Promise<void> {
    for (const conversation of Object.values(this.deps.getState().conversations)) {
      const last = [...conversation.messages].reverse().find((m) => m.id)?.id;
      if (last) await this.loadLatest(conversation.destType, conversation.dest, last);
    }
  }

  private requireClient(): ArtpClient {
    if (!this.client) throw new Error('not connected');
    return this.client;
  }

  private newLocalKey(): string {
    this.localCounter += 1;
    return `local:${this.localCounter}`;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
