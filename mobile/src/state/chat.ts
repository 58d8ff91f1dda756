/**
 * The chat state as a pure reducer: conversations, their messages with pending/sent/failed
 * states, unread counts, the link to the node. No I/O here, so every transition is tested
 * without a network.
 *
 * Ordering: messages the node has confirmed (they have an `id`) come first, in the node's
 * order; messages not yet confirmed (pending or failed) follow, in the order they were typed.
 */
import type { Attachment, DestType, MsgEvent } from '../protocol/messages';

export type SendStatus = 'pending' | 'sent' | 'failed';

export interface ChatMessage {
  /** The node's id once known, else a local id (`local:…`). */
  readonly key: string;
  readonly id?: string;
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
  readonly reachedStart: boolean;
}

export type LinkStatus = 'online' | 'connecting' | 'offline';

export interface ChatState {
  readonly user: string | null;
  readonly conversations: Readonly<Record<string, Conversation>>;
  readonly active: string | null;
  readonly link: LinkStatus;
  /** Why the app stopped trying to reconnect (a changed node key, a refused password). */
  readonly linkProblem: string | null;
}

export const initialChatState: ChatState = { user: null, conversations: {}, active: null, link: 'offline', linkProblem: null };

export type ChatAction =
  | { type: 'loggedIn'; user: string; channels: readonly string[] }
  | { type: 'conversationOpened'; destType: DestType; dest: string }
  | { type: 'conversationClosed' }
  | { type: 'conversationLeft'; key: string }
  | { type: 'messageReceived'; message: MsgEvent }
  /**
   * A HISTORY page. `older`: it goes before everything shown (scrolling back). Otherwise it
   * goes right after the message `after` (catching up), or last when there is no anchor.
   */
  | { type: 'historyLoaded'; key: string; messages: readonly MsgEvent[]; older: boolean; limit: number; after?: string }
  | { type: 'sendStarted'; key: string; localKey: string; content: string; timestamp: number; previewUri?: string }
  | { type: 'sendProgress'; key: string; localKey: string; progress: number }
  | { type: 'sendSucceeded'; key: string; localKey: string; id: string; timestamp: number }
  | { type: 'sendFailed'; key: string; localKey: string; error: SendError }
  | { type: 'sendRetried'; key: string; localKey: string }
  | { type: 'linkChanged'; link: LinkStatus; problem?: string }
  | { type: 'loggedOut' };

/** `#channel` for channels, `@user` for direct messages. */
export function conversationKey(destType: DestType, dest: string): string {
  return destType === 'channel' ? dest : `@${dest.toLowerCase()}`;
}

/** The conversation a message belongs to, seen from `me` (a DM is keyed by the other user). */
export function conversationOf(message: MsgEvent, me: string): { destType: DestType; dest: string } {
  if (message.dest_type === 'channel') return { destType: 'channel', dest: message.dest };
  const mine = message.from.toLowerCase() === me.toLowerCase();
  return { destType: 'user', dest: mine ? message.dest : message.from };
}

function emptyConversation(destType: DestType, dest: string): Conversation {
  return { key: conversationKey(destType, dest), destType, dest, messages: [], unread: 0, reachedStart: false };
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
  };
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
  const unconfirmed = existing.filter((m) => m.id === undefined);
  const known = new Set(confirmed.map((m) => m.id));
  const fresh = incoming.filter((m) => !known.has(m.id) && known.add(m.id));
  if (placement.older) return [...fresh, ...confirmed, ...unconfirmed];
  const anchor = placement.after === undefined ? -1 : confirmed.findIndex((m) => m.id === placement.after);
  // Live messages that arrived while a catch-up page was on its way stay after that page.
  if (anchor >= 0) confirmed.splice(anchor + 1, 0, ...fresh);
  else confirmed.push(...fresh);
  return [...confirmed, ...unconfirmed];
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'loggedIn': {
      let next: ChatState = { ...state, user: action.user };
      for (const channel of action.channels) next = withConversation(next, ensure(next, 'channel', channel));
      return next;
    }
    case 'conversationOpened': {
      const conversation = ensure(state, action.destType, action.dest);
      return { ...withConversation(state, { ...conversation, unread: 0 }), active: conversation.key };
    }
    case 'conversationClosed':
      return { ...state, active: null };
    case 'conversationLeft': {
      const { [action.key]: _left, ...rest } = state.conversations;
      return { ...state, conversations: rest, active: state.active === action.key ? null : state.active };
    }
    case 'messageReceived': {
      if (!state.user) return state;
      const where = conversationOf(action.message, state.user);
      const conversation = ensure(state, where.destType, where.dest);
      const messages = merge(conversation.messages, [fromEvent(action.message)], { older: false });
      if (messages.length === conversation.messages.length) return state;
      const mine = action.message.from.toLowerCase() === state.user.toLowerCase();
      const unread = conversation.key === state.active || mine ? 0 : conversation.unread + 1;
      return withConversation(state, { ...conversation, messages, unread });
    }
    case 'historyLoaded': {
      const conversation = state.conversations[action.key];
      if (!conversation) return state;
      const placement: Placement = action.older ? { older: true } : { older: false, after: action.after };
      const messages = merge(conversation.messages, action.messages.map(fromEvent), placement);
      const reachedStart = conversation.reachedStart || (action.older && action.messages.length < action.limit);
      return withConversation(state, { ...conversation, messages, reachedStart });
    }
    case 'sendStarted': {
      const conversation = state.conversations[action.key];
      if (!conversation || !state.user) return state;
      const pending: ChatMessage = {
        key: action.localKey,
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

/** Conversations for the list: most recent activity first. */
export function sortedConversations(state: ChatState): Conversation[] {
  const last = (c: Conversation) => c.messages.at(-1)?.timestamp ?? 0;
  return Object.values(state.conversations).sort((a, b) => last(b) - last(a) || a.key.localeCompare(b.key));
}
