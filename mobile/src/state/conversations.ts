/**
 * Conversations in the chat state: how one is keyed and found (the key of a channel or DM, the
 * conversation a message or event belongs to), made, replaced and dropped without mutation,
 * and read (message ids, the newest, the list's order). Every reducer family (state/chat and
 * its handlers) works through these, so they stay in one place.
 */
import type { DestType, MsgEvent } from '../protocol/messages';
import type { ChatState, Conversation } from './chat';
import { compareNames, sameName } from './names';

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

export function emptyConversation(destType: DestType, dest: string): Conversation {
  return { key: conversationKey(destType, dest), destType, dest, messages: [], unread: 0, mentions: 0, reachedStart: false };
}

/** The conversation an EDIT, DELETE, REACTION or TYPING event is about, seen from `me` (as MSG). */
export function eventConversation(
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

/** §6 JOIN: "members (the members' names, sorted case-insensitively)". */
export function sortMembers(members: Iterable<string>): string[] {
  return [...members].sort(compareNames);
}

/** The ids the node gave to messages (not to system lines): the only valid HISTORY anchors (§5). */
export function messageIds(conversation: Conversation): string[] {
  return conversation.messages.flatMap((m) => (m.id !== undefined && !m.system ? [m.id] : []));
}

export function withConversation(state: ChatState, conversation: Conversation): ChatState {
  return { ...state, conversations: { ...state.conversations, [conversation.key]: conversation } };
}

export function ensure(state: ChatState, destType: DestType, dest: string): Conversation {
  return state.conversations[conversationKey(destType, dest)] ?? emptyConversation(destType, dest);
}

/** The state without conversation `key` (left here, or on another device); closed if it was open. */
export function withoutConversation(state: ChatState, key: string): ChatState {
  const { [key]: _left, ...rest } = state.conversations;
  return { ...state, conversations: rest, active: state.active === key ? null : state.active };
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
