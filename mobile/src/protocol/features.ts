/**
 * ArTP/1.1 feature negotiation (PROTOCOL.md §14.1). The client names the features it wants in
 * the clear payload of handshake message 1; HELLO answers with those the node enabled (asked AND
 * supported). A node that sends no `features` is an ArTP/1.0 node: nothing is enabled.
 */
import { utf8 } from './bytes';

export type Feature = 'sync' | 'batch' | 'lifecycle' | 'moderation';

/**
 * What this client asks for, in one place: it reads node messages that are JSON arrays (§14.2),
 * the EDIT, DELETE, REACTION and TYPING events (§14.9-14.15) and MODERATION (§14.16-14.21).
 */
export const CLIENT_FEATURES: readonly Feature[] = ['batch', 'sync', 'lifecycle', 'moderation'];

/** §14.1: handshake message 1's payload, `{"client": "<name/version>", "features": [...]}`. */
export function greetingPayload(clientName: string | undefined, features: readonly string[]): Uint8Array {
  if (!clientName && features.length === 0) return new Uint8Array(0);
  const greeting: { client?: string; features?: readonly string[] } = {};
  if (clientName) greeting.client = clientName;
  if (features.length > 0) greeting.features = features;
  return utf8(JSON.stringify(greeting));
}

/** The features enabled on a session, from HELLO (§14.1: absent on a 1.0 node means none).
 * Typed as `Feature`, so a misspelt name in a check is a compile error; a name this client
 * does not know (which it never asked for) is left out. */
export function enabledFeatures(hello: { readonly features?: readonly string[] }): ReadonlySet<Feature> {
  return new Set((hello.features ?? []).filter(isFeature));
}

function isFeature(name: string): name is Feature {
  return (KNOWN_FEATURES as readonly string[]).includes(name);
}

const KNOWN_FEATURES: readonly Feature[] = ['sync', 'batch', 'lifecycle', 'moderation'];
