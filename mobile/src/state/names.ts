/**
 * Names as the contract compares them (§3: user names are case-insensitive; channel names are
 * lower case by pattern), and the one place a conversation's title is made.
 */
import type { DestType } from '../protocol/messages';

/** §3: two user names are the same user when they match ignoring case. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Case-insensitive order, as §6 JOIN sorts `members`. */
export function compareNames(a: string, b: string): number {
  return a.toLowerCase().localeCompare(b.toLowerCase());
}

/** What a conversation is called on screen: `#channel`, or `@user` for direct messages. */
export function conversationTitle(conversation: { readonly destType: DestType; readonly dest: string }): string {
  return conversation.destType === 'channel' ? conversation.dest : `@${conversation.dest}`;
}
