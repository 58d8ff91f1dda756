/**
 * Reconnecting (state/community): when the link drops, one cycle over the community's
 * addresses, round-robin from the one that failed; the backoff waits only after a whole cycle
 * failed, and a failure no retry can fix (a changed node key, a refused device) stops the
 * retries and tells the user. A move to another address is told for a while ("Moved to h2").
 * The session does the connecting and signing in (`rejoin`); this decides when, and what
 * the link's status is meanwhile.
 */
import { ArtpError, KeyChangedError } from '../protocol/errors';
import type { Backoff } from './backoff';
import type { ChatAction, LinkProblem } from './chat';
import { type Community, firstReachable } from './community';
import type { ConnectResult } from './sessionTypes';

/** Long enough to be read, short enough not to become wallpaper. */
export const MOVED_NOTICE_MS = 15_000;

export interface ReconnectDeps {
  readonly nodes: Community;
  readonly dispatch: (action: ChatAction) => void;
  readonly backoff: Backoff;
  /** How long "Moved to h2" stays after a failover (ms). */
  readonly movedNoticeMs?: number;
  /** Whether the session has a link now. */
  readonly linked: () => boolean;
  /** Whether the session was closed for good. */
  readonly stopped: () => boolean;
  /** True from a reconnect's first byte until its outbox is flushed. */
  readonly recovering: () => boolean;
  readonly setRecovering: (recovering: boolean) => void;
  /** Connect to `address` and sign in again there. */
  readonly rejoin: (address: string) => Promise<ConnectResult>;
  /** Close the link, if any (a half-made one: connected, but sign-in, catch-up or the flush failed). */
  readonly dropLink: () => void;
}

export class Reconnector {
  /** A reconnect cannot succeed without the user (changed key, refused sign-in). */
  gaveUp = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private movedTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: ReconnectDeps) {}

  /** Whether retrying makes sense now: not linked, somewhere to go, not stopped or given up. */
  private get waiting(): boolean {
    return !this.deps.linked() && this.deps.nodes.addresses.length > 0 && !this.deps.stopped() && !this.gaveUp;
  }

  /** The network came back: reconnect now. */
  networkAvailable(): void {
    if (!this.waiting) return;
    this.cancel();
    this.deps.backoff.reset();
    void this.reconnect();
  }

  /** The network went away: no point retrying until it is back. */
  networkLost(): void {
    if (!this.waiting) return;
    this.cancel();
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
  }

  /** The link dropped (the session forgot it already). */
  linkLost(): void {
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    // Another node of the community may be up: try it at once; the backoff is for full cycles.
    if (this.deps.nodes.several) void this.reconnect();
    else this.schedule();
  }

  cancel(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  close(): void {
    this.cancel();
    if (this.movedTimer) clearTimeout(this.movedTimer);
  }

  /** A sign-in or reconnect failed: stop if no retry can help, else try again later. */
  failed(error: unknown): void {
    this.deps.dropLink();
    const problem = reconnectProblem(error);
    if (problem) {
      // Retrying cannot help: tell the user, and stop.
      this.gaveUp = true;
      this.deps.dispatch({ type: 'linkChanged', link: 'offline', problem });
      return;
    }
    this.deps.dispatch({ type: 'linkChanged', link: 'offline' });
    this.schedule();
  }

  private schedule(): void {
    if (this.retryTimer || this.deps.stopped() || this.gaveUp) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconnect();
    }, this.deps.backoff.next());
  }

  /**
   * One cycle over the community's addresses, round-robin from the one that failed (it is
   * tried last): connect, sign in, catch up, flush the outbox. The backoff waits only after
   * the whole cycle failed; a changed key or a refused device stops the retries.
   */
  private async reconnect(): Promise<void> {
    const { nodes } = this.deps;
    if (nodes.addresses.length === 0 || this.deps.linked() || this.deps.stopped() || this.deps.recovering()) return;
    this.deps.dispatch({ type: 'linkChanged', link: 'connecting' });
    this.deps.setRecovering(true); // what is typed meanwhile waits until the outbox went out
    const before = nodes.current;
    try {
      const several = nodes.several;
      const addresses = nodes.addresses; // the list of this cycle, whatever is learned meanwhile
      const { value } = await firstReachable(addresses, nodes.failoverOrder(), this.deps.rejoin, isFinal);
      this.deps.backoff.reset();
      this.deps.dispatch({ type: 'linkChanged', link: 'online' });
      if (several && value.address !== before) this.tellMoved(value.address);
    } catch (error) {
      this.failed(error);
    } finally {
      this.deps.setRecovering(false);
    }
  }

  /** "Moved to h2 — nothing was lost": said once the move is complete, for a while. */
  private tellMoved(address: string): void {
    if (this.movedTimer) clearTimeout(this.movedTimer);
    this.deps.dispatch({ type: 'nodeMoved', address });
    this.movedTimer = setTimeout(() => {
      this.movedTimer = null;
      this.deps.dispatch({ type: 'nodeMoved', address: null });
    }, this.deps.movedNoticeMs ?? MOVED_NOTICE_MS);
  }
}

/** A key other than the community's: no other address of the list may be tried instead. */
export function isKeyProblem(error: unknown): boolean {
  return error instanceof KeyChangedError || (error instanceof ArtpError && error.code === 'KEY_MISMATCH');
}

/** An error that ends a reconnect cycle: trying the next address cannot fix it. */
export function isFinal(error: unknown): boolean {
  return reconnectProblem(error) !== null;
}

/** A reason no retry can fix (the UI words it); null when trying again may work. */
function reconnectProblem(error: unknown): LinkProblem | null {
  if (error instanceof KeyChangedError) {
    return { kind: 'keyChanged', address: error.address, pinned: error.pinned, presented: error.presented };
  }
  if (error instanceof ArtpError && error.code === 'AUTH_FAILED') return { kind: 'signInRefused' };
  return null;
}
