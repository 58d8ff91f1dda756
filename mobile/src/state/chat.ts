/**
 * The chat state as a pure reducer: conversations, their messages with pending/sent/failed
 * states, unread counts, the link to the node. No I/O here, so every transition is tested
 * without a network.
 *
 * Ordering: messages the node has confirmed (they have an `id`) come first, in the node's
 * order; messages not yet confirmed (pending or failed) follow, in the order they were typed.
 * Membership and topic changes (JOIN, PART, TOPIC events, §7) are lines among the messages,
 * marked `system`; their ids are not message ids, so they are never a HISTORY anchor (§5).
 */
import { mentions } from '../protocol/mentions';
import type {
  Attachment,
  ConversationInfo,
  DestType,
  JoinEvent,
  MsgEvent,
  PartEvent,
  TopicEvent,
} from '../protocol/messages';
import { compareNames, sameName } from './names';

export type SendStatus = 'pending' | 'sent' | 'failed';

/** A line that is not a message: someone joined, left, or set the topic. */
export type SystemLine = 'join' | 'part' | 'topic';

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
}

export const initialChatState: ChatState = { user: null, conversations: {}, active: null, link: 'offline', linkProblem: null };

export type ChatAction =
  | { type: 'loggedIn'; user: string; channels: readonly string[] }
  | { type: 'conversationOpened'; destType: DestType; dest: string }
  | { type: 'conversationClosed' }
  | { type: 'conversationLeft'; key: string }
  /** The `OK` to our JOIN: the channel's topic and members. */
  | { type: 'channelJoined'; channel: string; topic: string; members: readonly string[] }
  | { type: 'messageReceived'; message: MsgEvent }
  /** A JOIN, PART or TOPIC event (§7). */
  | { type: 'channelEvent'; event: JoinEvent | PartEvent | TopicEvent }
  /**
   * A HISTORY page. `older`: it goes before everything shown (scrolling back). Otherwise it
   * goes right after the message `after` (catching up), or last when there is no anchor.
   */
  | { type: 'historyLoaded'; key: string; messages: readonly MsgEvent[]; older: boolean; after?: string }
  /** What the device kept of the conversations (state/cache), shown until the node answers. */
  | { type: 'cacheRestored'; conversations: readonly Conversation[] }
  /** §14.5 CONVERSATIONS: every conversation of the user with its counts and read marker. */
  | { type: 'conversationsListed'; conversations: readonly ConversationInfo[] }
  /** §14.6: the read marker of a conversation now (our READ's OK, or a READ event from another device). */
  | { type: 'readMarked'; destType: DestType; dest: string; read: string }
  | {
      type: 'sendStarted';
      key: string;
      destType: DestType;
      dest: string;
      localKey: string;
      cid: string;
      content: string;
      timestamp: number;
      previewUri?: string;
    }
  | { type: 'sendProgress'; key: string; localKey: string; progress: number }
  | { type: 'sendSucceeded'; key: string; localKey: string; id: string; timestamp: number }
  | { type: 'sendFailed'; key: string; localKey: string; error: SendError }
  | { type: 'sendRetried'; key: string; localKey: string }
  | { type: 'linkChanged'; link: LinkStatus; problem?: LinkProblem }
  /** Logout: forget everything of the account. */
  | { type: 'loggedOut' };

/** `#channel` for channels, `@user` for direct messages. */
export function conversationKey(destType: DestType, dest: string): string {
  return destType === 'channel' ? dest : `@${dest.toLowerCase()}`;
}

/** The destination a conversation key names (the inverse of `conversationKey`). */
export function destinationOf(key: string): { destType: DestType; dest: string } {
  return key.startsWith('@') ? { destType: 'user', dest: key.slice(1) } : { destType: 'channel', dest: key };
}

/** The conversation a message belongs to, seen from `me` (a DM is keyed by the other user). */
export function conversationOf(message: MsgEvent, me: string): { destType: DestType; dest: string } {
  if (message.dest_type === 'channel') return { destType: 'channel', dest: message.dest };
  return { destType: 'user', dest: sameName(message.from, me) ? message.dest : message.from };
}

function emptyConversation(destType: DestType, dest: string): Conversation {
  return { key: conversationKey(destType, dest), destType, dest, messages: [], unread: 0, mentions: 0, reachedStart: false };
}

function fromEvent(message: MsgEvent): ChatMessage {
  return {
    key: message.id,
    id: message.id,
    from: message.from,
    content: message.content,
    timestamp: message.timestamp,
    status: 'sent',
    attachment: message.attachment,
    cid: message.cid,
  };
}

function fromChannelEvent(event: JoinEvent | PartEvent | TopicEvent): ChatMessage {
  const system: SystemLine = event.type === 'JOIN' ? 'join' : event.type === 'PART' ? 'part' : 'topic';
  const content = event.type === 'TOPIC' ? event.topic : '';
  return { key: event.id, id: event.id, system, from: event.from, content, timestamp: event.timestamp, status: 'sent' };
}

/** §6 JOIN: "members (the members' names, sorted case-insensitively)". */
function sortMembers(members: Iterable<string>): string[] {
  return [...members].sort(compareNames);
}

/** The ids the node gave to messages (not to system lines): the only valid HISTORY anchors (§5). */
export function messageIds(conversation: Conversation): string[] {
  return conversation.messages.flatMap((m) => (m.id !== undefined && !m.system ? [m.id] : []));
}

function withConversation(state: ChatState, conversation: Conversation): ChatState {
  return { ...state, conversations: { ...state.conversations, [conversation.key]: conversation } };
}

function ensure(state: ChatState, destType: DestType, dest: string): Conversation {
  return state.conversations[conversationKey(destType, dest)] ?? emptyConversation(destType, dest);
}

function updateMessage(
  state: ChatState,
  key: string,
  localKey: string,
  change: (message: ChatMessage) => ChatMessage,
): ChatState {
  const conversation = state.conversations[key];
  if (!conversation) return state;
  const messages = conversation.messages.map((m) => (m.key === localKey ? change(m) : m));
  return withConversation(state, { ...conversation, messages });
}

/** Where merged messages go: before everything, right after an anchor id, or last. */
type Placement = { readonly older: true } | { readonly older: false; readonly after?: string };

/**
 * Merge messages by id (one copy each, however often the node sends it: live, in a catch-up
 * page, as the id of our own `OK`), confirmed messages in the node's order, unconfirmed last.
 */
function merge(existing: readonly ChatMessage[], incoming: readonly ChatMessage[], placement: Placement): ChatMessage[] {
  const confirmed = existing.filter((m) => m.id !== undefined);
  // §14.4: the node's copy of a message still pending here (same cid) replaces the pending one.
  const arriving = new Set(incoming.flatMap((m) => (m.cid !== undefined ? [m.cid] : [])));
  const unconfirmed = existing.filter((m) => m.id === undefined && !(m.cid !== undefined && arriving.has(m.cid)));
  const known = new Set(confirmed.map((m) => m.id));
  const fresh = incoming.filter((m) => !known.has(m.id) && known.add(m.id));
  if (placement.older) return [...fresh, ...confirmed, ...unconfirmed];
  let at = placement.after === undefined ? -1 : confirmed.findIndex((m) => m.id === placement.after);
  if (at < 0) return [...confirmed, ...fresh, ...unconfirmed];
  // Live messages that arrived while a catch-up page was on its way stay after that page. The
  // system lines right after the anchor were seen before the link dropped (HISTORY holds only
  // messages, so what the page brings happened later): the page goes after them.
  at += 1;
  while (confirmed[at]?.system) at += 1;
  confirmed.splice(at, 0, ...fresh);
  return [...confirmed, ...unconfirmed];
}

/** A JOIN, PART or TOPIC event: a line in the channel, and its members or topic updated. */
function applyChannelEvent(state: ChatState, event: JoinEvent | PartEvent | TopicEvent): ChatState {
  const me = state.user ?? '';
  const key = conversationKey('channel', event.channel);
  // PROTOCOL.md §7: "A PART whose from is the client's own user means you left this channel on another device".
  if (event.type === 'PART' && sameName(event.from, me)) return chatReducer(state, { type: 'conversationLeft', key });
  const conversation = ensure(state, 'channel', event.channel);
  const messages = merge(conversation.messages, [fromChannelEvent(event)], { older: false });
  const changed: Conversation = { ...conversation, messages };
  if (event.type === 'TOPIC') return withConversation(state, { ...changed, topic: event.topic });
  if (!conversation.members) return withConversation(state, changed);
  const others = conversation.members.filter((name) => !sameName(name, event.from));
  const members = event.type === 'JOIN' ? sortMembers([...others, event.from]) : others;
  return withConversation(state, { ...changed, members });
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
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
      return { ...withConversation(state, { ...conversation, unread: 0, mentions: 0 }), active: conversation.key };
    }
    case 'conversationClosed':
      return { ...state, active: null };
    case 'conversationLeft': {
      const { [action.key]: _left, ...rest } = state.conversations;
      return { ...state, conversations: rest, active: state.active === action.key ? null : state.active };
    }
    case 'channelJoined': {
      const conversation = ensure(state, 'channel', action.channel);
      return withConversation(state, { ...conversation, topic: action.topic, members: sortMembers(action.members) });
    }
    case 'channelEvent':
      return applyChannelEvent(state, action.event);
    case 'messageReceived': {
      if (!state.user) return state;
      const where = conversationOf(action.message, state.user);
      const conversation = ensure(state, where.destType, where.dest);
      const messages = merge(conversation.messages, [fromEvent(action.message)], { older: false });
      if (messages.length === conversation.messages.length) return state;
      if (conversation.key === state.active || sameName(action.message.from, state.user)) {
        return withConversation(state, { ...conversation, messages });
      }
      const mentioned = mentions(action.message.content, state.user) ? 1 : 0;
      const unread = conversation.unread + 1;
      return withConversation(state, { ...conversation, messages, unread, mentions: conversation.mentions + mentioned });
    }
    case 'historyLoaded': {
      const conversation = state.conversations[action.key];
      if (!conversation) return state;
      const placement: Placement = action.older ? { older: true } : { older: false, after: action.after };
      const messages = merge(conversation.messages, action.messages.map(fromEvent), placement);
      // §6: a page may hold fewer than `limit` messages although more exist (the node trims it
      // to fit one frame); only an empty page going back means the beginning is reached.
      const reachedStart = conversation.reachedStart || (action.older && action.messages.length === 0);
      return withConversation(state, { ...conversation, messages, reachedStart });
    }
    case 'cacheRestored':
      return action.conversations.reduce(applyCached, state);
    case 'conversationsListed':
      return action.conversations.reduce(applyConversationInfo, state);
    case 'readMarked':
      return applyReadMarker(state, action.destType, action.dest, action.read);
    case 'sendStarted': {
      if (!state.user) return state;
      const conversation = ensure(state, action.destType, action.dest);
      // Shown again after a sign-in (the outbox restored): one bubble per message.
      if (conversation.messages.some((m) => m.key === action.localKey)) return state;
      const pending: ChatMessage = {
        key: action.localKey,
        cid: action.cid,
        from: state.user,
        content: action.content,
        timestamp: action.timestamp,
        status: 'pending',
        previewUri: action.previewUri,
        progress: action.previewUri ? 0 : undefined,
      };
      return withConversation(state, { ...conversation, messages: [...conversation.messages, pending] });
    }
    case 'sendProgress':
      return updateMessage(state, action.key, action.localKey, (m) => ({ ...m, progress: action.progress }));
    case 'sendSucceeded': {
      const conversation = state.conversations[action.key];
      // The same message may already be here from HISTORY after a reconnect: keep one copy.
      if (conversation?.messages.some((m) => m.id === action.id)) {
        const messages = conversation.messages.filter((m) => m.key !== action.localKey);
        return withConversation(state, { ...conversation, messages });
      }
      return updateMessage(state, action.key, action.localKey, (m) => ({
        ...m,
        id: action.id,
        timestamp: action.timestamp,
        status: 'sent',
        progress: undefined,
        error: undefined,
      }));
    }
    case 'sendFailed':
      return updateMessage(state, action.key, action.localKey, (m) => ({ ...m, status: 'failed', error: action.error }));
    case 'sendRetried':
      return updateMessage(state, action.key, action.localKey, (m) => ({
        ...m,
        status: 'pending',
        error: undefined,
        progress: m.previewUri ? 0 : undefined,
      }));
    case 'linkChanged':
      return { ...state, link: action.link, linkProblem: action.problem ?? null };
    case 'loggedOut':
      return initialChatState;
  }
}

/** A cached conversation: added, or its messages merged (by id) before what is already here. */
function applyCached(state: ChatState, cached: Conversation): ChatState {
  const present = state.conversations[cached.key];
  if (!present) return withConversation(state, cached);
  return withConversation(state, { ...cached, ...present, messages: merge(present.messages, cached.messages, { older: true }) });
}

/** A CONVERSATIONS entry: the conversation listed (made if new) with the node's counts and marker. */
function applyConversationInfo(state: ChatState, info: ConversationInfo): ChatState {
  const conversation = ensure(state, info.dest_type, info.dest);
  const opened = conversation.key === state.active;
  return withConversation(state, {
    ...conversation,
    unread: opened ? 0 : info.unread,
    mentions: opened ? 0 : info.mentions,
    read: info.read ?? conversation.read,
    lastTimestamp: info.last_timestamp ?? conversation.lastTimestamp,
  });
}

/**
 * A read marker moved (§14.6). Message ids are opaque (§5), so what is still unread is counted
 * from where the marker sits among the messages held here; a marker not among them is past them
 * (another device read what this one has not loaded yet, or up to the newest): nothing unread.
 */
function applyReadMarker(state: ChatState, destType: DestType, dest: string, read: string): ChatState {
  const conversation = state.conversations[conversationKey(destType, dest)];
  if (!conversation) return state;
  const me = state.user ?? '';
  const at = conversation.messages.findIndex((m) => m.id === read && !m.system);
  const after = at < 0 ? [] : conversation.messages.slice(at + 1).filter((m) => !m.system && m.id !== undefined && !sameName(m.from, me));
  const mentioned = after.filter((m) => mentions(m.content, me)).length;
  return withConversation(state, { ...conversation, read, unread: after.length, mentions: mentioned });
}

/** The newest message the node confirmed in a conversation: what "read up to here" names. */
export function newestMessageId(conversation: Conversation): string | undefined {
  return messageIds(conversation).at(-1);
}

/** Conversations for the list: most recent activity first. */
export function sortedConversations(state: ChatState): Conversation[] {
  const last = (c: Conversation) => Math.max(c.messages.at(-1)?.timestamp ?? 0, c.lastTimestamp ?? 0);
  return Object.values(state.conversations).sort((a, b) => last(b) - last(a) || a.key.localeCompare(b.key));
}
