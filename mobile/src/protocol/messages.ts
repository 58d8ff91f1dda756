/**
 * Every ArTP/1.0 message (§3, §4, and the extensions in docs/PROTOCOL.md), mirroring
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
} from './validate';

export const VERSION = '1.0';

/** §3 names: user `^[A-Za-z0-9_-]{1,32}$`, channel `^#[a-z0-9_-]{1,32}$`. */
export const USER_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const CHANNEL_PATTERN = /^#[a-z0-9_-]{1,32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

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

const msgEvent = object({
  version,
  type: literal('MSG'),
  id: str({ minLength: 1 }),
  from: str(),
  dest_type: destType,
  dest: str(),
  content: str(),
  timestamp: int(),
  attachment: optional(attachment),
});

const channelInfo = object({ name: str(), topic: str(), members: int(0) });

const membershipEvent = <T extends 'JOIN' | 'PART'>(type: T) =>
  object({ version, type: literal(type), id: str(), from: str(), channel: str(), timestamp: int() });

const EVENT_CHECKS = {
  HELLO: object({ version, type: literal('HELLO'), node: str(), limits: optional(limits) }),
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
  }),
  ERROR: object({
    version,
    type: literal('ERROR'),
    code: str(),
    message: str(),
    re: optional(str()),
    transfer: optional(str()),
    retry_after_ms: optional(int(0)),
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
export type Hello = Checked<EventChecks['HELLO']>;
export type Ok = Checked<EventChecks['OK']>;
export type ErrorReply = Checked<EventChecks['ERROR']>;
export type MsgEvent = Checked<EventChecks['MSG']>;
export type JoinEvent = Checked<EventChecks['JOIN']>;
export type PartEvent = Checked<EventChecks['PART']>;
export type TopicEvent = Checked<EventChecks['TOPIC']>;
export type PingEvent = Checked<EventChecks['PING']>;
export type PongReply = Checked<EventChecks['PONG']>;
export type ImgData = Checked<EventChecks['IMG_CHUNK']>;
export type ServerMessage = { [K in keyof EventChecks]: Checked<EventChecks[K]> }[keyof EventChecks];
export type EventType = keyof EventChecks;

export const EVENT_TYPES = Object.keys(EVENT_CHECKS) as EventType[];

export function eventCheck(type: string): Check<ServerMessage> | undefined {
  return (EVENT_CHECKS as Record<string, Check<ServerMessage>>)[type];
}

// ------------------------------------------------------------------ client to server

const content = str({ minLength: 1, maxLength: 4000 });

const REQUEST_CHECKS = {
  AUTH: object({
    type: literal('AUTH'),
    user: userName,
    password: str({ minLength: 8, maxLength: 1024 }),
    register: optional(bool),
    id: requestId,
  }),
  JOIN: object({ type: literal('JOIN'), channel: channelName, id: requestId }),
  PART: object({ type: literal('PART'), channel: channelName, id: requestId }),
  MSG: object({ type: literal('MSG'), dest_type: destType, dest: str(), content, id: requestId }),
  HISTORY: object({
    type: literal('HISTORY'),
    dest_type: destType,
    dest: str(),
    before: optional(str({ minLength: 1, maxLength: 64 })),
    after: optional(str({ minLength: 1, maxLength: 64 })),
    limit: optional(int(1, 200)),
    id: requestId,
  }),
  TOPIC: object({ type: literal('TOPIC'), channel: channelName, topic: str({ maxLength: 390 }), id: requestId }),
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
  PING: object({ type: literal('PING'), id: requestId }),
  PONG: object({ type: literal('PONG'), re: optional(str()) }),
} as const;

type RequestChecks = typeof REQUEST_CHECKS;
export type AuthRequest = Checked<RequestChecks['AUTH']>;
export type SendMsgRequest = Checked<RequestChecks['MSG']>;
export type HistoryRequest = Checked<RequestChecks['HISTORY']>;
export type ImgChunkRequest = Checked<RequestChecks['IMG_CHUNK']>;
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
