/**
 * Moderation in the chat state (ArTP/1.1 §14.16-14.19): members' roles and a channel's
 * modes (from CHANNEL_INFO, then MODERATION events), MODERATION events as system lines, and
 * the users this account blocks, whose channel messages the UI hides.
 *
 * A kick or ban of the user themself closes the channel here, as a PART from the user does
 * (§7); the node also sends that PART, so either order ends the same.
 */
import type { MemberRole, ModerationEvent, Modes } from '../protocol/messages';
import { describeModeration } from '../protocol/moderation';
import type { ChatMessage, ChatState, Conversation } from './chat';
import { conversationKey, sortMembers } from './conversations';
import { sameName } from './names';

export type ModerationAction =
  /** CHANNEL_INFO's answer: every member's role and the channel's modes. */
  | { type: 'rosterLoaded'; channel: string; roster: readonly MemberRole[]; modes: Modes }
  /** A MODERATION event from the node, or our own request's OK told as one. */
  | { type: 'moderated'; event: ModerationEvent }
  /** BLOCKS (or a BLOCK): who this account blocks now. */
  | { type: 'blocksLoaded'; users: readonly string[] };

/** The roles other than `member`, by lower-cased name. */
export function rolesOf(roster: readonly MemberRole[]): Record<string, string> {
  return Object.fromEntries(roster.filter((m) => m.role !== 'member').map((m) => [m.user.toLowerCase(), m.role]));
}

export function moderationLine(event: ModerationEvent, me: string | null): ChatMessage {
  return {
    key: event.id,
    id: event.id,
    system: 'moderation',
    from: event.by,
    content: describeModeration(event, me),
    timestamp: event.timestamp,
    status: 'sent',
  };
}

function withRole(conversation: Conversation, user: string, role: string): Conversation {
  const roles = { ...(conversation.roles ?? {}) };
  if (role === 'member') delete roles[user.toLowerCase()];
  else roles[user.toLowerCase()] = role;
  return { ...conversation, roles };
}

/** Whether a message is hidden for this account (a blocked user's, in a channel). */
export function isHidden(state: ChatState, message: { from: string; dest_type?: string }): boolean {
  return message.dest_type === 'channel' && (state.blocked ?? []).some((name) => sameName(name, message.from));
}

export function moderationReducer(state: ChatState, action: ModerationAction): ChatState {
  switch (action.type) {
    case 'rosterLoaded': {
      const key = conversationKey('channel', action.channel);
      const conversation = state.conversations[key];
      if (!conversation) return state;
      // The whole roster, every page: the member list JOIN gave may have been trimmed.
      const members = sortMembers(action.roster.map((member) => member.user));
      const changed = { ...conversation, roles: rolesOf(action.roster), modes: action.modes, members };
      return { ...state, conversations: { ...state.conversations, [key]: changed } };
    }
    case 'moderated': {
      const { event } = action;
      const key = conversationKey('channel', event.channel);
      const conversation = state.conversations[key];
      const aboutMe = state.user !== null && event.user !== undefined && sameName(event.user, state.user);
      if (!conversation) return state;
      if (aboutMe && (event.action === 'kick' || event.action === 'ban')) {
        const { [key]: _gone, ...rest } = state.conversations;
        return { ...state, conversations: rest, active: state.active === key ? null : state.active, removedFrom: moderationLine(event, state.user).content };
      }
      if (conversation.messages.some((m) => m.key === event.id)) return state;
      let changed: Conversation = { ...conversation, messages: [...conversation.messages, moderationLine(event, state.user)] };
      const user = event.user;
      if ((event.action === 'kick' || event.action === 'ban') && user !== undefined) {
        changed = withRole({ ...changed, members: changed.members?.filter((m) => !sameName(m, user)) }, user, 'member');
      } else if (event.action === 'role' && user !== undefined && event.role !== undefined) {
        changed = withRole(changed, user, event.role);
      } else if (event.action === 'mode' && event.modes) {
        changed = { ...changed, modes: event.modes };
      }
      return { ...state, conversations: { ...state.conversations, [key]: changed } };
    }
    case 'blocksLoaded': {
      const blocked = action.users;
      const hidden = (m: ChatMessage) => !m.system && blocked.some((name) => sameName(name, m.from));
      const conversations = Object.fromEntries(
        Object.entries(state.conversations).map(([key, c]) => [
          key,
          c.destType === 'channel' && c.messages.some(hidden) ? { ...c, messages: c.messages.filter((m) => !hidden(m)) } : c,
        ]),
      );
      return { ...state, blocked, conversations };
    }
  }
}
