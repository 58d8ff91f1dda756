/**
 * Who is typing where, in the chat state (§14.13): TYPING events add or remove a typist until
 * their time runs out, and an expiry pass forgets the ones whose time did. Never our own, never
 * cached (it is only ever "now"). Telling the others that the user types is state/typing.
 */
import { TYPING_EXPIRES_MS } from '../protocol/limits';
import type { TypingEvent } from '../protocol/messages';
import type { ChatState, Typist } from './chat';
import { eventConversation } from './conversations';
import { sameName } from './names';

export type TypingAction =
  /** §14.13: a TYPING event, at `now` (ms). */
  | { type: 'typingChanged'; event: TypingEvent; now: number }
  /** Forget the typists whose time ran out by `now` (ms). */
  | { type: 'typingExpired'; now: number };

export function typingReducer(state: ChatState, action: TypingAction): ChatState {
  switch (action.type) {
    case 'typingChanged': {
      const event = action.event;
      const me = state.user ?? '';
      if (sameName(event.from, me)) return state; // §14.13: never our own
      const conversation = eventConversation(state, event, me);
      if (!conversation) return state;
      const typists = typistsWithout(state.typing[conversation.key], event.from, action.now);
      if (event.typing) typists.push({ name: event.from, until: action.now + (event.expires_ms ?? TYPING_EXPIRES_MS) });
      return withTyping(state, conversation.key, typists);
    }
    case 'typingExpired': {
      let next = state;
      for (const [key, typists] of Object.entries(state.typing)) {
        const live = typists.filter((t) => t.until > action.now);
        if (live.length !== typists.length) next = withTyping(next, key, live);
      }
      return next;
    }
  }
}

/** Typists still typing at `now`, without `name`. */
function typistsWithout(typists: readonly Typist[] | undefined, name: string, now: number): Typist[] {
  return (typists ?? []).filter((t) => t.until > now && !sameName(t.name, name));
}

export function withTyping(state: ChatState, key: string, typists: readonly Typist[]): ChatState {
  const { [key]: _old, ...rest } = state.typing;
  return { ...state, typing: typists.length > 0 ? { ...rest, [key]: typists } : rest };
}
