/**
 * Telling the others that the user is typing (PROTOCOL.md §14.13): `typing: true` at most every
 * 3 s while the draft is non-empty and changing, `typing: false` once it is cleared or sent (only
 * if a true went out within the last 6 s: after that the others' "typing…" has expired anyway).
 * The clock is a parameter, so the throttle is tested without waiting.
 */
import { TYPING_EVERY_MS, TYPING_EXPIRES_MS } from '../protocol/limits';
import type { DestType } from '../protocol/messages';

export type SendTyping = (destType: DestType, dest: string, typing: boolean) => void;

export class TypingNotifier {
  /** Where the last `typing: true` went, and when. */
  private last: { destType: DestType; dest: string; at: number } | null = null;

  constructor(
    private readonly send: SendTyping,
    private readonly now: () => number = Date.now,
  ) {}

  /** The draft of `dest` is now `draft`. */
  changed(destType: DestType, dest: string, draft: string): void {
    if (!draft.trim()) {
      this.stopped();
      return;
    }
    const now = this.now();
    const same = this.last !== null && this.last.destType === destType && this.last.dest === dest;
    if (same && now - (this.last?.at ?? 0) < TYPING_EVERY_MS) return;
    if (!same) this.stopped(); // another conversation: the first one stops typing
    this.last = { destType, dest, at: now };
    this.send(destType, dest, true);
  }

  /** The draft was sent, cleared, or the conversation closed. */
  stopped(): void {
    const last = this.last;
    this.last = null;
    if (last && this.now() - last.at < TYPING_EXPIRES_MS) this.send(last.destType, last.dest, false);
  }
}
