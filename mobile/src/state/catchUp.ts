/**
 * What a client does after every sign-in (PROTOCOL.md §6, §14.5): list every conversation of
 * the user, then fetch exactly what it missed in each: `HISTORY after: <last id seen>` page after
 * page until an empty page (the node trims pages to one frame, so a short page is not the end),
 * or the latest page for a conversation never seen here (older pages come on scroll, `before`).
 */
import type { ArtpClient } from '../protocol/client';
import type { ConversationInfo, DestType, MsgEvent } from '../protocol/messages';
import { type ChatAction, type Conversation, messageIds } from './chat';

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
    cursor = ok.next;
  } while (cursor !== undefined);
  return all;
}

export async function history(
  client: ArtpClient,
  destType: DestType,
  dest: string,
  limit: number,
  bound: { before?: string; after?: string },
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
