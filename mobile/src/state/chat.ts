/**
 * The chat state as a pure reducer: conversations, their messages with pending/sent/failed
 * states, unread counts. No I/O here, so every transition is tested without a network.
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
  /** Upload progress 0..1 of a pending image. */
  readonly progress?: number;
  /** A local preview of an image being sent. */
  readonly previewUri?: string;
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
}

export const initialChatState: ChatState = { user: null, conversations: {}, active: null, link: 'offline' };

export type ChatAction =
  | { type: 'loggedIn'; user: string; channels: readonly string[] }
  | { type: 'conversationOpened'; destType: DestType; dest: string }
  | { type: 'conversationClosed' }
  | { type: 'conversationLeft'; key: string }
  | { type: 'messageReceived'; message: MsgEvent }
  | { type: 'historyLoaded'; key: string; messages: readonly MsgEvent[]; older: boolean; limit: number }
  | { type: 'sendStarted'; key: string; localKey: string; content: string; timestamp: number; previewUri?: string }
  | { type: 'sendProgress'; key: string; localKey: string; progress: number }
  | { type: 'sendSucceeded'; key: string; localKey: string; id: string; timestamp: number }
  | { type: 'sendFailed'; key: string; localKey: string }
  | { type: 'sendRetried'; key: string; localKey: string }
  | { type: 'linkChanged'; link: LinkStatus }
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

/** Merge messages by id, keeping server order (oldest first) and any local pending ones last. */
function merge(existing: readonly ChatMessage[], incoming: readonly ChatMessage[], older: boolean): ChatMessage[] {
  const known = new Set(existing.map((m) => m.id).filter(Boolean));
  const fresh = incoming.filter((m) => !known.has(m.id));
  return older ? [...fresh, ...existing] : [...existing, ...fresh];
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'loggedIn': {
      let next: ChatState = { ...state, user: action.user, link: 'online' };
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
      const messages = merge(conversation.messages, [fromEvent(action.message)], false);
      if (messages.length === conversation.messages.length) return state;
      const mine = action.message.from.toLowerCase() === state.user.toLowerCase();
      const unread = conversation.key === state.active || mine ? 0 : conversation.unread + 1;
      return withConversation(state, { ...conversation, messages, unread });
    }
    case 'historyLoaded': {
      const conversation = state.conversations[action.key];
      if (!conversation) return state;
      const messages = merge(conversation.messages, action.messages.map(fromEvent), action.older);
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
      }));
    }
    case 'sendFailed':
      return updateMessage(state, action.key, action.localKey, (m) => ({ ...m, status: 'failed' }));
    case 'sendRetried':
      return updateMessage(state, action.key, action.localKey, (m) => ({ ...m, status: 'pending' }));
    case 'linkChanged':
      return { ...state, link: action.link };
    case 'loggedOut':
      return initialChatState;
  }
}

/** Conversations for the list: most recent activity first. */
export function sortedConversations(state: ChatState): Conversation[] {
  const last = (c: Conversation) => c.messages.at(-1)?.timestamp ?? 0;
  return Object.values(state.conversations).sort((a, b) => last(b) - last(a) || a.key.localeCompare(b.key));
}
