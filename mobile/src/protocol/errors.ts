/**
 * The error tiers of ArTP (mirroring `aronanet.errors`).
 *
 * Connection-fatal violations are `ProtocolError`s: the connection is closed and nothing is
 * sent in clear text. Request errors are `ArtpError`s carrying the contract's error code.
 */

/** The error codes of ArTP/1.0 §3 and ArTP/1.1 §8, as spelled on the wire. */
export const ErrorCode = {
  INVALID: 'INVALID',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  AUTH_FAILED: 'AUTH_FAILED',
  USER_EXISTS: 'USER_EXISTS',
  REGISTRATION_CLOSED: 'REGISTRATION_CLOSED',
  NO_SUCH_USER: 'NO_SUCH_USER',
  NOT_IN_CHANNEL: 'NOT_IN_CHANNEL',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  TOO_LARGE: 'TOO_LARGE',
  IMAGE_INVALID: 'IMAGE_INVALID',
  /** §14.10-11: an EDIT or DELETE of a message the user did not send. */
  NOT_AUTHOR: 'NOT_AUTHOR',
  INTERNAL: 'INTERNAL',
} as const;

/** Codes the library itself raises for local failures (never sent on the wire). */
export const LocalErrorCode = {
  CLOSED: 'CLOSED',
  TIMEOUT: 'TIMEOUT',
} as const;

/** A connection-fatal violation: close the connection, send nothing in clear. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** A length prefix outside 1..max_frame, or a WebSocket message of the wrong kind (§1). */
export class FrameError extends ProtocolError {
  override name = 'FrameError';
}

/** The Noise handshake failed: bad message, failed decryption or a bad payload (§2). */
export class HandshakeError extends ProtocolError {
  override name = 'HandshakeError';
}

/** A transport message failed to authenticate: replayed, dropped, reordered or altered (§2). */
export class DecryptError extends ProtocolError {
  override name = 'DecryptError';
}

/** The nonce counter is exhausted; Noise forbids using it (reconnect instead). */
export class NonceExhaustedError extends ProtocolError {
  override name = 'NonceExhaustedError';
}

/** A request failed: an `ERROR` reply from the node, or a local CLOSED/TIMEOUT. */
export class ArtpError extends Error {
  override name = 'ArtpError';

  constructor(
    readonly code: string,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(`${code}: ${message}`);
  }
}

/** The node presented a static key other than the one pinned for its address (§2, TOFU). */
export class KeyChangedError extends Error {
  override name = 'KeyChangedError';

  constructor(
    readonly address: string,
    readonly pinned: string,
    readonly presented: string,
  ) {
    super(`the key of ${address} changed: pinned ${pinned}, presented ${presented}`);
  }
}
