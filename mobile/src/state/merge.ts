/**
 * How the node's messages enter a conversation: as chat messages, merged by id in the node's
 * order (live, in a catch-up page, in a page going back), held copies refreshed with the node's
 * current one, and the change numbers (§14.14) that say which is newer. Pure functions: the
 * reducers (state/chat, state/sync, state/channels) place messages only through them.
 */
import type { MsgEvent } from '../protocol/messages';
import type { ChatMessage } from './chat';
import { sameName } from './names';

export function fromEvent(message: MsgEvent): ChatMessage {
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

/** §14.14: is change number `a` newer than `b`? Decimal strings of any length. */
export function newerRev(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const x = a.replace(/^0+(?=.)/, '');
  const y = b.replace(/^0+(?=.)/, '');
  return x.length !== y.length ? x.length > y.length : x > y;
}

/** The newest of a conversation's change number and those of `messages`. */
export function newestRev(current: string | undefined, messages: readonly { rev?: string }[]): string | undefined {
  let newest = current;
  for (const m of messages) if (m.rev !== undefined && newerRev(m.rev, newest)) newest = m.rev;
  return newest;
}

/** Where merged messages go: before everything, right after an anchor id, or last. */
export type Placement = { readonly older: true } | { readonly older: false; readonly after?: string };

/**
 * Merge messages by id (one copy each, however often the node sends it: live, in a catch-up
 * page, as the id of our own `OK`), confirmed messages in the node's order, unconfirmed last.
 */
export function merge(existing: readonly ChatMessage[], incoming: readonly ChatMessage[], placement: Placement): ChatMessage[] {
  const confirmed = withoutEarlierCopies(
    existing.filter((m) => m.id !== undefined),
    incoming,
  );
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

/**
 * §3: a message seen just before its node lost power comes back under a new id (its sender's
 * client sends it again, with the same cid): the copy with the old id goes.
 */
function withoutEarlierCopies(confirmed: ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  const byCid = new Map<string, ChatMessage[]>();
  for (const m of incoming) {
    if (m.cid !== undefined && m.id !== undefined) byCid.set(m.cid, [...(byCid.get(m.cid) ?? []), m]);
  }
  if (byCid.size === 0) return confirmed;
  const resent = (held: ChatMessage): boolean =>
    held.cid !== undefined && (byCid.get(held.cid) ?? []).some((m) => m.id !== held.id && sameName(m.from, held.from));
  return confirmed.filter((held) => !resent(held));
}

/**
 * The messages held, each replaced by the node's current copy when `current` has one (a
 * HISTORY page or CHANGES): its text, edit time, tombstone, reactions and quote. What is not
 * held is not added (CHANGES also lists new messages; HISTORY `after` brings those in order).
 */
export function refreshHeld(held: readonly ChatMessage[], current: readonly MsgEvent[]): ChatMessage[] {
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
