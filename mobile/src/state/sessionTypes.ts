/**
 * The chat session's contract (state/session): what it needs from the platform and the app
 * (`SessionDeps`), and what its verbs take and answer (sign-in tokens, a connection, how a
 * resume ended, a search page). Kept apart so the screens name them without the session.
 */
import type { Aead } from '../protocol/aead';
import type { Transport } from '../protocol/link';
import type { DestType, SearchResult } from '../protocol/messages';
import type { KeyPair } from '../protocol/noise';
import type { StaticKey } from '../protocol/staticKey';
import type { AccountMemory } from './account';
import type { Backoff } from './backoff';
import type { CacheLimits, ConversationStore } from './cache';
import type { ChatAction, ChatState } from './chat';
import type { KnownNodes, PinResult } from './knownNodes';
import type { OutboxStore } from './outbox';

export interface SessionDeps {
  readonly aead: Aead;
  readonly random: (length: number) => Uint8Array;
  /** The device key: raw bytes, or a non-extractable platform key (`StaticKey`). */
  readonly deviceKey: KeyPair | StaticKey;
  readonly knownNodes: KnownNodes;
  readonly openTransport: (address: string) => Promise<Transport>;
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  /** Where the signed-in account is remembered; in memory (forgotten on exit) by default. */
  readonly accounts: AccountMemory;
  /** The persistent outbox; in memory by default. */
  readonly outboxStore?: OutboxStore;
  /** What the device keeps of the conversations for opening offline; in memory by default. */
  readonly conversationStore?: ConversationStore;
  readonly cacheLimits?: CacheLimits;
  /** How long after a change the conversation cache is written (ms). */
  readonly cacheDelayMs?: number;
  readonly clientName?: string;
  /** §14.3 `device_name`: what the devices list calls this device. */
  readonly deviceName?: string;
  readonly backoff?: Backoff;
  readonly catchUpPage?: number;
  /** How long "Moved to h2" stays after a failover (ms). */
  readonly movedNoticeMs?: number;
}

/** §14.21: the one-time tokens an AUTH can carry. */
export interface AuthTokens {
  /** An invitation, for a registration on an invite-only node. */
  readonly invite?: string;
  /** A password reset token: the AUTH's password becomes the account's new one. */
  readonly reset?: string;
}

export interface ConnectResult {
  readonly node: string;
  /** Which address of the community's list answered. */
  readonly address: string;
  readonly fingerprint: string;
  readonly pin: PinResult;
}

/** How `resume()` ended: no account saved, signed in, waiting for the node, or the password is needed. */
export type ResumeResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'signed-in' }
  | { readonly kind: 'offline' }
  | { readonly kind: 'needs-password'; readonly user: string; readonly address: string; readonly node: ConnectResult };

/** One page of search results (§14.15), newest first; `next` asks for the page after. */
export interface SearchPage {
  readonly results: readonly SearchResult[];
  readonly next?: string;
}

/** Where a search looks: everywhere the user can read, or one conversation. */
export type SearchScope = { readonly destType: DestType; readonly dest: string } | null;
