/**
 * A conversation's messages as the rows a chat shows: day separators, the "unread" line before
 * the first message that arrived while the user was away, and consecutive messages of one
 * sender grouped (the name shown once, on the first). Pure, so it is tested without a screen.
 */
import type { ChatMessage } from '../state/chat';

/** Messages of one sender further apart than this start a new group. */
export const GROUP_GAP_SECONDS = 5 * 60;

export type TimelineRow =
  | { readonly kind: 'day'; readonly key: string; readonly label: string }
  | { readonly kind: 'unread'; readonly key: string }
  | {
      readonly kind: 'message';
      readonly key: string;
      readonly message: ChatMessage;
      readonly firstOfGroup: boolean;
      /** The last of its group: the time shows here, once for the group. */
      readonly lastOfGroup: boolean;
    };

/** Local calendar day of a Unix time, as a comparable key. */
function dayKey(timestamp: number): string {
  const date = new Date(timestamp * 1000);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** "Today", "Yesterday", or the date in the user's locale. */
export function dayLabel(timestamp: number, now: Date = new Date()): string {
  const day = dayKey(timestamp);
  if (day === dayKey(now.getTime() / 1000)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (day === dayKey(yesterday.getTime() / 1000)) return 'Yesterday';
  return new Date(timestamp * 1000).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

/** The time of day of a Unix time, hours and minutes, in the user's locale. */
export function timeLabel(timestamp: number): string {
  return new Date(timestamp * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/**
 * The rows for `messages`; `unreadFrom` is the key of the first unread message (the "unread"
 * line goes before it), or null.
 */
export function timelineRows(messages: readonly ChatMessage[], unreadFrom: string | null, now: Date = new Date()): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let previous: ChatMessage | null = null;
  for (const message of messages) {
    let breaks = previous === null;
    if (previous === null || dayKey(previous.timestamp) !== dayKey(message.timestamp)) {
      rows.push({ kind: 'day', key: `day:${dayKey(message.timestamp)}:${message.key}`, label: dayLabel(message.timestamp, now) });
      breaks = true;
    }
    if (message.key === unreadFrom) {
      rows.push({ kind: 'unread', key: 'unread' });
      breaks = true;
    }
    const sameSender =
      !breaks &&
      previous !== null &&
      !previous.system &&
      !message.system &&
      previous.from.toLowerCase() === message.from.toLowerCase() &&
      message.timestamp - previous.timestamp <= GROUP_GAP_SECONDS;
    rows.push({ kind: 'message', key: message.key, message, firstOfGroup: !sameSender, lastOfGroup: true });
    previous = message;
  }
  return rows.map((row, at) => {
    const next = rows[at + 1];
    const continued = row.kind === 'message' && next?.kind === 'message' && !next.firstOfGroup;
    return continued ? { ...row, lastOfGroup: false } : row;
  });
}

/** The key of the first of the last `unread` messages from others, where the "unread" line goes. */
export function firstUnreadKey(messages: readonly ChatMessage[], unread: number, me: string): string | null {
  if (unread <= 0) return null;
  let seen = 0;
  for (let at = messages.length - 1; at >= 0; at -= 1) {
    const message = messages[at] as ChatMessage;
    if (message.system || message.from.toLowerCase() === me.toLowerCase()) continue;
    seen += 1;
    if (seen === unread) return message.key;
  }
  return messages.find((m) => !m.system)?.key ?? null;
}
