import { type InviteLink, parseInviteLink } from '../protocol/moderation';
import { COMMUNITY_PATH, communityFromJson, type LearnedCommunity } from '../state/community';

/** On the web the app is served by the node itself, so its own host is the node's address. */
export function defaultAddress(): string {
  const location = (globalThis as { location?: { host?: string } }).location;
  return location?.host ?? '';
}

/**
 * §14.21: an invitation the web app was opened with, as a fragment (`#invite=…&fp=…`, never
 * sent to any server): the node is the one serving the app, the key is the link's.
 */
export function openedInvite(): InviteLink | null {
  const location = (globalThis as { location?: { hash?: string } }).location;
  return location?.hash ? parseInviteLink(location.hash) : null;
}

/**
 * What the node serving the web app says of its community (`/community.json`, the node's
 * `community_addresses` setting): its other WebSocket addresses, so the app fails over to them
 * without the user typing them. Nothing when there is no page, no such file, or no network.
 */
/** The sign-in waits this long at most for `/community.json` (a node that is up answers at once). */
const LEARN_TIMEOUT_MS = 3000;

export async function learnCommunity(): Promise<LearnedCommunity | null> {
  const origin = defaultAddress();
  const fetcher = (globalThis as { fetch?: typeof fetch }).fetch;
  if (!origin || !fetcher) return null;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LEARN_TIMEOUT_MS);
  try {
    const response = await fetcher(COMMUNITY_PATH, { cache: 'no-store', signal: abort.signal });
    if (!response.ok) return null;
    const addresses = communityFromJson(await response.json());
    return addresses.length > 0 ? { origin, addresses } : null;
  } catch {
    return null; // offline (the page came from the service worker), or not JSON
  } finally {
    clearTimeout(timer);
  }
}
