/**
 * Every ArTP/1.0 message (§3, §4, the extensions in docs/PROTOCOL.md, and ArTP/1.1 §14), mirroring
 * `aronanet.proto.messages`: the same JSON field names, `version` "1.0", optional fields
 * left out when unset, `from` the sender. Events from the node are validated at run time;
 * requests are checked before they leave, so the UI learns of a bad name locally.
 */

import {
  bool,
  type Check,
  int,
  list,
  literal,
  num,
  object,
  optional,
  str,
  ValidationError,
} from './validate';
import {
  MAX_CID,
  MAX_CONTENT,
  MAX_DEVICE_NAME,
  MAX_HISTORY_LIMIT,
  MAX_PASSWORD,
  MAX_TOPIC,
  MAX_SEARCH_LIMIT,
  MAX_SEARCH_QUERY,
  MIN_PASSWORD,
} from './limits';
import { INVALID_EMOJI, isReactionEmoji } from './emoji';

export const VERSION = '1.0';

/** §3 names: user `^[A-Za-z0-9_-]{1,32}$`, channel `^#[a-z0-9_-]{1,32}$`. */
export const USER_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const CHANNEL_PATTERN = /^#[a-z0-9_-]{1,32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** §14.4: a client message id, `[A-Za-z0-9_-]`, 1..64 characters. */
export const CID_PATTERN = /^[A-Za-z0-9_-]+$/;
/** §14.3: a device name has no control characters (C0, DEL, C1). */
// eslint-disable-next-line no-control-regex
const DEVICE_NAME_PATTERN = /^[^\u0000-\u001f\u007f-\u009f]+$/;

export type DestType = 'channel' | 'user';

const version = optional(literal(VERSION));
const userName = str({ pattern: USER_PATTERN });
const channelName = str({ pattern: CHANNEL_PATTERN });
const requestId = optional(str({ minLength: 1, maxLength: 64 }));
const destType = literal<DestType>('channel', 'user');
const sha256Hex = str({ pattern: SHA256_HEX });

// ------------------------------------------------------------------ server to client

const limits = object({
  max_frame: optional(int(1)),
  /** §14.12: the most distinct emoji on one message. */
  max_reactions: optional(int(1)),
  max_content: optional(int(1)),
  chunk_size: optional(int(1)),
  max_image: optional(int(1)),
  /** PROTOCOL.md §3 extension: the largest width × height of an image. */
  max_image_pixels: optional(int(1)),
  max_history: optional(int(1)),
  rate_messages_per_second: optional(num),
  rate_burst: optional(int(0)),
});

const attachment = object({
  type: literal('image'),
  image: sha256Hex,
  name: str(),
  mime: str(),
  size: int(0),
  width: int(0),
  height: int(0),
});

/**
 * §14.14: a change number. The design spells it as a decimal string; a number is read as its
 * decimal spelling too, so a node that sends one is not rejected message by message.
 */
const rev: Check<string> = (value, path) => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return str({ pattern: /^[0-9]{1,20}$/ })(value, path);
};

/** §14.9: the message a reply quotes, as it reads now (cut to 140 code points; "" once deleted). */
const replyQuote = object({
  id: str({ minLength: 1 }),
  from: str(),
  content: str(),
  deleted: optional(bool),
});

/** §14.12: one emoji on a message, how many users put it there, and up to ten of their names. */
const reaction = object({
  emoji: str({ minLength: 1 }),
  count: int(0),
  users: optional(list(str())),
});

const msgShape = {
  version,
  type: literal('MSG'),
  id: str({ minLength: 1 }),
  from: str(),
  dest_type: destType,
  dest: str(),
  content: str(),
  timestamp: int(),
  attachment: optional(attachment),
  /** §14.4: the sender's client id, when the message had one. */
  cid: optional(str()),
  /** §14.9: the id of the message this one answers, and that message as it reads now. */
  reply_to: optional(str({ minLength: 1 })),
  reply: optional(replyQuote),
  /** §14.10: when it was last edited (Unix seconds). */
  edited: optional(int()),
  /** §14.11: when it was deleted: a tombstone, its content "". */
  deleted: optional(int()),
  /** §14.12: the reactions on it, in the order they were first made. */
  reactions: optional(list(reaction)),
  /** §14.14: its change number (HISTORY, CHANGES). */
  rev: optional(rev),
} as const;

const msgEvent = object(msgShape);

/** A code point range `[start, length]` of a search result's content (§14.15). */
const mark: Check<[number, number]> = (value, path) => {
  const pair = list(int(0))(value, path);
  if (pair.length !== 2) throw new ValidationError(`${path}: expected [start, length]`);
  return [pair[0] as number, pair[1] as number];
};

/** §14.15: a SEARCH result, a MSG with the matched words marked. */
const searchResult = object({ ...msgShape, marks: optional(list(mark)) });

/** §14.3 DEVICES: one of the user's devices (a client static key). */
const device = object({
  id: str(),
  name: str(),
  first_seen: int(),
  last_seen: int(),
  address: optional(str()),
  current: bool,
});

/** §14.5 CONVERSATIONS: a joined channel or a DM peer, with its counts and read marker. */
const conversationInfo = object({
  dest_type: destType,
  dest: str(),
  last_id: optional(str()),
  last_timestamp: optional(int()),
  unread: int(0),
  mentions: int(0),
  read: optional(str()),
  /** §14.14: the newest change number in the conversation. */
  rev: optional(rev),
});

/** `next`: a cursor string (CONVERSATIONS, SEARCH) or `true` (CHANGES: ask again with `since: rev`). */
const cursorOrMore: Check<string | true> = (value, path) => (value === true ? true : str()(value, path));

const channelInfo = object({ name: str(), topic: str(), members: int(0) });

/** §14.16-14.17 (moderation): a channel's modes, a member's role, a ban. */
const modes = object({ invite_only: optional(bool), moderated: optional(bool), topic_locked: optional(bool) });
const memberRole = object({ user: str(), role: str(), muted_until: optional(int()) });
const banInfo = object({ user: str(), by: str(), reason: str(), at: int() });
const moderationAction = literal('kick', 'ban', 'unban', 'mute', 'unmute', 'role', 'mode', 'invite');

const membershipEvent = <T extends 'JOIN' | 'PART'>(type: T) =>
  object({ version, type: literal(type), id: str(), from: str(), channel: str(), timestamp: int() });

const EVENT_CHECKS = {
  HELLO: object({
    version,
    type: literal('HELLO'),
    node: str(),
    limits: optional(limits),
    /** §14.1: the features enabled on this session; absent from an ArTP/1.0 node. */
    features: optional(list(str())),
  }),
  OK: object({
    version,
    type: literal('OK'),
    re: optional(str()),
    user: optional(str()),
    channels: optional(list(str())),
    channel: optional(str()),
    topic: optional(str()),
    members: optional(list(str())),
    msg_id: optional(str()),
    timestamp: optional(int()),
    messages: optional(list(msgEvent)),
    transfer: optional(str()),
    image: optional(str()),
    received: optional(list(int(0))),
    channel_list: optional(list(channelInfo)),
    /** §14.3: this session's device id (AUTH), or the device renamed or revoked. */
    device: optional(str()),
    devices: optional(list(device)),
    name: optional(str()),
    /** §14.4: the MSG was a resend of a known `cid`; `msg_id` and `timestamp` are the original's. */
    duplicate: optional(bool),
    /** §14.5: one page of conversations, and the cursor of the next when the page was trimmed. */
    conversations: optional(list(conversationInfo)),
    next: optional(cursorOrMore),
    /** §14.6: the read marker of `dest` now. */
    dest_type: optional(destType),
    dest: optional(str()),
    read: optional(str()),
    /** §14.10 EDIT: when the edit was made. */
    edited: optional(int()),
    /** §14.12 REACT/UNREACT: the emoji and how many users have it on the message now. */
    emoji: optional(str()),
    count: optional(int(0)),
    /** §14.14 CHANGES: the newest change number returned (or `since`); `next` may be `true`. */
    rev: optional(rev),
    /** §14.15 SEARCH: the matching messages, newest first. */
    results: optional(list(searchResult)),
    /** §14.16-14.19 (moderation): JOIN/CHANNEL_INFO role and modes, the roster, bans, blocks. */
    role: optional(str()),
    modes: optional(modes),
    roster: optional(list(memberRole)),
    bans: optional(list(banInfo)),
    /** CHANNEL_INFO: how many bans there are (`bans` holds the newest that fit half a message). */
    ban_count: optional(int(0)),
    until: optional(int()),
    blocked: optional(bool),
    blocks: optional(list(str())),
  }),
  ERROR: object({
    version,
    type: literal('ERROR'),
    code: str(),
    message: str(),
    re: optional(str()),
    transfer: optional(str()),
    retry_after_ms: optional(int(0)),
    until: optional(int()),
  }),
  MSG: msgEvent,
  JOIN: membershipEvent('JOIN'),
  PART: membershipEvent('PART'),
  TOPIC: object({
    version,
    type: literal('TOPIC'),
    id: str(),
    from: str(),
    channel: str(),
    topic: str(),
    timestamp: int(),
  }),
  /** §14.6: the user read `dest` up to `read` on another device. */
  READ: object({
    version,
    type: literal('READ'),
    dest_type: destType,
    dest: str(),
    read: str(),
    id: optional(str()),
    timestamp: optional(int()),
  }),
  /** §14.10: a message was edited (its author's other sessions and the conversation's readers). */
  EDIT: object({
    version,
    type: literal('EDIT'),
    id: optional(str()),
    msg_id: str({ minLength: 1 }),
    from: str(),
    dest_type: destType,
    dest: str(),
    content: str(),
    edited: int(),
    timestamp: optional(int()),
  }),
  /** §14.11: a message was deleted; `from` is who deleted it. */
  DELETE: object({
    version,
    type: literal('DELETE'),
    id: optional(str()),
    msg_id: str({ minLength: 1 }),
    from: str(),
    dest_type: destType,
    dest: str(),
    timestamp: optional(int()),
  }),
  /** §14.12: `from` added (or removed) `emoji`; `count` users have it now. */
  REACTION: object({
    version,
    type: literal('REACTION'),
    id: optional(str()),
    msg_id: str({ minLength: 1 }),
    from: str(),
    emoji: str({ minLength: 1 }),
    added: bool,
    count: int(0),
    dest_type: destType,
    dest: str(),
    timestamp: optional(int()),
  }),
  /** §14.13: `from` is typing (or stopped) in `dest`; shown until `expires_ms` passes. */
  TYPING: object({
    version,
    type: literal('TYPING'),
    id: optional(str()),
    from: str(),
    dest_type: destType,
    dest: str(),
    typing: bool,
    expires_ms: optional(int(0)),
    timestamp: optional(int()),
  }),
  /** §14.19: what a moderator did in `channel` (only to `moderation` sessions). */
  MODERATION: object({
    version,
    type: literal('MODERATION'),
    id: str(),
    action: moderationAction,
    channel: str(),
    by: str(),
    timestamp: int(),
    user: optional(str()),
    reason: optional(str()),
    role: optional(str()),
    until: optional(int()),
    modes: optional(modes),
  }),
  PING: object({ version, type: literal('PING'), id: str() }),
  PONG: object({ version, type: literal('PONG'), re: optional(str()) }),
  IMG_CHUNK: object({
    version,
    type: literal('IMG_CHUNK'),
    image: str(),
    index: int(0),
    total: int(1),
    data: str(),
    re: optional(str()),
    name: optional(str()),
    mime: optional(str()),
    size: optional(int(0)),
    sha256: optional(str()),
  }),
} as const;

type Checked<C> = C extends Check<infer T> ? T : never;
type EventChecks = typeof EVENT_CHECKS;

export type Limits = Checked<typeof limits>;
export type Attachment = Checked<typeof attachment>;
export type ChannelInfo = Checked<typeof channelInfo>;
export type DeviceInfo = Checked<typeof device>;
export type ConversationInfo = Checked<typeof conversationInfo>;
export type Hello = Checked<EventChecks['HELLO']>;
export type Ok = Checked<EventChecks['OK']>;
export type ErrorReply = Checked<EventChecks['ERROR']>;
export type MsgEvent = Checked<EventChecks['MSG']>;
export type JoinEvent = Checked<EventChecks['JOIN']>;
export type PartEvent = Checked<EventChecks['PART']>;
export type TopicEvent = Checked<EventChecks['TOPIC']>;
export type PingEvent = Checked<EventChecks['PING']>;
export type PongReply = Checked<EventChecks['PONG']>;
export type ReadEvent = Checked<EventChecks['READ']>;
export type EditEvent = Checked<EventChecks['EDIT']>;
export type DeleteEvent = Checked<EventChecks['DELETE']>;
export type ReactionEvent = Checked<EventChecks['REACTION']>;
export type TypingEvent = Checked<EventChecks['TYPING']>;
export type ModerationEvent = Checked<EventChecks['MODERATION']>;
export type Modes = Checked<typeof modes>;
export type MemberRole = Checked<typeof memberRole>;
export type Reaction = Checked<typeof reaction>;
export type ReplyQuote = Checked<typeof replyQuote>;
export type SearchResult = Checked<typeof searchResult>;
export type ImgData = Checked<EventChecks['IMG_CHUNK']>;
export type ServerMessage = { [K in keyof EventChecks]: Checked<EventChecks[K]> }[keyof EventChecks];
export type EventType = keyof EventChecks;

export const EVENT_TYPES = Object.keys(EVENT_CHECKS) as EventType[];

export function eventCheck(type: string): Check<ServerMessage> | undefined {
  return (EVENT_CHECKS as Record<string, Check<ServerMessage>>)[type];
}

// ------------------------------------------------------------------ client to server

const content = str({ minLength: 1, maxLength: MAX_CONTENT });
const password = str({ minLength: MIN_PASSWORD, maxLength: MAX_PASSWORD });
const deviceId = str({ minLength: 1, maxLength: 128 });
const messageId = str({ minLength: 1, maxLength: 64 });
/** §14.12: one emoji grapheme, checked as the node checks it (`protocol/emoji`). */
const reactionEmoji: Check<string> = (value, path) => {
  if (typeof value !== 'string' || !isReactionEmoji(value)) throw new ValidationError(`${path}: ${INVALID_EMOJI}`);
  return value;
};

/** §14.18: a moderator's reason, one line of at most 390 characters. */
// eslint-disable-next-line no-control-regex
const reason = str({ maxLength: 390, pattern: /^[^\u0000-\u001f\u007f-\u009f]*$/ });
/** §14.18: the longest mute (30 days). */
export const MAX_MUTE_SECONDS = 30 * 24 * 3600;
/** §14.21: an invitation token as `aronanet admin invite` prints it (URL-safe base64). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

const REQUEST_CHECKS = {
  AUTH: object({
    type: literal('AUTH'),
    user: userName,
    /** §14.3: without a password this is a device sign-in (needs `sync`). */
    password: optional(password),
    register: optional(bool),
    device_name: optional(str({ minLength: 1, maxLength: MAX_DEVICE_NAME, pattern: DEVICE_NAME_PATTERN })),
    /** §14.21: the invitation an invite-only node needs to register. */
    invite: optional(str({ minLength: 16, maxLength: 128, pattern: TOKEN_PATTERN })),
    /** §14.21: a reset token from `aronanet admin reset-password`; `password` is the new one. */
    reset: optional(str({ minLength: 16, maxLength: 128, pattern: TOKEN_PATTERN })),
    id: requestId,
  }),
  JOIN: object({ type: literal('JOIN'), channel: channelName, id: requestId }),
  PART: object({ type: literal('PART'), channel: channelName, id: requestId }),
  MSG: object({
    type: literal('MSG'),
    dest_type: destType,
    dest: str(),
    content,
    cid: optional(str({ minLength: 1, maxLength: MAX_CID, pattern: CID_PATTERN })),
    /** §14.9: the message this one answers (same conversation). */
    reply_to: optional(messageId),
    id: requestId,
  }),
  HISTORY: object({
    type: literal('HISTORY'),
    dest_type: destType,
    dest: str(),
    before: optional(messageId),
    after: optional(messageId),
    /** §14.9: a page centred on this message (not with before/after). */
    around: optional(messageId),
    limit: optional(int(1, MAX_HISTORY_LIMIT)),
    id: requestId,
  }),
  TOPIC: object({ type: literal('TOPIC'), channel: channelName, topic: str({ maxLength: MAX_TOPIC }), id: requestId }),
  LIST: object({ type: literal('LIST'), id: requestId }),
  IMG_CHUNK: object({
    type: literal('IMG_CHUNK'),
    transfer: str({ minLength: 1, maxLength: 64 }),
    index: int(0),
    total: int(1),
    data: str(),
    dest_type: optional(destType),
    dest: optional(str()),
    name: optional(str({ minLength: 1, maxLength: 255 })),
    mime: optional(str()),
    size: optional(int(0)),
    sha256: optional(sha256Hex),
    content: optional(str()),
    id: requestId,
  }),
  IMG_STATUS: object({ type: literal('IMG_STATUS'), transfer: str({ minLength: 1, maxLength: 64 }), id: requestId }),
  IMG_GET: object({ type: literal('IMG_GET'), image: sha256Hex, start: optional(int(0)), id: requestId }),
  DEVICES: object({ type: literal('DEVICES'), id: requestId }),
  DEVICE_RENAME: object({
    type: literal('DEVICE_RENAME'),
    device: deviceId,
    name: str({ minLength: 1, maxLength: MAX_DEVICE_NAME, pattern: DEVICE_NAME_PATTERN }),
    id: requestId,
  }),
  DEVICE_REVOKE: object({ type: literal('DEVICE_REVOKE'), device: deviceId, id: requestId }),
  PASSWORD: object({ type: literal('PASSWORD'), old: password, new: password, id: requestId }),
  CONVERSATIONS: object({ type: literal('CONVERSATIONS'), cursor: optional(str({ minLength: 1 })), id: requestId }),
  READ: object({ type: literal('READ'), dest_type: destType, dest: str(), up_to: messageId, id: requestId }),
  EDIT: object({ type: literal('EDIT'), msg_id: messageId, content, id: requestId }),
  DELETE: object({ type: literal('DELETE'), msg_id: messageId, id: requestId }),
  REACT: object({ type: literal('REACT'), msg_id: messageId, emoji: reactionEmoji, id: requestId }),
  UNREACT: object({ type: literal('UNREACT'), msg_id: messageId, emoji: reactionEmoji, id: requestId }),
  TYPING: object({ type: literal('TYPING'), dest_type: destType, dest: str(), typing: bool, id: requestId }),
  CHANGES: object({
    type: literal('CHANGES'),
    dest_type: destType,
    dest: str(),
    since: str({ pattern: /^[0-9]{1,20}$/ }),
    limit: optional(int(1, MAX_HISTORY_LIMIT)),
    id: requestId,
  }),
  SEARCH: object({
    type: literal('SEARCH'),
    query: str({ minLength: 1, maxLength: MAX_SEARCH_QUERY }),
    dest_type: optional(destType),
    dest: optional(str()),
    before: optional(messageId),
    limit: optional(int(1, MAX_SEARCH_LIMIT)),
    id: requestId,
  }),
  CHANNEL_INFO: object({ type: literal('CHANNEL_INFO'), channel: channelName, cursor: optional(str({ minLength: 1 })), id: requestId }),
  ROLE: object({ type: literal('ROLE'), channel: channelName, user: userName, role: literal('operator', 'voiced', 'member'), id: requestId }),
  KICK: object({ type: literal('KICK'), channel: channelName, user: userName, reason: optional(reason), id: requestId }),
  BAN: object({ type: literal('BAN'), channel: channelName, user: userName, reason: optional(reason), id: requestId }),
  UNBAN: object({ type: literal('UNBAN'), channel: channelName, user: userName, id: requestId }),
  MUTE: object({
    type: literal('MUTE'),
    channel: channelName,
    user: userName,
    seconds: int(0, MAX_MUTE_SECONDS),
    reason: optional(reason),
    id: requestId,
  }),
  MODE: object({
    type: literal('MODE'),
    channel: channelName,
    invite_only: optional(bool),
    moderated: optional(bool),
    topic_locked: optional(bool),
    id: requestId,
  }),
  INVITE: object({ type: literal('INVITE'), channel: channelName, user: userName, id: requestId }),
  BLOCK: object({ type: literal('BLOCK'), user: userName, blocked: bool, id: requestId }),
  BLOCKS: object({ type: literal('BLOCKS'), id: requestId }),
  PING: object({ type: literal('PING'), id: requestId }),
  PONG: object({ type: literal('PONG'), re: optional(str()) }),
} as const;

type RequestChecks = typeof REQUEST_CHECKS;
export type AuthRequest = Checked<RequestChecks['AUTH']>;
export type SendMsgRequest = Checked<RequestChecks['MSG']>;
export type ReadRequest = Checked<RequestChecks['READ']>;
export type HistoryRequest = Checked<RequestChecks['HISTORY']>;
export type SearchRequest = Checked<RequestChecks['SEARCH']>;
export type ImgChunkRequest = Checked<RequestChecks['IMG_CHUNK']>;
/** §14.16-14.18: what an operator asks of a channel (the member sheet and channel settings). */
export type ModerationRequest = Checked<RequestChecks['KICK' | 'BAN' | 'UNBAN' | 'MUTE' | 'ROLE' | 'MODE']>;
export type Request = { [K in keyof RequestChecks]: Checked<RequestChecks[K]> }[keyof RequestChecks];

/** A request type without its `id`, for callers of `request()` (the client assigns ids). */
export type RequestBody = Request extends infer R ? (R extends { id?: string } ? Omit<R, 'id'> : R) : never;

/**
 * Check a request against the contract before it is sent. A `dest` must be a channel name for
 * `channel` and a user name for `user` (§3).
 */
export function checkRequest(request: Request): Request {
  const check = (REQUEST_CHECKS as Record<string, Check<Request>>)[request.type];
  if (!check) throw new TypeError(`unknown request type ${request.type}`);
  const checked = check(request, request.type);
  if ('dest_type' in checked && checked.dest_type !== undefined && 'dest' in checked) {
    const pattern = checked.dest_type === 'channel' ? CHANNEL_PATTERN : USER_PATTERN;
    if (checked.dest !== undefined && !pattern.test(checked.dest)) {
      throw new TypeError(`dest ${JSON.stringify(checked.dest)} is not a valid ${checked.dest_type} name`);
    }
  }
  return checked;
}
