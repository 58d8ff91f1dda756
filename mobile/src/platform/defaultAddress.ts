import { type InviteLink, parseInviteLink } from '../protocol/moderation';

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
