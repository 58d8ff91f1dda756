/**
 * The chat state as a pure reducer: conversations, their messages with pending/sent/failed
 * states, unread counts, the link to the node. No I/O here, so every transition is tested
 * without a network.
 *
 * Ordering: messages the node has confirmed (they have an `id`) come first, in the node's
 * order; messages not yet confirmed (pending or failed) follow, in the order they were typed.
 * Membership and topic changes (JOIN, PART, TOPIC events, §7) are lines among the messages,
 * marked `system`; their ids are not message ids, so they are never a HISTORY anchor (§5).
 *
 * This module holds the state's shape, the actions, and the reducer's own cases (signing in
 * and out, opening and leaving, live messages, the link); each family of actions has its own
 * module: state/channels, state/sync, state/lifecycle, state/typists, state/outgoing and
 * state/moderation. Keying and updating conversations is state/conversations; placing the
 * node's messages, state/merge.
 */
import { mentions } from '../protocol/mentions';
import type { Attachment, DestType, MsgEvent, Reaction, ReplyQuote, Modes } from '../protocol/messages';
import { channelReducer, type ChannelAction } from './channels';
import { conversationOf, ensure, withConversation, withoutConversation } from './conversations';
import { lifecycleReducer, type LifecycleAction } from './lifecycle';
import { fromEvent, merge } from './merge';
import { sameName } from './names';
import { isHidden, type ModerationAction, moderationReducer } from './moderation';
import { outgoingReducer, type OutgoingAction } from './outgoing';
import { syncReducer, type SyncAction } from './sync';
import { typingReducer, type TypingAction, withTyping } from './typists';

export type SendStatus = 'pending' | 'sent' | 'failed';

/** A line that is not a message: someone joined, left, or set the topic. */
export type SystemLine = 'join' | 'part' | 'topic' | 'moderation';

export interface ChatMessage {
  /** The node's id once known, else a local id (`local:…`). */
  readonly key: string;
  readonly id?: string;
  /** §14.4: the sender's client id; matches a pending copy to the node's. */
  readonly cid?: string;
  /** Set on a membership or topic line (its `content` is the new topic for `topic`). */
  readonly system?: SystemLine;
  readonly from: string;
  readonly content: string;
  readonly timestamp: number;
  readonly status: SendStatus;
  readonly attachment?: Attachment;
  /** Of a pending image: the fraction 0..1 of its bytes the node acknowledged holding. */
  readonly progress?: number;
  /** Why the last attempt to send failed: the node's error code (or a local one) and text. */
  readonly error?: SendError;
  /** A local preview of an image being sent. */
  readonly previewUri?: string;
  /** §14.9: the message this one answers, and how that message reads now. */
  readonly replyTo?: string;
  readonly reply?: ReplyQuote;
  /** §14.10: when it was last edited (Unix seconds). */
  readonly edited?: number;
  /** §14.11: when it was deleted: a tombstone, "Message deleted". */
  readonly deleted?: number;
  /** §14.12: its reactions, in the order first made. */
  readonly reactions?: readonly Reaction[];
}

export interface SendError {
  readonly code: string;
  readonly message: string;
}

export interface Conversation {
  readonly key: string;
  readonly destType: DestType;
  readonly dest: string;
  readonly messages: readonly ChatMessage[];
  readonly unread: number;
  /** How many of the unread mention the user (§14.5's rule, `protocol/mentions`). */
  readonly mentions: number;
  /** §14.6: the user's read marker (a message id), synced across their devices. */
  readonly read?: string;
  /** When its newest message was sent, as CONVERSATIONS said (before any message is loaded). */
  readonly lastTimestamp?: number;
  /** True once a HISTORY page going back came back empty: the beginning (§6). */
  readonly reachedStart: boolean;
  /** A channel's members (sorted case-insensitively), once the node told us (JOIN's OK). */
  readonly members?: readonly string[];
  /** A channel's topic, once known ("" for none). */
  readonly topic?: string;
  /** §14.14: the newest change number seen here (HISTORY, CHANGES, CONVERSATIONS): CHANGES asks after it. */
  readonly rev?: string;
  /** §14.16: members' roles other than `member`, by lower-cased name (CHANNEL_INFO, MODERATION). */
  readonly roles?: Readonly<Record<string, string>>;
  /** §14.17: the channel's modes, once known. */
  readonly modes?: Modes;
}

/** §14.13: someone typing in a conversation, until `until` (ms since the epoch). */
export interface Typist {
  readonly name: string;
  readonly until: number;
}

export type LinkStatus = 'online' | 'connecting' | 'offline';

/** Why the app stopped trying to reconnect; the UI words it (state holds no UI strings). */
export type LinkProblem =
  | { readonly kind: 'keyChanged'; readonly address: string; readonly pinned: string; readonly presented: string }
  /** The node refused this device's sign-in (revoked, or a password-only node): log in again. */
  | { readonly kind: 'signInRefused' };

export interface ChatState {
  readonly user: string | null;
  readonly conversations: Readonly<Record<string, Conversation>>;
  readonly active: string | null;
  readonly link: LinkStatus;
  /** Why the app stopped trying to reconnect (a changed node key, a refused password). */
  readonly linkProblem: LinkProblem | null;
  /** §14.13: who is typing where (by conversation key); never cached, it is only ever "now". */
  readonly typing: Readonly<Record<string, readonly Typist[]>>;
  /** §14.19: the users this account blocks; their channel messages are not shown. */
  readonly blocked?: readonly string[];
  /** §14.18: why the last channel closed under us (a kick or ban), told once on the list. */
  readonly removedFrom?: string;
  /** The community node the session moved to after its node failed (state/community), until the link changes again. */
  readonly movedTo?: string;
}

export const initialChatState: ChatState = {
  user: null,
  conversations: {},
  active: null,
  link: 'offline',
  linkProblem: null,
  typing: {},
};

export type ChatAction =
  | ModerationAction
  | ChannelAction
  | SyncAction
  | LifecycleAction
  | TypingAction
  | OutgoingAction
  | { type: 'loggedIn'; user: string; channels: readonly string[] }
  | { type: 'conversationOpened'; destType: DestType; dest: string }
  | { type: 'conversationClosed' }
  | { type: 'conversationLeft'; key: string }
  | { type: 'messageReceived'; message: MsgEvent }
  | { type: 'linkChanged'; link: LinkStatus; problem?: LinkProblem }
  /** Failover: signed in and caught up on another address of the community (null: notice read). */
  | { type: 'nodeMoved'; address: string | null }
  /** Logout: forget everything of the account. */
  | { type: 'loggedOut' };

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'rosterLoaded':
    case 'moderated':
    case 'blocksLoaded':
      return moderationReducer(state, action);
    case 'loggedIn': {
      // After a reconnect: a channel left on another device while we were away is gone (§6 AUTH
      // lists "the channels the user is a member of"), and catching it up would fail NOT_IN_CHANNEL.
      const current = new Set(action.channels);
      const kept = Object.values(state.conversations).filter((c) => c.destType === 'user' || current.has(c.dest));
      let next: ChatState = { ...state, user: action.user, conversations: Object.fromEntries(kept.map((c) => [c.key, c])) };
      if (next.active !== null && !next.conversations[next.active]) next = { ...next, active: null };
      for (const channel of action.channels) next = withConversation(next, ensure(next, 'channel', channel));
      return next;
    }
    case 'conversationOpened': {
      const conversation = ensure(state, action.destType, action.dest);
      return { ...withConversation(state, { ...conversation, unread: 0, mentions: 0 }), active: conversation.key, removedFrom: undefined };
    }
    case 'conversationClosed':
      return { ...state, active: null };
    case 'conversationLeft':
      return withoutConversation(state, action.key);
    case 'channelJoined':
    case 'channelEvent':
      return channelReducer(state, action);
    case 'messageReceived': {
      const me = state.user;
      if (!me || isHidden(state, action.message)) return state;
      const where = conversationOf(action.message, me);
      const conversation = ensure(state, where.destType, where.dest);
      const messages = merge(conversation.messages, [fromEvent(action.message)], { older: false });
      const held = conversation.messages;
      if (messages.length === held.length && messages.every((m, i) => m === held[i])) return state; // already held
      // §14.13: a message from a typist ends their "typing…".
      const typists = state.typing[conversation.key];
      const next = typists?.some((t) => sameName(t.name, action.message.from))
        ? withTyping(state, conversation.key, typists.filter((t) => !sameName(t.name, action.message.from)))
        : state;
      if (conversation.key === state.active || sameName(action.message.from, me)) {
        return withConversation(next, { ...conversation, messages });
      }
      const mentioned = mentions(action.message.content, me) ? 1 : 0;
      const unread = conversation.unread + 1;
      return withConversation(next, { ...conversation, messages, unread, mentions: conversation.mentions + mentioned });
    }
    case 'historyLoaded':
    case 'changesLoaded':
    case 'cacheRestored':
    case 'conversationsListed':
    case 'readMarked':
      return syncReducer(state, action);
    case 'messageEdited':
    case 'messageDeleted':
    case 'reactionChanged':
    case 'ownEdit':
    case 'ownDelete':
    case 'ownReaction':
      return lifecycleReducer(state, action);
    case 'typingChanged':
    case 'typingExpired':
      return typingReducer(state, action);
    case 'sendStarted':
    case 'sendProgress':
    case 'sendSucceeded':
    case 'sendFailed':
    case 'sendRetried':
      return outgoingReducer(state, action);
    case 'linkChanged': {
      const { movedTo: _told, ...rest } = state;
      return { ...(action.link === 'online' ? state : rest), link: action.link, linkProblem: action.problem ?? null };
    }
    case 'nodeMoved': {
      const { movedTo: _told, ...rest } = state;
      return action.address === null ? rest : { ...rest, movedTo: action.address };
    }
    case 'loggedOut':
      return initialChatState;
  }
}
