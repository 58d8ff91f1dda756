/**
 * A `ChatSession` wired as the app wires it (the chat reducer as its store), but to Node's
 * WebSocket and WebCrypto, talking to a real node. The transport can be cut right after a
 * send, to drop the link with a request on the wire.
 */
import type { KeyValueStore } from '../../src/platform/keyValue';
import { generateKeyPair, type KeyPair } from '../../src/protocol/noise';
import type { StaticKey } from '../../src/protocol/staticKey';
import { Backoff } from '../../src/state/backoff';
import { type CacheLimits, type ConversationStore, memoryConversationStore } from '../../src/state/cache';
import { type ChatAction, type ChatMessage, type ChatState, chatReducer, initialChatState } from '../../src/state/chat';
import { AccountMemory } from '../../src/state/account';
import { KnownNodes } from '../../src/state/knownNodes';
import { memoryOutboxStore, type OutboxStore } from '../../src/state/outbox';
import { ChatSession } from '../../src/state/session';
import type { Transport } from '../../src/transport/transport';
import { artpUrl, openWebSocket } from '../../src/transport/websocket';
import { NodeWebSocket } from './client';
import { memoryStore } from './memoryStore';
import { nodeAead, randomBytes } from './webcrypto';

/** A transport that closes itself right after the next message it sends, when asked to. */
export class CuttableTransport implements Transport {
  cutAfterNextSend = false;

  constructor(private readonly inner: Transport) {}

  send(message: Uint8Array): void {
    this.inner.send(message);
    if (this.cutAfterNextSend) {
      this.cutAfterNextSend = false;
      this.inner.close();
    }
  }

  close(): void {
    this.inner.close();
  }

  onMessage(listener: (message: Uint8Array) => void): void {
    this.inner.onMessage(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.inner.onClose(listener);
  }
}

export interface SessionHarness {
  readonly session: ChatSession;
  state(): ChatState;
  /** The transport of the current connection. */
  transport(): CuttableTransport;
  /** The lines of a conversation, as the chat screen shows them (join, part and topic lines included). */
  messages(key: string): readonly ChatMessage[];
  /** Only the messages of a conversation: its lines without the join, part and topic lines. */
  said(key: string): readonly ChatMessage[];
  /** Connect (one address or a community's list) and, on first use, accept the node's key as the user does (§11: pinned on accept). */
  connectAndTrust(address: string): Promise<void>;
  /** Dispatch as the app would (a conversation the UI opened before its user vanished). */
  dispatch(action: ChatAction): void;
}

/**
 * What a device keeps across restarts of the app: its key, the account it stays signed in to,
 * its outbox and its pinned nodes. Hand the same one to a second harness to "reload the page".
 */
export interface TestDevice {
  readonly key: KeyPair | StaticKey;
  readonly accounts: KeyValueStore;
  readonly outbox: OutboxStore;
  readonly pins: KeyValueStore;
  /** What it keeps of the conversations (state/cache). */
  readonly conversations: ConversationStore;
}

export function testDevice(key: KeyPair | StaticKey = generateKeyPair(randomBytes)): TestDevice {
  return { key, accounts: memoryStore(), outbox: memoryOutboxStore(), pins: memoryStore(), conversations: memoryConversationStore() };
}

export interface HarnessOptions {
  readonly reconnectDelaysMs: readonly number[];
  readonly catchUpPage?: number;
  readonly device?: TestDevice;
  readonly cacheLimits?: CacheLimits;
}

export function sessionHarness(options: HarnessOptions): SessionHarness {
  const device = options.device ?? testDevice();
  let state = initialChatState;
  let current: CuttableTransport | null = null;
  const knownNodes = new KnownNodes(device.pins);
  const session = new ChatSession({
    aead: nodeAead,
    random: randomBytes,
    deviceKey: device.key,
    knownNodes,
    accounts: new AccountMemory(device.accounts),
    outboxStore: device.outbox,
    conversationStore: device.conversations,
    cacheLimits: options.cacheLimits,
    cacheDelayMs: 20,
    deviceName: 'session test device',
    openTransport: async (address) => {
      current = new CuttableTransport(await openWebSocket(artpUrl(address), NodeWebSocket));
      return current;
    },
    dispatch: (action) => {
      state = chatReducer(state, action);
      session.stateChanged(state); // as the app does
    },
    getState: () => state,
    clientName: 'aronanet-mobile-session-tests/0.1',
    backoff: new Backoff(options.reconnectDelaysMs, () => 0.5),
    catchUpPage: options.catchUpPage,
  });
  return {
    session,
    state: () => state,
    transport: () => {
      if (!current) throw new Error('never connected');
      return current;
    },
    messages: (key) => state.conversations[key]?.messages ?? [],
    said: (key) => (state.conversations[key]?.messages ?? []).filter((m) => !m.system),
    dispatch: (action) => {
      state = chatReducer(state, action);
      session.stateChanged(state); // as the app does
    },
    connectAndTrust: async (address) => {
      const result = await session.connect(address);
      // As the app does: the key accepted is pinned for every address of the community's list.
      if (result.pin === 'first-use') await knownNodes.accept(session.community.addresses, result.fingerprint);
    },
  };
}

/** Poll `check` until it holds; the failure names what was awaited. */
export async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
