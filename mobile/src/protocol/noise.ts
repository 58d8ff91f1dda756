/**
 * The Noise Protocol Framework (revision 34) for ArTP: Noise_XX_25519_AESGCM_SHA256 (§2),
 * written in the spec's own vocabulary (CipherState, SymmetricState, HandshakeState).
 *
 * Patterns are data. XX is the one ArTP uses; NK is here because the shared vectors cover it
 * and it costs one table entry. X25519 and SHA-256/HKDF come from noble (constant-time curve
 * arithmetic); AES-GCM comes from an injected `Aead` (constant-time platform crypto).
 */

import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

import type { Aead, AeadKey } from './aead';
import { TAG_LENGTH } from './aead';
import { concat, utf8 } from './bytes';
import { HandshakeError, NonceExhaustedError } from './errors';
import type { StaticKey } from './staticKey';

export const DH_LEN = 32;
const HASH_LEN = 32;
/** Noise reserves the maximum nonce; JS numbers stay exact below 2^53, far beyond any session. */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

/** A handshake pattern: pre-message keys and the token lists of each message. */
export interface Pattern {
  readonly name: string;
  /** Static keys known before the handshake: `responder` means `<- s`. */
  readonly preMessages: readonly ('initiator' | 'responder')[];
  readonly messages: readonly (readonly Token[])[];
}

export const XX: Pattern = {
  name: 'XX',
  preMessages: [],
  messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
};

export const NK: Pattern = {
  name: 'NK',
  preMessages: ['responder'],
  messages: [['e', 'es'], ['e', 'ee']],
};

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A key pair from a 32-byte private key (X25519 clamps it). */
export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

/** A fresh key pair from the platform's secure random source. */
export function generateKeyPair(random: (length: number) => Uint8Array): KeyPair {
  return keyPairFromPrivate(random(DH_LEN));
}

function dh(keyPair: KeyPair, publicKey: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(keyPair.privateKey, publicKey);
  } catch {
    throw new HandshakeError('Diffie-Hellman with the peer key failed (low-order point)');
  }
}

/** DH with either kind of local key: bytes here, or the platform's X25519 (`StaticKey.dh`). */
function dhWith(key: KeyPair | StaticKey, publicKey: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return 'privateKey' in key ? dh(key, publicKey) : key.dh(publicKey);
}

/** Noise HKDF with SHA-256, two outputs: RFC 5869 with salt = chaining key, empty info. */
function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(sha256, ikm, chainingKey, new Uint8Array(0), 2 * HASH_LEN);
  return [out.slice(0, HASH_LEN), out.slice(HASH_LEN)];
}

/** §2: nonce = 4 zero bytes || 8-byte big-endian counter. */
function aesGcmNonce(counter: number): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(counter), false);
  return nonce;
}

/** A key and its implicit counter; encrypts and decrypts in strict order. */
export class CipherState {
  private key: AeadKey | null = null;
  private nonce = 0;

  constructor(private readonly aead: Aead) {}

  async initializeKey(raw: Uint8Array | null): Promise<void> {
    this.key = raw ? await this.aead.importKey(raw) : null;
    this.nonce = 0;
  }

  hasKey(): boolean {
    return this.key !== null;
  }

  /**
   * Encrypt with the next nonce. The nonce is taken synchronously, so callers that need
   * wire order must also send in call order (the client serialises its sends).
   */
  async encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    if (!this.key) return plaintext;
    return this.key.seal(aesGcmNonce(this.takeNonce()), ad, plaintext);
  }

  /** Decrypt with the next nonce; a failure means the peer or the network broke the stream. */
  async decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (!this.key) return ciphertext;
    return this.key.open(aesGcmNonce(this.takeNonce()), ad, ciphertext);
  }

  private takeNonce(): number {
    if (this.nonce >= MAX_NONCE) throw new NonceExhaustedError('nonce counter exhausted');
    return this.nonce++;
  }
}

/** The chaining key, the handshake hash and the handshake's CipherState. */
export class SymmetricState {
  readonly cipher: CipherState;
  private chainingKey: Uint8Array;
  private hash: Uint8Array;

  constructor(
    private readonly aead: Aead,
    protocolName: string,
  ) {
    this.cipher = new CipherState(aead);
    const name = utf8(protocolName);
    this.hash = name.length <= HASH_LEN ? concat(name, new Uint8Array(HASH_LEN - name.length)) : sha256(name);
    this.chainingKey = this.hash;
  }

  handshakeHash(): Uint8Array {
    return this.hash;
  }

  async mixKey(ikm: Uint8Array): Promise<void> {
    const [chainingKey, tempKey] = hkdf2(this.chainingKey, ikm);
    this.chainingKey = chainingKey;
    await this.cipher.initializeKey(tempKey);
  }

  mixHash(data: Uint8Array): void {
    this.hash = sha256(concat(this.hash, data));
  }

  async encryptAndHash(plaintext: Uint8Array): Promise<Uint8Array> {
    const ciphertext = await this.cipher.encryptWithAd(this.hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  async decryptAndHash(ciphertext: Uint8Array): Promise<Uint8Array> {
    const plaintext = await this.cipher.decryptWithAd(this.hash, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** The two transport CipherStates: [initiator to responder, responder to initiator]. */
  async split(): Promise<[CipherState, CipherState]> {
    const [key1, key2] = hkdf2(this.chainingKey, new Uint8Array(0));
    const c1 = new CipherState(this.aead);
    const c2 = new CipherState(this.aead);
    await c1.initializeKey(key1);
    await c2.initializeKey(key2);
    return [c1, c2];
  }
}

export interface HandshakeOptions {
  readonly pattern: Pattern;
  readonly initiator: boolean;
  readonly prologue: Uint8Array;
  readonly aead: Aead;
  /** Raw bytes (vectors, tests) or a key held by platform crypto (a WebCrypto X25519 key). */
  readonly staticKey: KeyPair | StaticKey;
  /** Ephemeral key to use; injected by test vectors, otherwise generated from `random`. */
  readonly ephemeralKey?: KeyPair;
  readonly random?: (length: number) => Uint8Array;
  /** The peer's static public key, when a pre-message makes it known (NK's `<- s`). */
  readonly remoteStatic?: Uint8Array;
}

/** The result of a finished handshake: one CipherState per direction. */
export interface TransportKeys {
  readonly send: CipherState;
  readonly receive: CipherState;
  readonly handshakeHash: Uint8Array;
  /** The peer's static public key; null only where the pattern never sends it (NK's initiator). */
  readonly remoteStatic: Uint8Array | null;
}

/**
 * Runs one side of a handshake. Call `writeMessage`/`readMessage` in the pattern's order;
 * after the last message `isFinished()` is true and `split()` gives the transport keys.
 */
export class HandshakeState {
  private readonly symmetric: SymmetricState;
  private ephemeral: KeyPair | null;
  private remoteEphemeral: Uint8Array | null = null;
  private remoteStatic: Uint8Array | null;
  private index = 0;

  private constructor(private readonly options: HandshakeOptions) {
    this.symmetric = new SymmetricState(options.aead, `Noise_${options.pattern.name}_25519_AESGCM_SHA256`);
    this.ephemeral = options.ephemeralKey ?? null;
    this.remoteStatic = options.remoteStatic ?? null;
  }

  /** Initialize (Noise §5.3): hash the prologue and the pre-message keys. */
  static initialize(options: HandshakeOptions): HandshakeState {
    const state = new HandshakeState(options);
    state.symmetric.mixHash(options.prologue);
    for (const owner of options.pattern.preMessages) {
      const mine = (owner === 'initiator') === options.initiator;
      const key = mine ? options.staticKey.publicKey : options.remoteStatic;
      if (!key) throw new HandshakeError('the pattern needs the peer static key in advance');
      state.symmetric.mixHash(key);
    }
    return state;
  }

  isFinished(): boolean {
    return this.index >= this.options.pattern.messages.length;
  }

  /** Whether the next message is ours to write. */
  isMyTurn(): boolean {
    return (this.index % 2 === 0) === this.options.initiator;
  }

  handshakeHash(): Uint8Array {
    return this.symmetric.handshakeHash();
  }

  /** The peer's static public key once a message carrying it has been read. */
  remoteStaticKey(): Uint8Array | null {
    return this.remoteStatic;
  }

  async writeMessage(payload: Uint8Array): Promise<Uint8Array> {
    const tokens = this.nextTokens(true);
    const parts: Uint8Array[] = [];
    for (const token of tokens) {
      if (token === 'e') {
        this.ephemeral ??= this.generateEphemeral();
        parts.push(this.ephemeral.publicKey);
        this.symmetric.mixHash(this.ephemeral.publicKey);
      } else if (token === 's') {
        parts.push(await this.symmetric.encryptAndHash(this.options.staticKey.publicKey));
      } else {
        await this.mixDh(token);
      }
    }
    parts.push(await this.symmetric.encryptAndHash(payload));
    return concat(...parts);
  }

  async readMessage(message: Uint8Array): Promise<Uint8Array> {
    const tokens = this.nextTokens(false);
    let offset = 0;
    const take = (length: number): Uint8Array => {
      if (offset + length > message.length) {
        throw new HandshakeError(`handshake message of ${message.length} bytes is too short`);
      }
      const part = message.subarray(offset, offset + length);
      offset += length;
      return part;
    };
    try {
      for (const token of tokens) {
        if (token === 'e') {
          this.remoteEphemeral = take(DH_LEN).slice();
          this.symmetric.mixHash(this.remoteEphemeral);
        } else if (token === 's') {
          const length = DH_LEN + (this.symmetric.cipher.hasKey() ? TAG_LENGTH : 0);
          this.remoteStatic = await this.symmetric.decryptAndHash(take(length).slice());
        } else {
          await this.mixDh(token);
        }
      }
      return await this.symmetric.decryptAndHash(message.slice(offset));
    } catch (error) {
      if (error instanceof HandshakeError) throw error;
      throw new HandshakeError(`handshake message failed: ${(error as Error).message}`);
    }
  }

  async split(): Promise<TransportKeys> {
    if (!this.isFinished()) throw new HandshakeError('split before the handshake finished');
    const [c1, c2] = await this.symmetric.split();
    const initiator = this.options.initiator;
    return {
      send: initiator ? c1 : c2,
      receive: initiator ? c2 : c1,
      handshakeHash: this.symmetric.handshakeHash(),
      remoteStatic: this.remoteStatic,
    };
  }

  private nextTokens(writing: boolean): readonly Token[] {
    if (this.isFinished()) throw new HandshakeError('the handshake is already finished');
    if (this.isMyTurn() !== writing) {
      throw new HandshakeError(writing ? 'not our turn to write' : 'not our turn to read');
    }
    return this.options.pattern.messages[this.index++] as readonly Token[];
  }

  private generateEphemeral(): KeyPair {
    if (!this.options.random) throw new HandshakeError('no random source for the ephemeral key');
    return generateKeyPair(this.options.random);
  }

  private async mixDh(token: Token): Promise<void> {
    const initiator = this.options.initiator;
    const local = (mine: 'e' | 's'): KeyPair | StaticKey => {
      const key = mine === 'e' ? this.ephemeral : this.options.staticKey;
      if (!key) throw new HandshakeError(`missing local key for ${token}`);
      return key;
    };
    const remote = (theirs: 'e' | 's'): Uint8Array => {
      const key = theirs === 'e' ? this.remoteEphemeral : this.remoteStatic;
      if (!key) throw new HandshakeError(`missing remote key for ${token}`);
      return key;
    };
    // Token `xy`: x is the initiator's key, y the responder's.
    const [first, second] = [token[0] as 'e' | 's', token[1] as 'e' | 's'];
    const shared = initiator ? dhWith(local(first), remote(second)) : dhWith(local(second), remote(first));
    await this.symmetric.mixKey(await shared);
  }
}
