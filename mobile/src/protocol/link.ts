/**
 * The one interface between the protocol client and the network: whole ArTP messages in and
 * out (a WebSocket message, or a frame off a TCP stream). The protocol library only knows this
 * interface; `transport/` implements it (protocol never imports transport). Implementations
 * deliver messages in order and call `onClose` exactly once.
 */
export interface Transport {
  send(message: Uint8Array): void;
  close(): void;
  onMessage(listener: (message: Uint8Array) => void): void;
  onClose(listener: (reason: string) => void): void;
}

/** A buffer of received messages for the handshake, which reads them one at a time. */
export class MessageQueue {
  private readonly messages: Uint8Array[] = [];
  private waiter: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  private closedReason: string | null = null;

  push(message: Uint8Array): void {
    if (this.waiter) {
      this.waiter.resolve(message);
      this.waiter = null;
    } else {
      this.messages.push(message);
    }
  }

  close(reason: string): void {
    this.closedReason = reason;
    this.waiter?.reject(new Error(`connection closed: ${reason}`));
    this.waiter = null;
  }

  /** Take a buffered message without waiting, if there is one. */
  drain(): Uint8Array | undefined {
    return this.messages.shift();
  }

  /** The next message; rejects when the transport closes or `timeoutMs` passes. */
  next(timeoutMs: number): Promise<Uint8Array> {
    const ready = this.messages.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closedReason !== null) return Promise.reject(new Error(`connection closed: ${this.closedReason}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }
}
