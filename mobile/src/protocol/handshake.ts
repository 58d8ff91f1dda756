/**
 * The client side of the ArTP handshake (§2): Noise XX with prologue `ArTP/1.0`, HELLO in
 * message 2, the node's key checked (trust on first use) before message 3 is sent.
 */

import type { Aead } from './aead';
import { utf8 } from './bytes';
import { decodeServerMessage, isRejection } from './codec';
import { HandshakeError } from './errors';
import { CLIENT_FEATURES, greetingPayload } from './features';
import { fingerprint } from './fingerprint';
import type { Hello } from './messages';
import { HandshakeState, type KeyPair, type TransportKeys, XX } from './noise';
import type { StaticKey } from './staticKey';

export const PROLOGUE = utf8('ArTP/1.0');
/** §2: a handshake that has not finished in 10 s ends with the connection closed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface HandshakeIo {
  send(message: Uint8Array): void;
  next(timeoutMs: number): Promise<Uint8Array>;
}

export interface ClientHandshakeOptions {
  readonly aead: Aead;
  readonly staticKey: KeyPair | StaticKey;
  readonly random: (length: number) => Uint8Array;
  readonly clientName?: string;
  /** §14.1: the features asked for in message 1; by default this client's `CLIENT_FEATURES`. */
  readonly features?: readonly string[];
  /** Throw (for instance `KeyChangedError`) to refuse the node before message 3 is sent. */
  readonly verifyNode?: (nodeFingerprint: string) => void | Promise<void>;
  readonly timeoutMs?: number;
}

export interface HandshakeResult {
  readonly keys: TransportKeys;
  readonly hello: Hello;
  readonly nodeFingerprint: string;
}

/** Run the initiator's three messages over `io`; throws `HandshakeError` on any failure. */
export async function clientHandshake(io: HandshakeIo, options: ClientHandshakeOptions): Promise<HandshakeResult> {
  const deadline = Date.now() + (options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  const state = HandshakeState.initialize({
    pattern: XX,
    initiator: true,
    prologue: PROLOGUE,
    aead: options.aead,
    staticKey: options.staticKey,
    random: options.random,
  });
  // -> e   payload: {"client": "<name/version>", "features": [...]} (§14.1), or empty
  io.send(await state.writeMessage(greetingPayload(options.clientName, options.features ?? CLIENT_FEATURES)));

  // <- e, ee, s, es   payload: HELLO
  const message2 = await io.next(Math.max(1, deadline - Date.now())).catch((error: Error) => {
    throw new HandshakeError(`no handshake reply: ${error.message}`);
  });
  const hello = decodeServerMessage(await state.readMessage(message2));
  if (isRejection(hello) || hello.type !== 'HELLO') {
    throw new HandshakeError('the node did not send HELLO in handshake message 2');
  }
  const nodeKey = state.remoteStaticKey();
  if (!nodeKey) throw new HandshakeError('the node sent no static key');
  const nodeFingerprint = fingerprint(nodeKey);
  await options.verifyNode?.(nodeFingerprint);

  // -> s, se   payload: empty
  io.send(await state.writeMessage(new Uint8Array(0)));
  return { keys: await state.split(), hello, nodeFingerprint };
}
