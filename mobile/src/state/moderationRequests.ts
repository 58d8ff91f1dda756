/**
 * A moderator's and a member's requests (ArTP/1.1 §14.16-14.19): CHANNEL_INFO's roster, page
 * after page; a moderation request's OK told as the MODERATION event the others get; the
 * users this account blocks. What they change in the chat state is state/moderation.
 */
import type { ArtpClient } from '../protocol/client';
import type { ModerationEvent, ModerationRequest, Ok } from '../protocol/messages';
import type { ChatAction } from './chat';

/**
 * CHANNEL_INFO: every member's role and the modes (a node without moderation: nothing). A
 * roster longer than one message comes in pages: asked again with `cursor: next` until no `next`.
 */
export async function loadRoster(client: ArtpClient, channel: string, dispatch: (action: ChatAction) => void): Promise<void> {
  if (!client.features.has('moderation')) return;
  const first = await client.request({ type: 'CHANNEL_INFO', channel });
  const roster = [...(first.roster ?? [])];
  let page = first;
  while (typeof page.next === 'string' && (page.roster ?? []).length > 0) {
    page = await client.request({ type: 'CHANNEL_INFO', channel, cursor: page.next });
    roster.push(...(page.roster ?? []));
  }
  dispatch({ type: 'rosterLoaded', channel, roster, modes: first.modes ?? {} });
}

/**
 * The node sends MODERATION to everyone concerned but the asking session (§14.19), so the OK
 * to `request` (made by `me`) is told as that event: one way to show it, whoever did it.
 */
export function ownModeration(request: ModerationRequest, ok: Ok, me: string): ModerationEvent {
  const base = { type: 'MODERATION' as const, id: `own-moderation:${Date.now()}:${Math.random()}`, channel: request.channel, by: me, timestamp: Math.floor(Date.now() / 1000) };
  return request.type === 'MODE'
    ? { ...base, action: 'mode', modes: ok.modes ?? {} }
    : request.type === 'ROLE'
      ? { ...base, action: 'role', user: request.user, role: request.role }
      : request.type === 'MUTE'
        ? { ...base, action: request.seconds > 0 ? 'mute' : 'unmute', user: request.user, ...(ok.until ? { until: ok.until } : {}), ...(request.reason ? { reason: request.reason } : {}) }
        : { ...base, action: request.type === 'KICK' ? 'kick' : request.type === 'BAN' ? 'ban' : 'unban', user: request.user, ...('reason' in request && request.reason ? { reason: request.reason } : {}) };
}

/** BLOCKS: who this account blocks now (a node without moderation: nothing). */
export async function loadBlocks(client: ArtpClient, dispatch: (action: ChatAction) => void): Promise<void> {
  if (!client.features.has('moderation')) return;
  const ok = await client.request({ type: 'BLOCKS' });
  dispatch({ type: 'blocksLoaded', users: ok.blocks ?? [] });
}
