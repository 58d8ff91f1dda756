/**
 * What the node says unasked, into the chat state: each event (§7, §14.6, §14.10-14.19) as its
 * action, and "typing…" (§14.13) forgotten when its time runs out. The session hands every
 * event of its link here; this is the one place that maps the protocol's events to actions.
 */
import type { ServerEvent } from '../protocol/client';
import { TYPING_EXPIRES_MS } from '../protocol/limits';
import type { ChatAction, ChatState } from './chat';

export class ServerEvents {
  private typingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly dispatch: (action: ChatAction) => void,
    private readonly getState: () => ChatState,
  ) {}

  handle(event: ServerEvent): void {
    if (event.type === 'MSG') this.dispatch({ type: 'messageReceived', message: event });
    else if (event.type === 'READ') {
      this.dispatch({ type: 'readMarked', destType: event.dest_type, dest: event.dest, read: event.read });
    } else if (event.type === 'JOIN' || event.type === 'PART' || event.type === 'TOPIC') {
      this.dispatch({ type: 'channelEvent', event });
    } else if (event.type === 'EDIT') {
      this.dispatch({ type: 'messageEdited', event });
    } else if (event.type === 'DELETE') {
      this.dispatch({ type: 'messageDeleted', event });
    } else if (event.type === 'REACTION') {
      this.dispatch({ type: 'reactionChanged', event });
    } else if (event.type === 'MODERATION') {
      this.dispatch({ type: 'moderated', event });
    } else if (event.type === 'TYPING') {
      this.dispatch({ type: 'typingChanged', event, now: Date.now() });
      this.expireTypingIn(event.expires_ms ?? TYPING_EXPIRES_MS);
    }
  }

  /** The session closed: no more expiry. */
  close(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
  }

  /** §14.13: "typing…" goes when its time runs out; one timer, for the soonest. */
  private expireTypingIn(ms: number): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const now = Date.now();
      this.dispatch({ type: 'typingExpired', now });
      const next = Object.values(this.getState().typing).flat().map((t) => t.until - now);
      if (next.length > 0) this.expireTypingIn(Math.max(50, Math.min(...next)));
    }, ms + 50);
  }
}
