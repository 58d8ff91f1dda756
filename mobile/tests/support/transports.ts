/**
 * Transports that misbehave on purpose, wrapped around a real one: a link that drops at a
 * chosen moment, and a link that delivers slowly. The node on the other end is real.
 */
import type { Transport } from '../../src/transport/transport';

/** A link the test cuts at an exact point: nothing more is delivered, and `onClose` fires at once. */
export class SeverableTransport implements Transport {
  private closeListener: (reason: string) => void = () => undefined;
  private severed = false;

  constructor(private readonly inner: Transport) {
    inner.onClose((reason) => this.closed(reason));
  }

  /** Drop the link now, as a lost network would (the node learns of it when the socket closes). */
  sever(): void {
    this.inner.close();
    this.closed('severed by the test');
  }

  send(message: Uint8Array): void {
    if (!this.severed) this.inner.send(message);
  }

  close(): void {
    this.inner.close();
  }

  onMessage(listener: (message: Uint8Array) => void): void {
    this.inner.onMessage((message) => {
      if (!this.severed) listener(message);
    });
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }

  private closed(reason: string): void {
    if (this.severed) return;
    this.severed = true;
    this.closeListener(reason);
  }
}

/** A link that, once `slow` is set, hands over each received message `delayMs` after the previous one. */
export class SlowTransport implements Transport {
  slow = false;
  private delivered: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: Transport,
    private readonly delayMs: number,
  ) {}

  send(message: Uint8Array): void {
    this.inner.send(message);
  }

  close(): void {
    this.inner.close();
  }

  onMessage(listener: (message: Uint8Array) => void): void {
    this.inner.onMessage((message) => {
      if (!this.slow) {
        listener(message);
        return;
      }
      this.delivered = this.delivered.then(() => pause(this.delayMs)).then(() => listener(message));
    });
  }

  onClose(listener: (reason: string) => void): void {
    this.inner.onClose(listener);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
