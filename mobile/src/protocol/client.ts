/**
 * The ArTP client: request/reply by `id`, an event stream, image transfers.
 *
 * Sends are serialised (each takes the next nonce, and must hit the wire in that order), and
 * so are receives (each needs the next nonce). A frame that fails to decrypt is fatal (§2:
 * "the receiver MUST then close the connection"); a frame that decrypts but is not a valid
 * message is skipped, and fails the request it names with `re` if any.
 */

import { decodeServerMessages, encodeRequest, isRejection, type Rejection } from './codec';
import { ArtpError, LocalErrorCode } from './errors';
import { clientHandshake, type ClientHandshakeOptions } from './handshake';
import { enabledFeatures, type Feature } from './features';
import { CONTRACT_LIMITS } from './limits';
import { MessageQueue, type Transport } from './link';
import type { Hello, ImgData, Limits, Ok, Request, RequestBody, ServerMessage } from './messages';
import type { CipherState } from './noise';
import { type DownloadedImage, ImageDownload, type ImageUpload, uploadImage, type UploadOptions } from './transfers';

export const REQUEST_TIMEOUT_MS = 30_000;
const EMPTY = new Uint8Array(0);

/** What a server event listener receives: any message that is not a reply to a request. */
export type ServerEvent = Exclude<ServerMessage, Ok | Hello>;

/** HELLO's limits as a client relies on them: the contract's four, and the pixel extension. */
export type NodeLimits = Required<Pick<Limits, 'max_frame' | 'max_content' | 'chunk_size' | 'max_image'>> &
  Pick<Limits, 'max_image_pixels'>;

export interface ConnectOptions extends ClientHandshakeOptions {
  readonly transport: Transport;
  readonly requestTimeoutMs?: number;
}

interface Pending {
  onMessage(message: ServerMessage): boolean; // true when the request is complete
  fail(error: Error): void;
}

type Listener<T> = (value: T) => void;

export class ArtpClient {
  private readonly pending = new Map<string, Pending>();
  private readonly transferWatchers = new Map<string, (error: ArtpError) => void>();
  private readonly eventListeners = new Set<Listener<ServerEvent>>();
  private readonly closeListeners = new Set<Listener<string>>();
  private sendChain: Promise<void> = Promise.resolve();
  private receiveChain: Promise<void> = Promise.resolve();
  private nextId = 1;
  private closedReason: string | null = null;

  private constructor(
    private readonly transport: Transport,
    private readonly sendCipher: CipherState,
    private readonly receiveCipher: CipherState,
    readonly hello: Hello,
    readonly nodeFingerprint: string,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Handshake over an open transport; rejects (and closes it) on any handshake failure. */
  static async connect(options: ConnectOptions): Promise<ArtpClient> {
    const { transport } = options;
    const queue = new MessageQueue();
    let client: ArtpClient | null = null;
    transport.onMessage((message) => (client ? client.receive(message) : queue.push(message)));
    transport.onClose((reason) => (client ? client.shutDown(reason) : queue.close(reason)));
    try {
      const result = await clientHandshake({ send: (m) => transport.send(m), next: (t) => queue.next(t) }, options);
      client = new ArtpClient(
        transport,
        result.keys.send,
        result.keys.receive,
        result.hello,
        result.nodeFingerprint,
        options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      );
      // Anything the node sent right after the handshake waits in the queue.
      for (let m = queue.drain(); m; m = queue.drain()) client.receive(m);
      return client;
    } catch (error) {
      transport.close(); // §2: a failed handshake ends with the connection closed
      throw error;
    }
  }

  /**
   * The node's advertised limits (§2 HELLO), with the contract defaults filled in for the four
   * contract keys; `max_image_pixels` is an extension, so it stays absent when not advertised.
   */
  get limits(): NodeLimits {
    const advertised = this.hello.limits ?? {};
    return {
      max_frame: advertised.max_frame ?? CONTRACT_LIMITS.max_frame,
      max_content: advertised.max_content ?? CONTRACT_LIMITS.max_content,
      chunk_size: advertised.chunk_size ?? CONTRACT_LIMITS.chunk_size,
      max_image: advertised.max_image ?? CONTRACT_LIMITS.max_image,
      ...(advertised.max_image_pixels !== undefined ? { max_image_pixels: advertised.max_image_pixels } : {}),
    };
  }

  /** §14.1: the ArTP/1.1 features the node enabled on this session (empty on a 1.0 node). */
  get features(): ReadonlySet<Feature> {
    return enabledFeatures(this.hello);
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Send a request with a fresh `id`; resolves with its `OK`, rejects with `ArtpError`. */
  request(body: RequestBody, timeoutMs = this.requestTimeoutMs): Promise<Ok> {
    return new Promise<Ok>((resolve, reject) => {
      const id = this.allocateId();
      this.expect(id, timeoutMs, {
        onMessage: (message) => {
          if (message.type === 'OK') resolve(message);
          else if (message.type === 'PONG') resolve({ type: 'OK', re: message.re });
          else if (message.type === 'ERROR') reject(errorFromReply(message));
          else reject(new ArtpError('INVALID', `unexpected ${message.type} reply`));
          return true;
        },
        fail: reject,
      });
      this.sendOrFail(id, { ...body, id } as Request);
    });
  }

  /**
   * Send a request and hand every message answering it (`re`) to `onMessage` until that returns
   * true: for streams such as `IMG_GET`. Rejects with `ArtpError` on an `ERROR` reply.
   */
  stream(body: RequestBody, onMessage: (message: ServerMessage) => boolean, timeoutMs = this.requestTimeoutMs): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = this.allocateId();
      this.expect(id, timeoutMs, {
        onMessage: (message) => {
          if (message.type === 'ERROR') {
            reject(errorFromReply(message));
            return true;
          }
          try {
            const done = onMessage(message);
            if (done) resolve();
            return done;
          } catch (error) {
            reject(error as Error);
            return true;
          }
        },
        fail: reject,
      });
      this.sendOrFail(id, { ...body, id } as Request);
    });
  }

  /** Send a request that expects no reply (`PONG`, non-final `IMG_CHUNK`); resolves once sent. */
  send(request: Request): Promise<void> {
    const plaintext = encodeRequest(request);
    const sent = this.sendChain.then(async () => {
      if (this.closedReason !== null) throw new ArtpError(LocalErrorCode.CLOSED, this.closedReason);
      this.transport.send(await this.sendCipher.encryptWithAd(EMPTY, plaintext));
    });
    this.sendChain = sent.catch(() => undefined);
    return sent;
  }

  /** Upload an image in chunks (§4); progress counts what the node acknowledged holding. */
  uploadImage(upload: ImageUpload, options?: UploadOptions): Promise<Ok> {
    return uploadImage(this, upload, options);
  }

  /**
   * Download an image by its SHA-256 (§4), verifying the bytes against it. To resume after a
   * dropped link, keep an `ImageDownload` and run it again on the next connection.
   */
  downloadImage(image: string): Promise<DownloadedImage> {
    return new ImageDownload(image).run(this);
  }

  /** Fail fast on an `ERROR` that names `transfer` (§4: errors carry the transfer id). */
  watchTransfer(transfer: string, onError: (error: ArtpError) => void): () => void {
    this.transferWatchers.set(transfer, onError);
    return () => this.transferWatchers.delete(transfer);
  }

  onEvent(listener: Listener<ServerEvent>): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClose(listener: Listener<string>): () => void {
    this.closeListeners.add(listener);
    if (this.closedReason !== null) listener(this.closedReason);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    this.transport.close();
    this.shutDown('closed by the user');
  }

  allocateId(): string {
    return `r${this.nextId++}`;
  }

  /**
   * Wait for the replies to `id`. The timeout is one of inactivity: every reply restarts it, so
   * a stream (an `IMG_GET` of a large image on a slow link) fails only when the node falls
   * silent for `timeoutMs`, never because the whole stream takes longer than that.
   */
  private expect(id: string, timeoutMs: number, pending: Pending): void {
    let settled = false;
    const expire = () => {
      settled = true;
      this.pending.delete(id);
      pending.fail(new ArtpError(LocalErrorCode.TIMEOUT, `nothing from the node for ${timeoutMs} ms`));
    };
    let timer = setTimeout(expire, timeoutMs);
    this.pending.set(id, {
      onMessage: (message) => {
        clearTimeout(timer);
        const done = pending.onMessage(message);
        settled ||= done;
        // Not while settled: the link may have dropped while this very message was handled.
        if (!settled) timer = setTimeout(expire, timeoutMs);
        return done;
      },
      fail: (error) => {
        settled = true;
        clearTimeout(timer);
        pending.fail(error);
      },
    });
  }

  private sendOrFail(id: string, request: Request): void {
    try {
      this.send(request).catch((error: Error) => this.failPending(id, error));
    } catch (error) {
      this.failPending(id, new ArtpError('INVALID', (error as Error).message));
    }
  }

  private failPending(id: string, error: Error): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    pending?.fail(error);
  }

  private receive(ciphertext: Uint8Array): void {
    this.receiveChain = this.receiveChain.then(async () => {
      if (this.closedReason !== null) return;
      let plaintext: Uint8Array;
      try {
        plaintext = await this.receiveCipher.decryptWithAd(EMPTY, ciphertext);
      } catch (error) {
        // §2: a replayed, dropped, reordered or altered frame: the receiver MUST close.
        this.transport.close();
        this.shutDown(`decryption failed: ${(error as Error).message}`);
        return;
      }
      this.dispatch(plaintext);
    });
  }

  private dispatch(plaintext: Uint8Array): void {
    // §14.2: with `batch` a plaintext may hold several messages, handled in array order.
    for (const message of decodeServerMessages(plaintext)) this.handle(message);
  }

  private handle(message: ServerMessage | Rejection): void {
    if (isRejection(message)) {
      if (message.re) this.failPending(message.re, new ArtpError('INVALID', `bad reply: ${message.reason}`));
      return;
    }
    const re = 're' in message ? message.re : undefined;
    const pending = re !== undefined ? this.pending.get(re) : undefined;
    if (re !== undefined && pending) {
      if (pending.onMessage(message)) this.pending.delete(re);
      return;
    }
    if (message.type === 'ERROR' && message.transfer !== undefined) {
      this.transferWatchers.get(message.transfer)?.(errorFromReply(message));
      return;
    }
    if (message.type === 'PING') {
      // The node's idle probe: "the client answers PONG with re".
      this.send({ type: 'PONG', re: message.id }).catch(() => undefined);
    }
    if (message.type !== 'OK' && message.type !== 'HELLO') {
      for (const listener of this.eventListeners) listener(message);
    }
  }

  private shutDown(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    const error = new ArtpError(LocalErrorCode.CLOSED, reason);
    for (const pending of this.pending.values()) pending.fail(error);
    this.pending.clear();
    for (const watcher of this.transferWatchers.values()) watcher(error);
    this.transferWatchers.clear();
    for (const listener of this.closeListeners) listener(reason);
  }
}

function errorFromReply(reply: Extract<ServerMessage, { type: 'ERROR' }>): ArtpError {
  const extra: Record<string, unknown> = {};
  if (reply.transfer !== undefined) extra.transfer = reply.transfer;
  if (reply.retry_after_ms !== undefined) extra.retry_after_ms = reply.retry_after_ms;
  return new ArtpError(reply.code, reply.message, extra);
}

export type { ImgData };
