/**
 * The lifecycle of a message in the chat state (ArTP/1.1 §14.9-14.12): edits, deletes
 * (tombstones) and reactions, from the node's events or our own requests' OK, applied to the
 * message and to every quote of it in replies. The quote text and the "did I react" test live
 * here too, as the screens and the session ask them.
 */
import { MAX_QUOTE } from '../protocol/limits';
import { mentions } from '../protocol/mentions';
import type { DeleteEvent, EditEvent, Reaction, ReactionEvent, ReplyQuote } from '../protocol/messages';
import type { ChatMessage, ChatState, Conversation } from './chat';
import { eventConversation, withConversation } from './conversations';
import { sameName } from './names';

export type LifecycleAction =
  /** §14.10-14.12 events: a message edited, deleted, or its reactions changed. */
  | { type: 'messageEdited'; event: EditEvent }
  | { type: 'messageDeleted'; event: DeleteEvent }
  | { type: 'reactionChanged'; event: ReactionEvent }
  /** Our own EDIT/DELETE/REACT answered OK: applied at once, as the event would (it goes to our other sessions only). */
  | { type: 'ownEdit'; key: string; id: string; content: string; edited: number }
  | { type: 'ownDelete'; key: string; id: string; deleted: number }
  | { type: 'ownReaction'; key: string; id: string; emoji: string; added: boolean; count: number };

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

export function lifecycleReducer(state: ChatState, action: LifecycleAction): ChatState {
  switch (action.type) {
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
