/**
 * What the composer sends, and the one content convention clients share (PROTOCOL.md §5): "a
 * `content` starting with `/me ` is an action: clients render `/me waves` from `sensei` as
 * `* sensei waves`". It is an ordinary MSG; the node never interprets it.
 */
export const ACTION_PREFIX = '/me ';
/** `/me` typed alone or followed by whitespace (not `/mega`). */
const ACTION_COMMAND = /^\/me(?:\s+|$)/;

/** The text of an action (`/me waves` gives `waves`), or null for an ordinary message. */
export function actionText(content: string): string | null {
  return content.startsWith(ACTION_PREFIX) ? content.slice(ACTION_PREFIX.length) : null;
}

/** Why a draft cannot be sent as typed (the UI words it). */
export type ComposeProblem = 'empty-action';

/** A draft turned into a `content` to send, or the reason it cannot be sent as typed. */
export type Composed = { readonly content: string } | { readonly problem: ComposeProblem };

/**
 * The content for a draft, or null when there is nothing to send. `/me text` becomes the action
 * convention's `/me text` (spaces after `/me` tidied); a bare `/me` has no action to show, so
 * it is refused with a hint instead of being sent as a plain "/me".
 */
export function composeText(draft: string): Composed | null {
  const text = draft.trim();
  if (!text) return null;
  const command = ACTION_COMMAND.exec(text);
  if (command) {
    const action = text.slice(command[0].length);
    return action ? { content: `${ACTION_PREFIX}${action}` } : { problem: 'empty-action' };
  }
  return { content: text };
}
