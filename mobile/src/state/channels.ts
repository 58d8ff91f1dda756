/**
 * Channels in the chat state (§6-§7): the OK to our JOIN (topic and members), and the JOIN,
 * PART and TOPIC events as system lines among the messages that also keep the members and the
 * topic current. A PART of our own user (on another device) closes the channel here.
 */
import type { JoinEvent, PartEvent, TopicEvent } from '../protocol/messages';
import type { ChatMessage, ChatState, Conversation, SystemLine } from './chat';
import { conversationKey, ensure, sortMembers, withConversation, withoutConversation } from './conversations';
import { merge } from './merge';
import { sameName } from './names';

export type ChannelAction =
  /** The `OK` to our JOIN: the channel's topic and members. */
  | { type: 'channelJoined'; channel: string; topic: string; members: readonly string[] }
  /** A JOIN, PART or TOPIC event (§7). */
  | { type: 'channelEvent'; event: JoinEvent | PartEvent | TopicEvent };

export function channelReducer(state: ChatState, action: ChannelAction): ChatState {
  switch (action.type) {
    case 'channelJoined': {
      const conversation = ensure(state, 'channel', action.channel);
      return withConversation(state, { ...conversation, topic: action.topic, members: sortMembers(action.members) });
    }
    case 'channelEvent':
      return applyChannelEvent(state, action.event);
  }
}

function fromChannelEvent(event: JoinEvent | PartEvent | TopicEvent): ChatMessage {
  const system: SystemLine = event.type === 'JOIN' ? 'join' : event.type === 'PART' ? 'part' : 'topic';
  const content = event.type === 'TOPIC' ? event.topic : '';
  return { key: event.id, id: event.id, system, from: event.from, content, timestamp: event.timestamp, status: 'sent' };
}

/** A JOIN, PART or TOPIC event: a line in the channel, and its members or topic updated. */
function applyChannelEvent(state: ChatState, event: JoinEvent | PartEvent | TopicEvent): ChatState {
  const me = state.user ?? '';
  const key = conversationKey('channel', event.channel);
  // PROTOCOL.md §7: "A PART whose from is the client's own user means you left this channel on another device".
  if (event.type === 'PART' && sameName(event.from, me)) return withoutConversation(state, key);
  const conversation = ensure(state, 'channel', event.channel);
  const messages = merge(conversation.messages, [fromChannelEvent(event)], { older: false });
  const changed: Conversation = { ...conversation, messages };
  if (event.type === 'TOPIC') return withConversation(state, { ...changed, topic: event.topic });
  if (!conversation.members) return withConversation(state, changed);
  const others = conversation.members.filter((name) => !sameName(name, event.from));
  const members = event.type === 'JOIN' ? sortMembers([...others, event.from]) : others;
  return withConversation(state, { ...changed, members });
}
