/**
 * The mention rule of PROTOCOL.md §14.5, mirroring `aronanet.proto.mentions`: the node counts
 * `mentions` with it and a client highlights with it, so both must agree on every message.
 *
 * A message mentions `name` when its content contains `@name` (case-insensitive) not followed
 * by a name character, or starts with `name:` or `name,` (case-insensitive). Case is folded in
 * ASCII only, as the node does: user names are ASCII, and JavaScript's Unicode lower-casing
 * would turn the Kelvin sign into `k`.
 */

/** §3: the characters of a user name. */
const NAME_CHARACTER = /[A-Za-z0-9_-]/;

export function mentions(content: string, name: string): boolean {
  if (!name) return false;
  const text = asciiLower(content);
  const wanted = asciiLower(name);
  const prefix = text.slice(0, wanted.length + 1);
  if (prefix === `${wanted}:` || prefix === `${wanted},`) return true;
  const needle = `@${wanted}`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const next = text.charAt(at + needle.length);
    if (next === '' || !NAME_CHARACTER.test(next)) return true;
  }
  return false;
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}
