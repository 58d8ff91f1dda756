/**
 * Moderation in words and marks (ArTP/1.1 §14.16-14.21), the web client's copy of
 * `aronanet.client.moderation_words`: IRC role marks (~ owner, @ operator, + voiced), a
 * MODERATION event as one sentence ("kei was banned from #c by arona: spam"), what a
 * refusal code means, and invitation links (`aronanet://HOST:PORT/?fp=SHA256:…&invite=…`,
 * or the web app's own `#invite=…&fp=…`).
 */
import type { ModerationEvent, Modes } from './messages';
import { TOKEN_PATTERN } from './messages';

export type Role = 'owner' | 'operator' | 'voiced' | 'member';

const MARKS: Readonly<Record<string, string>> = { owner: '~', operator: '@', voiced: '+' };
const ORDER: Readonly<Record<string, number>> = { owner: 0, operator: 1, voiced: 2, member: 3 };
const NOUNS: Readonly<Record<string, string>> = {
  owner: 'the owner',
  operator: 'an operator',
  voiced: 'voiced',
  member: 'a plain member',
};
const MODE_WORDS: ReadonlyArray<[keyof Modes, string]> = [
  ['invite_only', 'invite-only'],
  ['moderated', 'moderated (only voiced members post)'],
  ['topic_locked', 'topic locked (only operators change it)'],
];

/** `~`, `@`, `+`, or '' for a member. */
export function roleMark(role: string | undefined): string {
  return MARKS[role ?? ''] ?? '';
}

/** Owner, operators, voiced, then everyone; by name within each. */
export function compareByRole(roles: Readonly<Record<string, string>>, a: string, b: string): number {
  const rank = (name: string) => ORDER[roles[name.toLowerCase()] ?? 'member'] ?? 3;
  return rank(a) - rank(b) || a.toLowerCase().localeCompare(b.toLowerCase());
}

/** Operators (and the owner) may kick, ban, mute, voice and set modes. */
export function isOperator(role: string | undefined): boolean {
  return role === 'owner' || role === 'operator';
}

export const EXPLANATIONS: Readonly<Record<string, string>> = {
  NOT_OPERATOR: "only the channel's operators (and its owner) can do that",
  NOT_OWNER: "that needs the channel's owner, and nobody changes the owner's role",
  NOT_ADMIN: "only the node's admins can do that",
  NOT_VOICED: 'this channel is moderated: only voiced members and operators can post',
  BANNED: 'you are banned from that channel',
  MUTED: 'you are muted in that channel for now',
  INVITE_ONLY: 'that channel is invite-only: a member has to invite you first',
  BLOCKED: "they have blocked you, so your messages don't reach them",
  ACCOUNT_DISABLED: "this account has been disabled by the node's admins",
  REGISTRATION_CLOSED: 'this node only takes new accounts with a valid invitation',
};

/** What a moderation refusal means, or undefined for other codes. */
export function explain(code: string): string | undefined {
  return EXPLANATIONS[code];
}

export function describeModes(modes: Modes | undefined): string {
  const words = MODE_WORDS.filter(([name]) => modes?.[name]).map(([, word]) => word);
  return words.length > 0 ? words.join(', ') : 'open (no modes)';
}

function clock(seconds: number): string {
  const when = new Date(seconds * 1000);
  return `${String(when.getHours()).padStart(2, '0')}:${String(when.getMinutes()).padStart(2, '0')}`;
}

/** One sentence for a MODERATION event; "you" when it is about `me`. */
export function describeModeration(event: ModerationEvent, me: string | null): string {
  const target = event.user ?? '';
  const you = me !== null && target.toLowerCase() === me.toLowerCase();
  const user = you ? 'you' : target;
  const was = you ? 'were' : 'was';
  const reason = event.reason ? `: ${event.reason}` : '';
  const { by, channel } = event;
  switch (event.action) {
    case 'kick':
      return `${user} ${was} kicked from ${channel} by ${by}${reason}`;
    case 'ban':
      return `${user} ${was} banned from ${channel} by ${by}${reason}`;
    case 'unban':
      return `${user} ${was} unbanned from ${channel} by ${by}`;
    case 'mute':
      return `${user} ${was} muted in ${channel} by ${by}${event.until ? ` until ${clock(event.until)}` : ''}${reason}`;
    case 'unmute':
      return `${user} may speak again in ${channel} (${by} lifted the mute)`;
    case 'role':
      return `${by} made ${user} ${NOUNS[event.role ?? 'member'] ?? event.role} of ${channel}`;
    case 'mode':
      return `${by} set ${channel} to ${describeModes(event.modes)}`;
    case 'invite':
      return `${by} invited ${user} to ${channel}`;
  }
}

export interface InviteLink {
  /** `host:port` of the node's WebSocket, or '' for "the node serving this web app". */
  readonly address: string;
  readonly fingerprint: string;
  readonly token: string;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

function fromParams(address: string, params: URLSearchParams): InviteLink | null {
  // base64's "+" reads as a space in a query string that was not percent-encoded
  const fingerprint = (params.get('fp') ?? '').replace(/ /g, '+');
  const token = params.get('invite') ?? '';
  if (!FINGERPRINT.test(fingerprint) || !TOKEN_PATTERN.test(token)) return null;
  return { address, fingerprint, token };
}

/**
 * An invitation: `aronanet://HOST:PORT/?fp=…&invite=…` as `aronanet admin invite` prints
 * it, or the fragment `#invite=…&fp=…` of a link to this web app. Null if it is neither.
 */
export function parseInviteLink(text: string): InviteLink | null {
  const link = text.trim();
  if (link.toLowerCase().startsWith('aronanet://')) {
    const rest = link.slice('aronanet://'.length);
    const cut = rest.search(/[/?#]/);
    const address = cut < 0 ? rest : rest.slice(0, cut);
    const query = cut < 0 ? '' : rest.slice(cut).replace(/^\/?[?#]?/, '');
    return address ? fromParams(address, new URLSearchParams(query)) : null;
  }
  const fragment = link.startsWith('#') ? link.slice(1) : link;
  return fragment.includes('invite=') ? fromParams('', new URLSearchParams(fragment)) : null;
}

/** `10m`, `2h`, `1d` → seconds (the mute lengths the member sheet offers). */
export const MUTE_CHOICES: ReadonlyArray<[string, number]> = [
  ['10 min', 600],
  ['1 hour', 3600],
  ['1 day', 86400],
];
