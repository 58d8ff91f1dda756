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
import { MAX_QUOTE } from '../protocol/limits';
import type {
  Attachment,
  ConversationInfo,
  DeleteEvent,
  DestType,
  EditEvent,
  JoinEvent,
  MsgEvent,
  PartEvent,
  Reaction,
  ReactionEvent,
  ReplyQuote,
  TopicEvent,
  TypingEvent,
  Modes,
} from '../protocol/messages';
import { TYPING_EXPIRES_MS } from '../protocol/limits';
import { compareNames, sameName } from './names';
import { isHidden, type ModerationAction, moderationReducer } from './moderation';

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
      replyTo?: string;
      reply?: ReplyQuote;
    }
  | { type: 'sendProgress'; key: string; localKey: string; progress: number }
  | { type: 'sendSucceeded'; key: string; localKey: string; id: string; timestamp: number }
  | { type: 'sendFailed'; key: string; localKey: string; error: SendError }
  | { type: 'sendRetried'; key: string; localKey: string }
  | { type: 'linkChanged'; link: LinkStatus; problem?: LinkProblem }
  /** Failover: signed in and caught up on another address of the community (null: notice read). */
  | { type: 'nodeMoved'; address: string | null }
  /** §14.10-14.12 events: a message edited, deleted, or its reactions changed. */
  | { type: 'messageEdited'; event: EditEvent }
  | { type: 'messageDeleted'; event: DeleteEvent }
  | { type: 'reactionChanged'; event: ReactionEvent }
  /** Our own EDIT/DELETE/REACT answered OK: applied at once, as the event would (it goes to our other sessions only). */
  | { type: 'ownEdit'; key: string; id: string; content: string; edited: number }
  | { type: 'ownDelete'; key: string; id: string; deleted: number }
  | { type: 'ownReaction'; key: string; id: string; emoji: string; added: boolean; count: number }
  /** §14.14 CHANGES: the current state of messages changed since `rev`; only those held here are updated. */
  | { type: 'changesLoaded'; key: string; messages: readonly MsgEvent[]; rev: string }
  /** §14.13: a TYPING event, at `now` (ms). */
  | { type: 'typingChanged'; event: TypingEvent; now: number }
  /** Forget the typists whose time ran out by `now` (ms). */
  | { type: 'typingExpired'; now: number }
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
    ...(message.reply_to !== undefined ? { replyTo: message.reply_to } : {}),
    ...(message.reply !== undefined ? { reply: message.reply } : {}),
    ...(message.edited !== undefined ? { edited: message.edited } : {}),
    ...(message.deleted !== undefined ? { deleted: message.deleted, content: '', attachment: undefined } : {}),
    ...(message.reactions !== undefined && message.reactions.length > 0 ? { reactions: message.reactions } : {}),
  };
}

/** §14.9: the first 140 code points, as the node cuts a quote. */
export function quoteText(content: string): string {
  const points = [...content];
  return points.length <= MAX_QUOTE ? content : points.slice(0, MAX_QUOTE).join('');
}

/** Change the message `id` of a conversation, and every quote of it in replies there. */
function changeMessage(
  conversation: Conversation,
  id: string,
  change: (message: ChatMessage) => ChatMessage,
  quote?: (reply: ReplyQuote) => ReplyQuote,
): Conversation {
  let changed = false;
  const messages = conversation.messages.map((m) => {
    if (m.id === id && !m.system) {
      changed = true;
      return change(m);
    }
    if (quote && m.reply?.id === id) {
      changed = true;
      return { ...m, reply: quote(m.reply) };
    }
    return m;
  });
  return changed ? { ...conversation, messages } : conversation;
}

const edit = (content: string, edited: number) => (m: ChatMessage): ChatMessage => ({ ...m, content, edited });
const editQuote = (content: string) => (q: ReplyQuote): ReplyQuote => ({ ...q, content: quoteText(content) });
const tombstone = (deleted: number) => (m: ChatMessage): ChatMessage => {
  const { attachment: _attachment, reactions: _reactions, ...rest } = m;
  return { ...rest, content: '', deleted };
};
const deletedQuote = (q: ReplyQuote): ReplyQuote => ({ ...q, content: '', deleted: true });

/**
 * A reaction added or removed: the count is the node's (exact); the names are ours to keep (the
 * node lists at most ten), so `who` is added or removed and the chip goes when the count is 0.
 */
export function reactionsAfter(
  reactions: readonly Reaction[] | undefined,
  change: { emoji: string; who: string; added: boolean; count: number },
): Reaction[] | undefined {
  const list = [...(reactions ?? [])];
  const at = list.findIndex((r) => r.emoji === change.emoji);
  const users = (at >= 0 ? (list[at]?.users ?? []) : []).filter((name) => !sameName(name, change.who));
  if (change.added) users.push(change.who);
  const next: Reaction = { emoji: change.emoji, count: change.count, users };
  if (change.count <= 0) list.splice(at, at >= 0 ? 1 : 0);
  else if (at >= 0) list[at] = next;
  else list.push(next);
  return list.length > 0 ? list : undefined;
}

/** Whether `me` reacted with `emoji` on a message (as far as the names held here say). */
export function reactedBy(message: ChatMessage, emoji: string, me: string): boolean {
  return message.reactions?.some((r) => r.emoji === emoji && (r.users ?? []).some((name) => sameName(name, me))) ?? false;
}

/** The conversation an EDIT, DELETE, REACTION or TYPING event is about, seen from `me` (as MSG). */
function eventConversation(
  state: ChatState,
  event: { from: string; dest_type: DestType; dest: string },
  me: string,
): Conversation | undefined {
  if (event.dest_type === 'channel') return state.conversations[conversationKey('channel', event.dest)];
  // A DM: the other party. An event from me (my other device) names the peer as dest; from
  // the peer it names me. A DELETE's `from` is who deleted, which in a DM is one of the two.
  const peer = sameName(event.from, me) ? event.dest : event.from;
  return state.conversations[conversationKey('user', peer)];
}

/** §14.14: is change number `a` newer than `b`? Decimal strings of any length. */
export function newerRev(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const x = a.replace(/^0+(?=.)/, '');
  const y = b.replace(/^0+(?=.)/, '');
  return x.length !== y.length ? x.length > y.length : x > y;
}

/** The newest of a conversation's change number and those of `messages`. */
function newestRev(current: string | undefined, messages: readonly { rev?: string }[]): string | undefined {
  let newest = current;
  for (const m of messages) if (m.rev !== undefined && newerRev(m.rev, newest)) newest = m.rev;
  return newest;
}

/** Typists still typing at `now`, without `name`. */
function typistsWithout(typists: readonly Typist[] | undefined, name: string, now: number): Typist[] {
  return (typists ?? []).filter((t) => t.until > now && !sameName(t.name, name));
}

function withTyping(state: ChatState, key: string, typists: readonly Typist[]): ChatState {
  const { [key]: _old, ...rest } = state.typing;
  return { ...state, typing: typists.length > 0 ? { ...rest, [key]: typists } : rest };
}

function fromChannelEvent(event: JoinEvent | PartEvent | TopicEvent): ChatMessage {
  const system: SystemLine = event.type === 'JOIN' ? 'join' : event.type === 'PART' ? 'part' : 'topic';
  const content = event.type === 'TOPIC' ? event.topic : '';
  return { key: event.id, id: event.id, system, from: event.from, content, timestamp: event.timestamp, status: 'sent' };
}

/** §6 JOIN: "members (the members' names, sorted case-insensitively)". */
export function sortMembers(members: Iterable<string>): string[] {
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
      const me = state.user;
      if (!me || isHidden(state, action.message)) return state;
      const where = conversationOf(action.message, me);
      const conversation = ensure(state, where.destType, where.dest);
      const messages = merge(conversation.messages, [fromEvent(action.message)], { older: false });
      if (messages.length === conversation.messages.length) return state;
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
    case 'historyLoaded': {
      const conversation = state.conversations[action.key];
      if (!conversation) return state;
      const placement: Placement = action.older ? { older: true } : { older: false, after: action.after };
      const shown = action.messages.filter((m) => !isHidden(state, m));
      const messages = merge(conversation.messages, shown.map(fromEvent), placement);
      // §6: a page may hold fewer than `limit` messages although more exist (the node trims it
      // to fit one frame); only an empty page going back means the beginning is reached.
      const reachedStart = conversation.reachedStart || (action.older && action.messages.length === 0);
      // A page brings the current state of what it holds (§14.10-14.12): edits made while away.
      const current = refreshHeld(messages, action.messages);
      return withConversation(state, { ...conversation, messages: current, reachedStart, rev: newestRev(conversation.rev, action.messages) });
    }
    case 'changesLoaded': {
      const conversation = state.conversations[action.key];
      if (!conversation) return state;
      const messages = refreshHeld(conversation.messages, action.messages);
      const rev = newestRev(newerRev(action.rev, conversation.rev) ? action.rev : conversation.rev, action.messages);
      return withConversation(state, { ...conversation, messages, rev });
    }
    case 'messageEdited':
    case 'messageDeleted':
    case 'reactionChanged': {
      const event = action.event;
      const me = state.user ?? '';
      const conversation = eventConversation(state, event, me);
      const changed = conversation && applyChange(event.type === 'DELETE' ? uncounted(conversation, event.msg_id, me) : conversation, event);
      return changed && changed !== conversation ? withConversation(state, changed) : state;
    }
    case 'ownEdit':
    case 'ownDelete':
    case 'ownReaction': {
      const conversation = state.conversations[action.key];
      if (!conversation) return state;
      if (action.type === 'ownEdit') {
        return withConversation(state, changeMessage(conversation, action.id, edit(action.content, action.edited), editQuote(action.content)));
      }
      if (action.type === 'ownDelete') {
        return withConversation(state, changeMessage(conversation, action.id, tombstone(action.deleted), deletedQuote));
      }
      const who = state.user ?? '';
      const change = { emoji: action.emoji, who, added: action.added, count: action.count };
      return withConversation(state, changeMessage(conversation, action.id, (m) => ({ ...m, reactions: reactionsAfter(m.reactions, change) })));
    }
    case 'typingChanged': {
      const event = action.event;
      const me = state.user ?? '';
      if (sameName(event.from, me)) return state; // §14.13: never our own
      const conversation = eventConversation(state, event, me);
      if (!conversation) return state;
      const typists = typistsWithout(state.typing[conversation.key], event.from, action.now);
      if (event.typing) typists.push({ name: event.from, until: action.now + (event.expires_ms ?? TYPING_EXPIRES_MS) });
      return withTyping(state, conversation.key, typists);
    }
    case 'typingExpired': {
      let next = state;
      for (const [key, typists] of Object.entries(state.typing)) {
        const live = typists.filter((t) => t.until > action.now);
        if (live.length !== typists.length) next = withTyping(next, key, live);
      }
      return next;
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
        ...(action.replyTo !== undefined ? { replyTo: action.replyTo, reply: action.reply } : {}),
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

/**
 * §14.5: a deleted message is neither unread nor a mention. One that counted (not ours, not
 * already deleted, after the read marker as `applyReadMarker` places it) leaves the counts.
 */
function uncounted(conversation: Conversation, id: string, me: string): Conversation {
  const at = conversation.messages.findIndex((m) => m.id === id && !m.system);
  const message = conversation.messages[at];
  if (!message || message.deleted !== undefined || sameName(message.from, me) || conversation.unread === 0) return conversation;
  if (conversation.read !== undefined) {
    const readAt = conversation.messages.findIndex((m) => m.id === conversation.read && !m.system);
    if (readAt < 0 || readAt >= at) return conversation;
  }
  const mentioned = mentions(message.content, me) && conversation.mentions > 0 ? 1 : 0;
  return { ...conversation, unread: conversation.unread - 1, mentions: conversation.mentions - mentioned };
}

/** An EDIT, DELETE or REACTION event applied to the message it names (and the quotes of it). */
function applyChange(conversation: Conversation, event: EditEvent | DeleteEvent | ReactionEvent): Conversation {
  if (event.type === 'EDIT') {
    return changeMessage(conversation, event.msg_id, edit(event.content, event.edited), editQuote(event.content));
  }
  if (event.type === 'DELETE') {
    return changeMessage(conversation, event.msg_id, tombstone(event.timestamp ?? Math.floor(Date.now() / 1000)), deletedQuote);
  }
  const change = { emoji: event.emoji, who: event.from, added: event.added, count: event.count };
  return changeMessage(conversation, event.msg_id, (m) => ({ ...m, reactions: reactionsAfter(m.reactions, change) }));
}

/**
 * The messages held, each replaced by the node's current copy when `current` has one (a
 * HISTORY page or CHANGES): its text, edit time, tombstone, reactions and quote. What is not
 * held is not added (CHANGES also lists new messages; HISTORY `after` brings those in order).
 */
function refreshHeld(held: readonly ChatMessage[], current: readonly MsgEvent[]): ChatMessage[] {
  if (current.length === 0) return [...held];
  const byId = new Map(current.map((m) => [m.id, m]));
  return held.map((m) => {
    const now = m.id !== undefined && !m.system ? byId.get(m.id) : undefined;
    if (!now) return m;
    const fresh = fromEvent(now);
    return {
      ...m,
      content: fresh.content,
      attachment: fresh.attachment,
      edited: fresh.edited,
      deleted: fresh.deleted,
      reactions: fresh.reactions,
      replyTo: fresh.replyTo ?? m.replyTo,
      reply: fresh.reply ?? m.reply,
    };
  });
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
