/**
 * JSON <-> messages. Decoding never throws for bad content: a frame that decrypts but is not
 * a valid message becomes a `Rejection` (message-level tier), which the client reports and
 * skips, keeping the session open, as the contract asks of peers (§3).
 */

import { fromUtf8, utf8 } from './bytes';
import { MAX_PLAINTEXT } from './limits';
import { checkRequest, eventCheck, type Request, type ServerMessage, VERSION } from './messages';
import { ValidationError } from './validate';

export { MAX_PLAINTEXT } from './limits';

export interface Rejection {
  readonly rejected: true;
  readonly reason: string;
  /** The `re` of the offending message when it could be read, so a waiting request can fail. */
  readonly re?: string;
}

export function isRejection(value: ServerMessage | Rejection): value is Rejection {
  return 'rejected' in value;
}

/** Encode a request as UTF-8 JSON with `version` "1.0"; undefined fields are left out. */
export function encodeRequest(request: Request): Uint8Array {
  const checked = checkRequest(request);
  const body = utf8(JSON.stringify({ version: VERSION, ...checked }));
  if (body.length > MAX_PLAINTEXT) {
    throw new TypeError(`message of ${body.length} bytes exceeds the limit of ${MAX_PLAINTEXT} bytes`);
  }
  return body;
}

/** Decode one server message; anything malformed becomes a `Rejection`. */
export function decodeServerMessage(plaintext: Uint8Array): ServerMessage | Rejection {
  const parsed = parseJson(plaintext);
  if (parsed === NOT_JSON) return { rejected: true, reason: 'not UTF-8 JSON' };
  return checkServerObject(parsed);
}

/**
 * Every message of one node-to-client plaintext, in order: ArTP/1.1 `batch` (§14.2) lets a
 * node send a JSON array of messages, each exactly what it would have sent alone. A bad
 * element is one rejection; the others still arrive.
 */
export function decodeServerMessages(plaintext: Uint8Array): Array<ServerMessage | Rejection> {
  const parsed = parseJson(plaintext);
  if (parsed === NOT_JSON) return [{ rejected: true, reason: 'not UTF-8 JSON' }];
  if (!Array.isArray(parsed)) return [checkServerObject(parsed)];
  if (parsed.length === 0) return [{ rejected: true, reason: 'an empty batch' }];
  return parsed.map(checkServerObject);
}

const NOT_JSON = Symbol('not JSON');

function parseJson(plaintext: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8(plaintext));
  } catch {
    return NOT_JSON;
  }
}

function checkServerObject(parsed: unknown): ServerMessage | Rejection {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { rejected: true, reason: 'not a JSON object' };
  }
  const raw = parsed as Record<string, unknown>;
  const re = typeof raw.re === 'string' ? raw.re : undefined;
  const check = typeof raw.type === 'string' ? eventCheck(raw.type) : undefined;
  if (!check) return { rejected: true, reason: `unknown type ${String(raw.type)}`, re };
  try {
    return check(raw, String(raw.type));
  } catch (error) {
    if (error instanceof ValidationError) return { rejected: true, reason: error.message, re };
    throw error;
  }
}
