/**
 * Browser notifications: with the tab hidden, a direct message or a mention of the user raises
 * one. Permission is asked only when the user presses the bell (browsers ignore, and users
 * resent, a request on load).
 */
import type { ChatState, Conversation } from '../state/chat';
import { tabHidden } from './browser';

interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): Notification;
}

function api(): NotificationApi | null {
  return (globalThis as { Notification?: NotificationApi }).Notification ?? null;
}

export function notificationsSupported(): boolean {
  return api() !== null;
}

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return api()?.permission ?? 'unsupported';
}

/** Ask for permission; call only from a user action (a button press). */
export async function askNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  const notifications = api();
  if (!notifications) return 'unsupported';
  return notifications.requestPermission();
}

/** Does `content` mention `me` (as a word, `@me` or `me:`), case-insensitively? */
export function mentions(content: string, me: string): boolean {
  const escaped = me.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${escaped}($|[^\\p{L}\\p{N}_])`, 'iu').test(content);
}

/** The messages that arrived between two states and deserve a notification. */
export function notifiable(before: ChatState, after: ChatState): { conversation: Conversation; from: string; content: string }[] {
  const me = after.user;
  if (!me) return [];
  const found: { conversation: Conversation; from: string; content: string }[] = [];
  for (const conversation of Object.values(after.conversations)) {
    const previous = before.conversations[conversation.key];
    const newest = conversation.messages.at(-1);
    if (!newest || newest.system || newest.from.toLowerCase() === me.toLowerCase()) continue;
    // A new last message: in a conversation we had, or the first one of a conversation it created.
    const arrived = previous ? previous.messages.at(-1)?.key !== newest.key : conversation.messages.length === 1;
    if (!arrived || newest.id === undefined) continue;
    if (conversation.destType === 'user' || mentions(newest.content, me)) {
      found.push({ conversation, from: newest.from, content: newest.attachment ? '🖼 image' : newest.content });
    }
  }
  return found;
}

/** Raise a notification for each message worth one, when the tab is hidden and permission given. */
export function notifyArrivals(before: ChatState, after: ChatState, onClick: (conversation: Conversation) => void): void {
  const notifications = api();
  if (!notifications || notifications.permission !== 'granted' || !tabHidden()) return;
  for (const { conversation, from, content } of notifiable(before, after)) {
    const where = conversation.destType === 'channel' ? `${from} in ${conversation.dest}` : from;
    const shown = new notifications(where, { body: content, tag: conversation.key });
    shown.onclick = () => {
      (globalThis as { focus?: () => void }).focus?.();
      onClick(conversation);
    };
  }
}
