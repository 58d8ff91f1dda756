/**
 * ArTP over WebSocket (§1): port 7778, path `/artp`, subprotocol `artp.1`, one binary message
 * per ArTP message, no length prefix. Works with the global WebSocket of browsers and React
 * Native, or any WHATWG-compatible constructor (the `ws` package in Node tests).
 */

import type { Transport } from './transport';

export const WS_PATH = '/artp';
export const WS_SUBPROTOCOL = 'artp.1';
/** §1: a WebSocket text message is a protocol violation: close with 1003. */
const UNSUPPORTED_DATA = 1003;

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** `host:port` or a full ws(s):// URL into the node's ArTP endpoint URL. */
export function artpUrl(address: string, secure = false): string {
  if (/^wss?:\/\//.test(address)) return address;
  return `${secure ? 'wss' : 'ws'}://${address}${WS_PATH}`;
}

/** Open a WebSocket to the node; resolves once it is open. */
export function openWebSocket(
  url: string,
  WebSocketImpl: WebSocketConstructor = globalThis.WebSocket,
  timeoutMs = 10_000,
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocketImpl(url, WS_SUBPROTOCOL);
    socket.binaryType = 'arraybuffer';
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`could not reach ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`could not reach ${url}`));
    };
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(new WebSocketTransport(socket));
    };
  });
}

/** One open WebSocket as a `Transport`. */
export class WebSocketTransport implements Transport {
  private messageListener: ((message: Uint8Array) => void) | null = null;
  private closeListener: ((reason: string) => void) | null = null;
  private early: Uint8Array[] = [];
  private closedReason: string | null = null;

  constructor(private readonly socket: WebSocket) {
    socket.onmessage = (event: MessageEvent) => this.handleData(event.data);
    socket.onclose = (event: CloseEvent) => this.finish(`closed (${event.code})`);
    socket.onerror = () => this.finish('network error');
  }

  send(message: Uint8Array): void {
    if (this.closedReason === null) this.socket.send(message);
  }

  close(code = 1000): void {
    this.socket.close(code);
    this.finish('closed by us');
  }

  onMessage(listener: (message: Uint8Array) => void): void {
    this.messageListener = listener;
    for (const message of this.early.splice(0)) listener(message);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
    if (this.closedReason !== null) listener(this.closedReason);
  }

  private handleData(data: unknown): void {
    if (typeof data === 'string') {
      this.socket.close(UNSUPPORTED_DATA);
      this.finish('the node sent a text message');
      return;
    }
    const message = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data as ArrayBufferLike);
    if (this.messageListener) this.messageListener(message);
    else this.early.push(message);
  }

  private finish(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.closeListener?.(reason);
  }
}
