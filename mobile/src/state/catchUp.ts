/**
 * What a client does after every sign-in (PROTOCOL.md §6, §14.5): list every conversation of
 * the user, then fetch exactly what it missed in each: `HISTORY after: <last id seen>` page after
 * page until an empty page (the node trims pages to one frame, so a short page is not the end),
 * or the latest page for a conversation never seen here (older pages come on scroll, `before`).
 * Then (§14.14) what changed among the messages held while the device was away.
 */
import type { ArtpClient } from '../protocol/client';
import type { ConversationInfo, DestType, MsgEvent } from '../protocol/messages';
import type { ChatAction, ChatState, Conversation } from './chat';
import { conversationKey, messageIds, newestMessageId } from './conversations';
import { newerRev } from './merge';

export const HISTORY_PAGE = 50;
/**
 * §3: HISTORY's `limit` is at most 200; catching up asks for big pages. The node may answer
 * fewer (it trims a page to fit one frame), so paging goes on until an empty page.
 */
export const CATCH_UP_PAGE = 200;

/** §14.5 CONVERSATIONS, every page: repeated with `cursor: next` until no `next`. */
export async function listConversations(client: ArtpClient): Promise<ConversationInfo[]> {
  const all: ConversationInfo[] = [];
  let cursor: string | undefined;
  do {
    const ok = await client.request({ type: 'CONVERSATIONS', ...(cursor !== undefined ? { cursor } : {}) });
    all.push(...(ok.conversations ?? []));
    cursor = typeof ok.next === 'string' ? ok.next : undefined;
  } while (cursor !== undefined);
  return all;
}

export async function history(
  client: ArtpClient,
  destType: DestType,
  dest: string,
  limit: number,
  bound: { before?: string; after?: string; around?: string },
): Promise<MsgEvent[]> {
  const ok = await client.request({ type: 'HISTORY', dest_type: destType, dest, limit, ...bound });
  return [...(ok.messages ?? [])];
}

/**
 * PROTOCOL.md §6: "Catching up after a reconnect is `after: <last message id seen>`, repeated
 * until empty". Returns what arrived, for settling the outbox on a node without client ids.
 */
export async function catchUpConversation(
  client: ArtpClient,
  conversation: Conversation,
  dispatch: (action: ChatAction) => void,
  pageSize: number,
): Promise<MsgEvent[]> {
  const { key, destType, dest } = conversation;
  let anchor = messageIds(conversation).at(-1);
  if (anchor === undefined) {
    const latest = await history(client, destType, dest, HISTORY_PAGE, {});
    dispatch({ type: 'historyLoaded', key, messages: latest, older: true });
    return latest;
  }
  const missed: MsgEvent[] = [];
  for (;;) {
    const page = await history(client, destType, dest, pageSize, { after: anchor });
    if (page.length === 0) return missed;
    dispatch({ type: 'historyLoaded', key, messages: page, older: false, after: anchor });
    missed.push(...page);
    anchor = (page.at(-1) as MsgEvent).id;
  }
}

/**
 * §14.14: what changed in a conversation since change number `since` (edits, deletes,
 * reactions made while this device was away), page after page while the node says `next`.
 * Only the messages held here are updated; the new ones come in order with HISTORY `after`.
 */
export async function catchUpChanges(
  client: ArtpClient,
  conversation: Conversation,
  since: string,
  dispatch: (action: ChatAction) => void,
  pageSize: number,
): Promise<void> {
  const { key, destType, dest } = conversation;
  let from = since;
  for (;;) {
    const ok = await client.request({ type: 'CHANGES', dest_type: destType, dest, since: from, limit: pageSize });
    const messages = ok.messages ?? [];
    const rev = ok.rev ?? from;
    dispatch({ type: 'changesLoaded', key, messages, rev });
    if (ok.next === undefined || messages.length === 0 || rev === from) return;
    from = rev;
  }
}

/** How far back a jump pages before giving up: 10 pages of 200, 2000 messages. */
export const JUMP_MAX_PAGES = 10;

/**
 * Bring message `id` into the conversation (a tapped reply quote or search result, §14.9):
 * HISTORY `around` it; when that window does not touch what is held, the pages between are
 * fetched going back (`before`), so the timeline stays one unbroken run. Resolves false when
 * the message is further back than `JUMP_MAX_PAGES` pages.
 */
export async function loadAround(
  client: ArtpClient,
  conversation: Conversation,
  id: string,
  dispatch: (action: ChatAction) => void,
): Promise<boolean> {
  const { key, destType, dest } = conversation;
  const held = new Set(messageIds(conversation));
  if (held.has(id)) return true;
  const window = await history(client, destType, dest, HISTORY_PAGE, { around: id });
  if (!window.some((m) => m.id === id)) return false;
  const touches = (page: readonly MsgEvent[]) => page.some((m) => held.has(m.id));
  if (held.size === 0 || touches(window)) {
    dispatch({ type: 'historyLoaded', key, messages: window, older: true });
    return true;
  }
  const inWindow = new Set(window.map((m) => m.id));
  let oldest = messageIds(conversation)[0] as string;
  for (let page = 0; page < JUMP_MAX_PAGES; page += 1) {
    const older = await history(client, destType, dest, CATCH_UP_PAGE, { before: oldest });
    if (older.length === 0) return false;
    const reached = older.some((m) => inWindow.has(m.id));
    dispatch({ type: 'historyLoaded', key, messages: older, older: true });
    if (reached) {
      dispatch({ type: 'historyLoaded', key, messages: window, older: true });
      return true;
    }
    oldest = (older[0] as MsgEvent).id;
  }
  return false;
}

export interface CatchUpDeps {
  readonly dispatch: (action: ChatAction) => void;
  readonly getState: () => ChatState;
  readonly pageSize: number;
}

/**
 * Everything after a sign-in: the conversations listed (§14.5, on a node with `sync`), each
 * caught up unless it already holds the node's newest message, then (§14.14, with `lifecycle`)
 * what changed among the messages held. `atSignIn` is what was here at sign-in: the anchors.
 * Returns what each catch-up brought, for settling the outbox on a node without client ids.
 */
export async function catchUpAll(
  client: ArtpClient,
  atSignIn: ChatState['conversations'],
  deps: CatchUpDeps,
): Promise<Map<string, MsgEvent[]>> {
  const { dispatch, getState, pageSize } = deps;
  // §14.5: the node's newest id per conversation; one that is already here needs no HISTORY.
  const newestOnNode = new Map<string, string | undefined>();
  const revOnNode = new Map<string, string | undefined>();
  if (client.features.has('sync')) {
    const listed = await listConversations(client);
    for (const info of listed) {
      newestOnNode.set(conversationKey(info.dest_type, info.dest), info.last_id);
      revOnNode.set(conversationKey(info.dest_type, info.dest), info.rev);
    }
    dispatch({ type: 'conversationsListed', conversations: listed });
  }
  const caughtUp = new Map<string, MsgEvent[]>();
  for (const current of Object.values(getState().conversations)) {
    const conversation = atSignIn[current.key] ?? current;
    const newest = newestMessageId(conversation);
    if (newest !== undefined && newestOnNode.has(conversation.key) && newestOnNode.get(conversation.key) === newest) continue;
    caughtUp.set(conversation.key, await catchUpConversation(client, conversation, dispatch, pageSize));
  }
  // §14.14: then what changed among the messages held (edits, deletes, reactions made
  // while away), since the newest change seen before this sign-in.
  if (client.features.has('lifecycle')) {
    for (const current of Object.values(getState().conversations)) {
      const since = atSignIn[current.key]?.rev;
      if (since === undefined || messageIds(current).length === 0) continue;
      const onNode = revOnNode.get(current.key);
      if (onNode !== undefined && !newerRev(onNode, since)) continue;
      await catchUpChanges(client, current, since, dispatch, pageSize);
    }
  }
  return caughtUp;
}
