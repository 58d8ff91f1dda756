/**
 * What the node tells the chat state of the conversations as a whole (§14.5, §14.6, §14.14):
 * HISTORY pages (catching up, or scrolling back), CHANGES, the CONVERSATIONS list with its
 * counts and read markers, a read marker moved; and what the device kept (state/cache), shown
 * until the node answers. Live messages and events are state/chat and its families.
 */
import { mentions } from '../protocol/mentions';
import type { ConversationInfo, DestType, MsgEvent } from '../protocol/messages';
import type { ChatState, Conversation } from './chat';
import { conversationKey, ensure, withConversation } from './conversations';
import { fromEvent, merge, newerRev, newestRev, type Placement, refreshHeld } from './merge';
import { isHidden } from './moderation';
import { sameName } from './names';

export type SyncAction =
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
  /** §14.14 CHANGES: the current state of messages changed since `rev`; only those held here are updated. */
  | { type: 'changesLoaded'; key: string; messages: readonly MsgEvent[]; rev: string };

export function syncReducer(state: ChatState, action: SyncAction): ChatState {
  switch (action.type) {
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
    case 'cacheRestored':
      return action.conversations.reduce(applyCached, state);
    case 'conversationsListed':
      return action.conversations.reduce(applyConversationInfo, state);
    case 'readMarked':
      return applyReadMarker(state, action.destType, action.dest, action.read);
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
